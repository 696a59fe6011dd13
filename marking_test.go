package cable_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

func TestParseClassification(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cable.Classification
	}{
		{"UNCLASSIFIED", cable.Unclassified}, {"unclassified", cable.Unclassified}, {"U", cable.Unclassified}, {"UNCLAS", cable.Unclassified},
		{"LIMITED OFFICIAL USE", cable.LimitedOfficialUse}, {"limited  official\tuse", cable.LimitedOfficialUse},
		{"LOU", cable.LimitedOfficialUse}, {"SBU", cable.LimitedOfficialUse}, {"Sensitive But Unclassified", cable.LimitedOfficialUse},
		{"UNCLASSIFIED//SBU", cable.LimitedOfficialUse},
		{"CONFIDENTIAL", cable.Confidential}, {"c", cable.Confidential},
		{"SECRET", cable.Secret}, {" Secret ", cable.Secret}, {"S", cable.Secret},
		{"TOP SECRET", cable.TopSecret}, {"Top Secret", cable.TopSecret}, {"TS", cable.TopSecret},
	} {
		got, err := cable.ParseClassification(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseClassification(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "SECRETS", "TOPSECRET", "RESTRICTED", "(S)", "NOFORN", "SECRET NOFORN"} {
		if got, err := cable.ParseClassification(bad); cable.ErrorCode(err) != cable.EINVALID || got != 0 {
			t.Errorf("ParseClassification(%q) = %v, %v; want EINVALID", bad, got, err)
		}
	}
}

func TestClassification(t *testing.T) {
	want := []struct {
		name, mark string
		classified bool
	}{
		{"UNCLASSIFIED", "U", false},
		{"LIMITED OFFICIAL USE", "SBU", false},
		{"CONFIDENTIAL", "C", true},
		{"SECRET", "S", true},
		{"TOP SECRET", "TS", true},
	}
	cs := cable.Classifications()
	if len(cs) != len(want) {
		t.Fatalf("Classifications() has %d, want %d", len(cs), len(want))
	}
	for i, c := range cs {
		if i > 0 && !(cs[i-1] < c) {
			t.Errorf("%v is not above %v", c, cs[i-1])
		}
		if !c.Valid() || c.String() != want[i].name || c.PortionMark() != want[i].mark || c.Classified() != want[i].classified {
			t.Errorf("%d: valid %v string %q mark %q classified %v", i, c.Valid(), c.String(), c.PortionMark(), c.Classified())
		}
		if back, err := cable.ParseClassification(c.String()); err != nil || back != c {
			t.Errorf("ParseClassification(%q) = %v, %v", c.String(), back, err)
		}
		for _, mark := range []string{c.PortionMark(), "(" + c.PortionMark() + ")", " (" + strings.ToLower(c.PortionMark()) + ") "} {
			if back, err := cable.ParsePortionMark(mark); err != nil || back != c {
				t.Errorf("ParsePortionMark(%q) = %v, %v", mark, back, err)
			}
		}
		b, err := c.MarshalText()
		if err != nil || string(b) != want[i].name {
			t.Errorf("MarshalText = %q, %v", b, err)
		}
		var u cable.Classification
		if err := u.UnmarshalText(b); err != nil || u != c {
			t.Errorf("UnmarshalText(%q) = %v, %v", b, u, err)
		}
	}
	if lou, err := cable.ParsePortionMark("(LOU)"); err != nil || lou != cable.LimitedOfficialUse {
		t.Errorf("ParsePortionMark(LOU) = %v, %v", lou, err)
	}
	for _, bad := range []string{"", "()", "(X)", "(SECRET)", "((S))"} {
		if _, err := cable.ParsePortionMark(bad); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("ParsePortionMark(%q) error = %v", bad, err)
		}
	}
	for _, bad := range []cable.Classification{0, 6, -1} {
		if bad.Valid() || bad.PortionMark() != "" || !strings.HasPrefix(bad.String(), "Classification(") {
			t.Errorf("%d: valid %v mark %q string %q", int(bad), bad.Valid(), bad.PortionMark(), bad.String())
		}
		if _, err := bad.MarshalText(); err == nil {
			t.Errorf("MarshalText of %d succeeded", int(bad))
		}
	}
	u := cable.Secret
	if err := u.UnmarshalText([]byte("SECRETISH")); err == nil || u != cable.Secret {
		t.Errorf("UnmarshalText of junk: err %v, value changed to %v", err, u)
	}
}

