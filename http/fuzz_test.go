package http

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

func TestDecodeDraftJSON(t *testing.T) {
	c, ps, err := DecodeDraftJSON([]byte(`{
		"precedence": "o", "classification": "secret", "captions": ["nodis"], "handling": ["no paraphrase"],
		"to": [{"station": " state ", "role": "ACTION"}], "tags": ["PREL"], "subject": "S",
		"references": ["STATE 284", {"text": "LONDON 17", "id": "ignored"}],
		"paragraphs": [{"classification": "(S)", "text": "a"}, {"number": 5, "classification": "UNCLASSIFIED", "text": "b"}],
		"signature": "K", "authority": {"classified_by": "K", "reason": "1.4 (d)", "declassify_on": "25X1"}}`))
	if err != nil || len(ps) != 0 {
		t.Fatalf("err %v, problems %v", err, ps)
	}
	if c.Precedence != cable.Immediate || c.Classification != cable.Secret || c.Captions[0] != cable.NODIS ||
		c.Handling[0] != cable.NoParaphraseNecessary || c.To[0] != (cable.Addressee{Station: "STATE", Role: cable.RoleAction}) {
		t.Errorf("markings or addressees: %+v", c)
	}
	if len(c.References) != 2 || c.References[1] != (cable.Reference{Text: "LONDON 17"}) {
		t.Errorf("references %+v", c.References)
	}
	if c.Paragraphs[0].Number != 1 || c.Paragraphs[0].Classification != cable.Secret || c.Paragraphs[1].Number != 5 {
		t.Errorf("paragraphs %+v", c.Paragraphs)
	}
	if c.Authority.DeclassifyOn.Exemption != "25X1" {
		t.Errorf("authority %+v", c.Authority)
	}

	_, ps, err = DecodeDraftJSON([]byte(`{"subject": 7, "to": "STATE", "paragraphs": {}, "references": [3], "captions": ["X", "NODIS"], "id": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	if got := strings.Join(fields, " "); got != "captions[0] to subject references[0] paragraphs" {
		t.Errorf("problem fields: %s", got)
	}
}

func FuzzDecodeDraftJSON(f *testing.F) {
	valid, _ := json.Marshal(validDraft())
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"paragraphs": [{"classification": "TS", "text": "x"}], "references": ["STATE 1", {"text": "x"}]}`))
	f.Add([]byte(`{"authority": {"declassify_on": "50X1-HUM, 2071-02-22"}, "to": [{"station": "a", "role": "INFO"}]}`))
	f.Add([]byte(`{"subject": "\u00e9\ud800", "tags": null, "captions": [1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ps, err := DecodeDraftJSON(data)
		if err != nil {
			if c != nil || ps != nil {
				t.Fatal("an unreadable body also returned a draft")
			}
			return
		}
		if c == nil {
			t.Fatal("nil draft without error")
		}
		for _, p := range ps {
			if p.Field == "" || p.Message == "" {
				t.Fatalf("problem without field or message: %+v", p)
			}
		}
		if len(ps) > 0 || !c.Precedence.Valid() || !c.Classification.Valid() {
			return
		}
		for _, p := range c.Paragraphs {
			if !p.Classification.Valid() {
				return
			}
		}
		// A draft read without problems reads back the same from its JSON.
		b1, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, ps2, err := DecodeDraftJSON(b1)
		if err != nil || len(ps2) > 0 {
			t.Fatalf("re-reading %s: %v %v", b1, err, ps2)
		}
		b2, _ := json.Marshal(c2)
		if string(b1) != string(b2) {
			t.Fatalf("round trip differs:\n%s\n%s", b1, b2)
		}
	})
}

func FuzzParseDraftForm(f *testing.F) {
	f.Add(validForm().Encode())
	f.Add("paragraph_classification=S&paragraph_classification=TS&paragraph_text=a")
	f.Add("classification=SECRET&paragraph_text=x&paragraph_classification=U&reason=z&declassify_kind=exemption&declassify_exemption=25X1")
	f.Add("niact=1&handling=NOFORN&captions=nodis&action=STATE&info=STATE&tags=861.00,+PREL&declassify_date=02/22/2036")
	f.Fuzz(func(t *testing.T, query string) {
		v, _ := url.ParseQuery(query)
		form := parseDraftForm(v)
		c, ps := form.draft("MOSCOW")
		if c.Classification < c.HighestPortion() {
			t.Fatalf("whole %v below its highest paragraph %v", c.Classification, c.HighestPortion())
		}
		for i, p := range c.Paragraphs {
			if p.Number != i+1 || strings.TrimSpace(p.Text) == "" {
				t.Fatalf("paragraph %d: %+v", i, p)
			}
		}
		if c.Classification.Classified() && c.Authority == nil {
			t.Fatal("classified draft without authority block")
		}
		for _, p := range ps {
			if formKey(p.Field, c) == "" {
				t.Fatalf("problem %q has no place on the form", p.Field)
			}
		}
	})
}

func FuzzPrefersText(f *testing.F) {
	for _, s := range []string{"", "text/plain", "application/json, text/plain;q=0.9", "text/plain;q=abc", "*/*;q=0.1, text/plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		if prefersText(accept) && !strings.Contains(strings.ToLower(accept), "text/plain") {
			t.Fatalf("prefersText(%q) without text/plain", accept)
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/inbox", "//evil", "/\\evil", "https://x", "/a?b=c#d", "/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		u, err := url.Parse(got)
		if err != nil || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || u.Host != "" || u.Scheme != "" || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
