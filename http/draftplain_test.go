package http

import (
	"encoding/json"
	"reflect"
	"testing"

	cable "github.com/cable-archive/cable"
)

// plainSeeds are drafts as clients send them: Go's encoding/json (which
// writes <, > and & as \u escapes), a client that writes every character
// outside ASCII as an escape, a surrogate pair, and UTF-8 as it is.
func plainSeeds(t testing.TB) [][]byte {
	t.Helper()
	short, err := json.Marshal(validDraft())
	if err != nil {
		t.Fatal(err)
	}
	long, err := json.Marshal(longDraft())
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{short, long,
		[]byte(`{"subject": "Caf\u00e9 & <b>\ud83d\ude00</b>", "tags": [], "to": [{"station": " state ", "role": "ACTION"}],
			"paragraphs": [{"text": "a\n\tb \"c\" \\ \/", "classification": "(S)", "number": 3}, {"text": "second", "number": 0}],
			"references": ["STATE 284", {"text": "LONDON 17", "id": "2026LONDON00017"}], "precedence": "o", "classification": "secret",
			"captions": ["nodis"], "handling": ["NIACT"], "signature": "KENNAN",
			"authority": {"order": "EO 13526", "classified_by": "K", "reason": "1.4 (d)", "declassify_on": "25X1"}}` + "\n"),
		[]byte(`{"subject":"Moskva — Москва","station":"MOSCOW"}`),
		[]byte(`{}`),
	}
}

// TestReadPlainDraft checks that the drafts clients send are read in one
// pass, and read as encoding/json reads them.
func TestReadPlainDraft(t *testing.T) {
	for _, data := range plainSeeds(t) {
		got, ok := readPlainDraft(data)
		if !ok {
			t.Errorf("not read as a plain draft: %s", data)
			continue
		}
		samePlainDraft(t, data, got)
	}
	// Each of these is left to encoding/json, which names its problem.
	for _, data := range []string{
		``, `null`, `[]`, `{"subject": "a"} x`, `{"subject": "a",}`, `{"subject": null}`,
		`{"subject": "a", "subject": "b"}`, `{"id": "2026MOSCOW00001"}`, `{"Subject": "a"}`,
		`{"precedence": "SLOW"}`, `{"captions": ["NODIS", "X"]}`, `{"subject": "\x01"}`,
		`{"subject": "\u12"}`, `{"subject": "a\xffb"}`, `{"paragraphs": [{"number": 1.5}]}`,
		`{"paragraphs": [{"number": 01}]}`, `{"paragraphs": [{"number": 1e2}]}`,
		`{"to": [{"station": "STATE", "Role": "action"}]}`, `{"references": [7]}`,
		`{"authority": {"declassify_on": "2036-02-31"}}`, `{"tags": "PREL"}`,
	} {
		if c, ok := readPlainDraft([]byte(data)); ok {
			t.Errorf("%s read as a plain draft: %+v", data, c)
		}
	}
}

// samePlainDraft fails t unless encoding/json reads data as the draft
// the plain reader read, without problems.
func samePlainDraft(t testing.TB, data []byte, plain *cable.Cable) {
	t.Helper()
	want, ps, err := decodeDraftJSON(data)
	if err != nil || len(ps) > 0 {
		t.Fatalf("read as a plain draft, but encoding/json finds %v %v in %q", err, ps, data)
	}
	if !reflect.DeepEqual(plain, want) {
		got, _ := json.Marshal(plain)
		exp, _ := json.Marshal(want)
		t.Fatalf("plain reader and encoding/json differ on %q:\n%s\n%s", data, got, exp)
	}
}

// FuzzReadPlainDraft checks that whatever the plain reader reads,
// encoding/json reads the same, without problems.
func FuzzReadPlainDraft(f *testing.F) {
	for _, data := range plainSeeds(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"subject": "\ud800\u0041 \udc00 \ud83d\ude00\ud83d"}`))
	f.Add([]byte(`{"paragraphs": [{"number": -0, "classification": "", "text": "x", "text": "y"}, {"number": 5, "number": 0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, ok := readPlainDraft(data); ok {
			samePlainDraft(t, data, c)
		}
	})
}