func TestPrecedence(t *testing.T) {
	ps := cable.Precedences()
	names := []string{"FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"}
	prosigns := []string{"Z", "O", "P", "R"}
	if len(ps) != 4 {
		t.Fatalf("Precedences() = %v", ps)
	}
	for i, p := range ps {
		if i > 0 && !(ps[i-1] < p) {
			t.Errorf("%v does not sort before %v", ps[i-1], p)
		}
		if !p.Valid() || p.String() != names[i] || p.Prosign() != prosigns[i] {
			t.Errorf("%d: %v %q %q", i, p.Valid(), p.String(), p.Prosign())
		}
		for _, s := range []string{names[i], strings.ToLower(names[i]), prosigns[i], " " + strings.ToLower(prosigns[i]) + " "} {
			if got, err := cable.ParsePrecedence(s); err != nil || got != p {
				t.Errorf("ParsePrecedence(%q) = %v, %v", s, got, err)
			}
		}
		b, err := p.MarshalText()
		if err != nil || string(b) != names[i] {
			t.Errorf("MarshalText = %q, %v", b, err)
		}
		var q cable.Precedence
		if err := q.UnmarshalText([]byte(prosigns[i])); err != nil || q != p {
			t.Errorf("UnmarshalText(%q) = %v, %v", prosigns[i], q, err)
		}
	}
	if got, err := cable.ParsePrecedence("IMMED"); err != nil || got != cable.Immediate {
		t.Errorf("ParsePrecedence(IMMED) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "URGENT", "X", "FLASH OVERRIDE"} {
		if _, err := cable.ParsePrecedence(bad); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("ParsePrecedence(%q) error = %v", bad, err)
		}
	}
	var zero cable.Precedence
	if zero.Valid() || zero.Prosign() != "" || zero.String() != "Precedence(0)" {
		t.Errorf("zero precedence: %v %q %q", zero.Valid(), zero.Prosign(), zero.String())
	}
	if _, err := zero.MarshalText(); err == nil {
		t.Error("MarshalText of the zero precedence succeeded")
	}
}

func TestCaptions(t *testing.T) {
	for _, c := range cable.AllCaptions() {
		if !c.Valid() {
			t.Errorf("%q is not valid", c)
		}
		for _, s := range []string{string(c), strings.ToLower(string(c)), " " + string(c) + "\t"} {
			if got, err := cable.ParseCaption(s); err != nil || got != c {
				t.Errorf("ParseCaption(%q) = %q, %v", s, got, err)
			}
		}
	}
	for _, bad := range []string{"", "NOFORN", "NO DIS", "EYES ONLY"} {
		if got, err := cable.ParseCaption(bad); cable.ErrorCode(err) != cable.EINVALID || got != "" {
			t.Errorf("ParseCaption(%q) = %q, %v", bad, got, err)
		}
	}

	// Each caption has its own bit; unknown captions have none.
	seen := int64(0)
	for _, c := range cable.AllCaptions() {
		m := cable.CaptionMask([]cable.Caption{c})
		if m == 0 || m&(m-1) != 0 || m&seen != 0 {
			t.Errorf("mask of %s = %b", c, m)
		}
		seen |= m
	}
	if cable.CaptionMask(cable.AllCaptions()) != seen || cable.CaptionMask([]cable.Caption{"ROGER"}) != 0 || cable.CaptionMask(nil) != 0 {
		t.Error("caption masks do not combine")
	}
	// A reader may see a cable when mask(cable) &^ mask(reader) == 0.
	cableMask := cable.CaptionMask([]cable.Caption{cable.NODIS, cable.STADIS})
	if cableMask&^cable.CaptionMask([]cable.Caption{cable.NODIS}) == 0 || cableMask&^cable.CaptionMask(cable.AllCaptions()) != 0 {
		t.Error("caption mask filter is wrong")
	}

	got := cable.SortCaptions([]cable.Caption{cable.STADIS, "ROGER", cable.NODIS, cable.STADIS, cable.EXDIS})
	if want := []cable.Caption{cable.NODIS, cable.EXDIS, cable.STADIS}; !slices.Equal(got, want) {
		t.Errorf("SortCaptions = %q, want %q", got, want)
	}
}

