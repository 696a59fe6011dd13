package importer

import (
	"testing"
)

func TestGazetteerLookup(t *testing.T) {
	g := DefaultGazetteer()
	for name, want := range map[string]string{
		"Moscow":                     "MOSCOW",
		"AmEmbassy, London.":         "LONDON",
		"American Embassy The Hague": "THEHAGUE",
		"Secretary of State":         "STATE",
		"War":                        "WAR",
		"Bogotá":                     "BOGOTA",
	} {
		st, ok := g.Lookup(name)
		if !ok || st.Code != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", name, st, ok, want)
		}
	}
	if st, ok := g.Lookup("Atlantis"); ok {
		t.Errorf("Lookup(Atlantis) = %v", st)
	}
	if PlaceKey("AmEmbassy,  São Paulo.") != "AMEMBASSY SAO PAULO" {
		t.Errorf("PlaceKey = %q", PlaceKey("AmEmbassy,  São Paulo."))
	}
}

func TestReferences(t *testing.T) {
	refs := References("Answer to Dept's 284, Feb 3 involves questions; see also urtel 12 and my 456, March 3.", "MOSCOW", "STATE")
	var got []string
	for _, r := range refs {
		got = append(got, r.Text)
	}
	want := map[string]bool{"STATE 284": true, "STATE 12": true, "MOSCOW 456": true}
	if len(got) != len(want) {
		t.Fatalf("references = %v, want %v", got, want)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected reference %q in %v", g, got)
		}
	}
}