func TestHandling(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cable.Handling
	}{
		{"NIACT", cable.NIACT}, {"niact", cable.NIACT}, {"NOFORN", cable.NOFORN},
		{"NO PARAPHRASE NECESSARY", cable.NoParaphraseNecessary},
		{"No  paraphrase\tnecessary", cable.NoParaphraseNecessary},
		{"no paraphrase", cable.NoParaphraseNecessary},
	} {
		if got, err := cable.ParseHandling(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseHandling(%q) = %q, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"", "NODIS", "NO PARAPHRASE NEEDED", "NO-FORN"} {
		if got, err := cable.ParseHandling(bad); cable.ErrorCode(err) != cable.EINVALID || got != "" {
			t.Errorf("ParseHandling(%q) = %q, %v", bad, got, err)
		}
	}
	for _, h := range cable.AllHandling() {
		if !h.Valid() {
			t.Errorf("%q is not valid", h)
		}
	}
	if cable.Handling("EYES ONLY").Valid() {
		t.Error("EYES ONLY is valid")
	}
	got := cable.SortHandling([]cable.Handling{cable.NoParaphraseNecessary, "EYES ONLY", cable.NIACT, cable.NoParaphraseNecessary})
	if want := []cable.Handling{cable.NIACT, cable.NoParaphraseNecessary}; !slices.Equal(got, want) {
		t.Errorf("SortHandling = %q, want %q", got, want)
	}
}

// fullCable returns a cable with every field set, as a receiving station sees it.
func fullCable() *cable.Cable {
	c := validCable()
	c.Captions = []cable.Caption{cable.EXDIS, cable.STADIS}
	c.Handling = []cable.Handling{cable.NIACT, cable.NOFORN, cable.NoParaphraseNecessary}
	c.References = []cable.Reference{{Text: "STATE 284", ID: "1946STATE00284"}, {Text: "MOSCOW 400"}}
	c.Authority.Order = "13526"
	c.Authority.DeclassifyOn = cable.DeclassifyOn{Exemption: "50X1-HUM", Date: date(2021, time.February, 22)}
	c.Received = &cable.Receipt{Station: "STATE", At: time.Date(1946, time.February, 22, 20, 52, 0, 0, time.UTC), ControlNumber: "8963"}
	c.Distribution = &cable.Distribution{Action: "EUR", Info: []string{"S", "DC/R"}}
	return c
}

// jsonKeys returns the sorted keys of a JSON object.
func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not a JSON object", v)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestCableJSON checks the JSON form of a cable with every field set
// against the field names of DESIGN.md, and that it reads back unchanged.
func TestCableJSON(t *testing.T) {
	c := fullCable()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	check := func(where string, v any, want ...string) {
		t.Helper()
		sort.Strings(want)
		if got := jsonKeys(t, v); !slices.Equal(got, want) {
			t.Errorf("%s keys = %q, want %q", where, got, want)
		}
	}
	check("cable", doc, "id", "station", "serial", "dtg", "precedence", "classification", "captions", "handling",
		"to", "tags", "subject", "references", "paragraphs", "signature", "authority", "received", "distribution")
	check("to[0]", doc["to"].([]any)[0], "station", "role")
	check("paragraphs[0]", doc["paragraphs"].([]any)[0], "number", "classification", "text")
	check("authority", doc["authority"], "order", "classified_by", "reason", "declassify_on")
	check("received", doc["received"], "station", "at", "control_number")
	check("distribution", doc["distribution"], "action", "info")
	check("references[0]", doc["references"].([]any)[0], "text", "id")

	// Markings are written as words, times as RFC 3339.
	for key, want := range map[string]any{
		"id": "1946MOSCOW00511", "station": "MOSCOW", "serial": 511.0, "dtg": "1946-02-22T18:00:00Z",
		"precedence": "IMMEDIATE", "classification": "SECRET", "signature": "KENNAN",
	} {
		if doc[key] != want {
			t.Errorf("%s = %#v, want %#v", key, doc[key], want)
		}
	}
	if got := doc["captions"]; !reflect.DeepEqual(got, []any{"EXDIS", "STADIS"}) {
		t.Errorf("captions = %v", got)
	}
	if got := doc["handling"]; !reflect.DeepEqual(got, []any{"NIACT", "NOFORN", "NO PARAPHRASE NECESSARY"}) {
		t.Errorf("handling = %v", got)
	}
	if got := doc["to"].([]any)[1]; !reflect.DeepEqual(got, map[string]any{"station": "LONDON", "role": "info"}) {
		t.Errorf("to[1] = %v", got)
	}
	if got := doc["paragraphs"].([]any)[0]; !reflect.DeepEqual(got, map[string]any{"number": 1.0, "classification": "CONFIDENTIAL", "text": "The answer comes in five parts."}) {
		t.Errorf("paragraphs[0] = %v", got)
	}
	if got := doc["authority"].(map[string]any); got["declassify_on"] != "50X1-HUM, 2021-02-22" || got["reason"] != "1.4 (B) AND (D)" {
		t.Errorf("authority = %v", got)
	}
	if got := doc["received"].(map[string]any); got["at"] != "1946-02-22T20:52:00Z" || got["control_number"] != "8963" {
		t.Errorf("received = %v", got)
	}
	if got := doc["distribution"]; !reflect.DeepEqual(got, map[string]any{"action": "EUR", "info": []any{"S", "DC/R"}}) {
		t.Errorf("distribution = %v", got)
	}

	var back cable.Cable
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Fatalf("JSON round trip changed the cable:\n got %+v\nwant %+v", back, *c)
	}
	again, _ := json.Marshal(&back)
	if !bytes.Equal(again, b) {
		t.Fatalf("second marshal differs:\n%s\n%s", again, b)
	}
}

func TestCableJSONDraft(t *testing.T) {
	// A draft has no identifier, serial, date-time group, receipt or distribution.
	c := validCable()
	c.ID, c.Serial, c.DTG, c.Captions, c.Handling, c.References = "", 0, time.Time{}, nil, nil, nil
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	for _, k := range []string{"id", "serial", "dtg", "captions", "handling", "references", "received", "distribution"} {
		if _, ok := doc[k]; ok {
			t.Errorf("draft JSON carries %q: %s", k, b)
		}
	}
	// An invalid marking cannot be written.
	c.Classification = 0
	if _, err := json.Marshal(c); err == nil {
		t.Error("a cable without classification marshals")
	}
}

func TestCableJSONReadsOtherForms(t *testing.T) {
	src := `{"station":"MOSCOW","precedence":"O","classification":"secret","captions":["EXDIS"],
		"to":[{"station":"STATE","role":"action"}],"subject":"s","paragraphs":[{"number":1,"classification":"S","text":"t"}],
		"signature":"K","authority":{"classified_by":"K","reason":"1.4 (b)","declassify_on":"02/22/1971"}}`
	var c cable.Cable
	if err := json.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if c.Precedence != cable.Immediate || c.Classification != cable.Secret || c.Paragraphs[0].Classification != cable.Secret ||
		!c.Authority.DeclassifyOn.Date.Equal(date(1971, time.February, 22)) {
		t.Fatalf("read %+v", c)
	}
	for _, bad := range []string{
		`{"classification":"SECRETISH"}`,
		`{"precedence":"SOON"}`,
		`{"classification":3}`,
		`{"authority":{"declassify_on":"2071-02-30"}}`,
	} {
		var c cable.Cable
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestCableHelpers(t *testing.T) {
	c := fullCable()
	c.To = append(c.To, cable.Addressee{Station: "PARIS", Role: cable.RoleAction}, cable.Addressee{Station: "STATE", Role: cable.RoleInfo})
	if got := c.Addressees(cable.RoleAction); !slices.Equal(got, []string{"STATE", "PARIS"}) {
		t.Errorf("action addressees = %q", got)
	}
	if got := c.Addressees(cable.RoleInfo); !slices.Equal(got, []string{"LONDON", "STATE"}) {
		t.Errorf("info addressees = %q", got)
	}
	if got := c.Destinations(); !slices.Equal(got, []string{"STATE", "LONDON", "PARIS"}) {
		t.Errorf("destinations = %q", got)
	}
	if !c.HasCaption(cable.STADIS) || c.HasCaption(cable.NODIS) || !c.HasHandling(cable.NOFORN) || !c.HasTag("prel") || c.HasTag("ECON") {
		t.Error("Has* is wrong")
	}
	if c.HighestPortion() != cable.Secret || (&cable.Cable{}).HighestPortion() != 0 {
		t.Error("HighestPortion is wrong")
	}
	if got := c.Distribution.Offices(); !slices.Equal(got, []string{"EUR", "S", "DC/R"}) {
		t.Errorf("offices = %q", got)
	}
	var none *cable.Distribution
	if none.Offices() != nil || none.Has("EUR") || !c.Distribution.Has("DC/R") || c.Distribution.Has("NEA") {
		t.Error("Distribution.Has is wrong")
	}

	// Clone is deep: changing the copy leaves the original alone.
	d := c.Clone()
	if !reflect.DeepEqual(d, c) {
		t.Fatal("clone differs")
	}
	d.Captions[0], d.Handling[0], d.To[0].Station, d.Tags[0] = cable.NODIS, cable.NOFORN, "X", "X"
	d.References[0].Text, d.Paragraphs[0].Text = "X", "X"
	d.Authority.Reason, d.Received.ControlNumber = "X", "X"
	d.Distribution.Action, d.Distribution.Info[0] = "X", "X"
	if !reflect.DeepEqual(c, fullCableWithExtraAddressees()) {
		t.Fatal("changing a clone changed the original")
	}
}

func fullCableWithExtraAddressees() *cable.Cable {
	c := fullCable()
	c.To = append(c.To, cable.Addressee{Station: "PARIS", Role: cable.RoleAction}, cable.Addressee{Station: "STATE", Role: cable.RoleInfo})
	return c
}

func TestCodes(t *testing.T) {
	for s, want := range map[string]bool{"MOSCOW": true, "WAR": true, "AB": true, strings.Repeat("A", 20): true,
		"A": false, strings.Repeat("A", 21): false, "moscow": false, "MOSCOW1": false, "": false, "NEW YORK": false} {
		if cable.ValidStationCode(s) != want {
			t.Errorf("ValidStationCode(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"EUR": true, "S": true, "DC/R": true, "A-B": true, "EUR/X": true, "INR/B-2": true,
		"": false, "eur": false, "/R": false, "DC/": false, "A--B": false, "1EUR": false, strings.Repeat("A", 21): false} {
		if cable.ValidOfficeCode(s) != want {
			t.Errorf("ValidOfficeCode(%q) = %v", s, !want)
		}
	}
}
