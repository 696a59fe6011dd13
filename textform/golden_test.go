package textform_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

var update = flag.Bool("update", false, "rewrite the golden renderings in testdata")

// TestRenderGolden renders cables of our own writing and compares the
// text with the expected canonical text, byte for byte.
func TestRenderGolden(t *testing.T) {
	f := testForm(t)
	for _, tc := range []struct {
		file  string
		c     *cable.Cable
		draft bool
	}{
		{"released.txt", goldenCable(), false},
		{"draft.txt", goldenDraft(), true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			opts := cable.ValidateOptions{Directory: f.Directory, Draft: tc.draft, At: time.Date(2011, 3, 11, 9, 0, 0, 0, time.UTC)}
			if err := cable.Validate(tc.c, opts); err != nil {
				t.Fatalf("golden cable is not valid: %v", err)
			}
			got, err := f.Render(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readTestdata(t, tc.file)
			if !bytes.Equal(got, want) {
				t.Fatalf("render differs from %s\n--- got\n%s\n--- want\n%s", path, got, want)
			}
			back, err := f.Parse(got, tc.draft)
			if err != nil {
				t.Fatalf("parse of the rendering: %v", err)
			}
			if !reflect.DeepEqual(back, tc.c) {
				t.Fatalf("round trip differs:\n%s", diffCables(tc.c, back))
			}
		})
	}
}

// TestRenderNotDraftParse checks that a draft's text is refused as a
// released cable and a released text is refused as a draft, naming the
// lines.
func TestRenderNotDraftParse(t *testing.T) {
	f := testForm(t)
	_, err := f.Parse(readTestdata(t, "draft.txt"), false)
	wantProblems(t, err, "line 1: a released cable has the date-time group", "line 7: a released cable has station and serial")
	_, err = f.Parse(readTestdata(t, "released.txt"), true)
	wantProblems(t, err, "line 1: a draft has no date-time group", "line 8: a draft has no serial")
}

// TestParseVariants parses real-shaped cables of our own writing in the
// forms archive copies show, and compares every field.
func TestParseVariants(t *testing.T) {
	f := testForm(t)

	aad := &cable.Cable{
		ID:             "1976MOSCOW03417",
		Station:        "MOSCOW",
		Serial:         3417,
		DTG:            time.Date(1976, 3, 4, 16, 25, 0, 0, time.UTC),
		Precedence:     cable.Immediate,
		Classification: cable.Confidential,
		Captions:       []cable.Caption{cable.EXDIS},
		To: []cable.Addressee{
			{Station: "STATE", Role: cable.RoleAction},
			{Station: "LONDON", Role: cable.RoleInfo},
			{Station: "LENINGRAD", Role: cable.RoleInfo},
		},
		Tags:       []string{"PREL", "EFIS", "UR", "US"},
		Subject:    "FISHERIES TALKS: SOVIET SIDE SIGNALS FLEXIBILITY ON QUOTAS",
		References: []cable.Reference{{Text: "STATE 51234"}, {Text: "MOSCOW 3102"}},
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Confidential, Text: "SUMMARY: AT MARCH 3 SESSION, DEPUTY MINISTER OF FISHERIES\nHINTED THAT MOSCOW COULD ACCEPT A LOWER HAKE QUOTA IF THE\nU.S. SIDE EASED PORT-CALL RULES FOR SOVIET TRAWLERS. END SUMMARY."},
			{Number: 2, Classification: cable.Confidential, Text: "THE DEPUTY MINISTER MADE THREE POINTS:\nA. THE QUOTA FIGURES IN REF A ARE \"NOT THE LAST WORD\";\nB. A SMALL TECHNICAL GROUP COULD VISIT WASHINGTON IN APRIL;\nC. SOVIET TRAWLERS NEED PORT CALLS MORE THAN THEY NEED FISH."},
			{Number: 3, Classification: cable.Confidential, Text: "TALKS RESUME MARCH 8."},
		},
		Signature: "KIRKWOOD",
		Authority: &cable.Authority{Order: "11652", DeclassifyOn: cable.DeclassifyOn{Event: "XGDS-2"}},
	}

	cablegate := &cable.Cable{
		ID:             "2010MOSCOW00417",
		Station:        "MOSCOW",
		Serial:         417,
		DTG:            time.Date(2010, 3, 4, 16, 25, 0, 0, time.UTC),
		Precedence:     cable.Immediate,
		Classification: cable.Secret,
		Captions:       []cable.Caption{cable.EXDIS},
		Handling:       []cable.Handling{cable.NIACT, cable.NOFORN},
		To: []cable.Addressee{
			{Station: "STATE", Role: cable.RoleAction},
			{Station: "LONDON", Role: cable.RoleInfo},
			{Station: "PARIS", Role: cable.RoleInfo},
			{Station: "LENINGRAD", Role: cable.RoleInfo},
		},
		Tags:       []string{"PREL", "EFIS", "RS", "US"},
		Subject:    "FISHERIES TALKS: RUSSIAN SIDE SIGNALS FLEXIBILITY ON QUOTAS",
		References: []cable.Reference{{Text: "STATE 21234"}, {Text: "MOSCOW 310"}},
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Confidential, Text: "Summary: At the March 3 session the Deputy Minister\nof Fisheries hinted that Moscow could accept a lower pollock\nquota if the U.S. side eased port-call rules for Russian\ntrawlers. End summary."},
			{Number: 2, Classification: cable.Secret, Text: "In a private aside after the plenary, the Deputy\nMinister said the quota figures in ref A were \"not the last\nword\":\n-- a technical group could come to Washington in April;\n-- the catch reports would be shared weekly."},
			{Number: 3, Classification: cable.Unclassified, Text: "Talks resume March 8."},
		},
		Signature: "HARTWELL",
		Authority: &cable.Authority{
			Order:        "12958",
			ClassifiedBy: "Ambassador Margaret A. Hartwell",
			Reason:       "1.4 (B) AND (D)",
			DeclassifyOn: cable.DeclassifyOn{Date: date(2020, 3, 4)},
		},
	}

	telegram := &cable.Cable{
		ID:             "1947PARIS02291",
		Station:        "PARIS",
		Serial:         2291,
		DTG:            time.Date(1947, 6, 14, 19, 0, 0, 0, time.UTC),
		Precedence:     cable.Routine,
		Classification: cable.Secret,
		Handling:       []cable.Handling{cable.NoParaphraseNecessary},
		To:             []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}},
		Subject:        "FRENCH VIEWS ON COAL ALLOCATION FROM THE RUHR",
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Secret, Text: "Reference Department's 1955 of June 9. Foreign Office official\nconcerned with coal told us this morning that the French position\nrests on three considerations:"},
			{Number: 2, Classification: cable.Secret, Text: "(A) French steel production cannot recover without a fixed share\nof Ruhr coking coal;"},
			{Number: 3, Classification: cable.Secret, Text: "(B) any allocation left to the occupying powers year by year will\nbe read in Paris as a decision against France;"},
			{Number: 4, Classification: cable.Secret, Text: "(C) the Government cannot go before the Assembly with less than it\nobtained at Moscow."},
			{Number: 5, Classification: cable.Secret, Text: "He added that these views would be put formally within the week."},
		},
		Signature: "HOLBROOK",
	}

	for _, tc := range []struct {
		file              string
		want              *cable.Cable
		section, sections int
		valid             bool // the variant passes cable.Validate
	}{
		{"aad1976.txt", aad, 1, 2, false},            // no CLASSIFIED BY line in 1976
		{"cablegate2010.txt", cablegate, 1, 2, true}, // everything a 2000s cable carries
		{"telegram1947.txt", telegram, 0, 0, false},  // no TAGS in 1947
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := f.ParseMessage(readTestdata(t, tc.file), false)
			if err != nil {
				t.Fatal(err)
			}
			if m.Section != tc.section || m.Sections != tc.sections {
				t.Errorf("section %d of %d, want %d of %d", m.Section, m.Sections, tc.section, tc.sections)
			}
			if !reflect.DeepEqual(m.Cable, tc.want) {
				t.Fatalf("parsed cable differs:\n%s", diffCables(tc.want, m.Cable))
			}
			err = cable.Validate(m.Cable, cable.ValidateOptions{Directory: f.Directory})
			if tc.valid && err != nil {
				t.Fatalf("variant does not validate: %v", err)
			}
			if !tc.valid && err == nil {
				t.Fatalf("variant validates, want the documented gap")
			}
			// Whatever the variant, its canonical rendering reads back the same.
			text, err := f.RenderMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := f.ParseMessage(text, false)
			if err != nil {
				t.Fatalf("parse of the canonical rendering: %v\n%s", err, text)
			}
			if !reflect.DeepEqual(m2, m) {
				t.Fatalf("canonical rendering does not round-trip:\n%s\n%s", text, diffCables(m.Cable, m2.Cable))
			}
		})
	}
}

// TestSeedRoundTrip carries the paragraphs of the real model cable (the
// Long Telegram, read from the shared seed at test time) through the text
// form: long real prose with quotes, parentheses and lettered points.
func TestSeedRoundTrip(t *testing.T) {
	raw := readShared(t, "seeds", "000_e3225f346bbef510.txt")
	var paras []cable.Paragraph
	for _, block := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n") {
		block = strings.TrimSpace(block)
		if len(block) < 200 {
			continue // headings, stamps and page furniture
		}
		paras = append(paras, cable.Paragraph{Number: len(paras) + 1, Classification: cable.Secret, Text: block})
	}
	if len(paras) < 20 {
		t.Fatalf("found %d long paragraphs in the seed, want the telegram's text", len(paras))
	}
	c := goldenCable()
	c.Paragraphs = paras
	cable.Normalize(c)
	f := testForm(t)
	if err := cable.Validate(c, cable.ValidateOptions{Directory: f.Directory}); err != nil {
		t.Fatal(err)
	}
	text, err := f.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := f.Parse(text, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("seed paragraphs do not round-trip:\n%s", diffCables(c, back))
	}
}

// readShared reads a file under /work/shared, found by walking up from
// the package directory to the directory holding the repository; the test
// is skipped when the file is absent.
func readShared(t *testing.T, parts ...string) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	path := filepath.Join(append([]string{dir, "..", "shared"}, parts...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared file absent: %v", err)
	}
	return b
}

// diffCables names the fields in which two cables differ.
func diffCables(want, got *cable.Cable) string {
	var b strings.Builder
	wv, gv := reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()
	for i := 0; i < wv.NumField(); i++ {
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		if !reflect.DeepEqual(w, g) {
			if wa, ok := w.(*cable.Authority); ok && wa != nil {
				w = *wa
			}
			if ga, ok := g.(*cable.Authority); ok && ga != nil {
				g = *ga
			}
			b.WriteString(wv.Type().Field(i).Name)
			b.WriteString(":\n  want ")
			b.WriteString(strings.ReplaceAll(sprint(w), "\n", "\n       "))
			b.WriteString("\n  got  ")
			b.WriteString(strings.ReplaceAll(sprint(g), "\n", "\n       "))
			b.WriteString("\n")
		}
	}
	return b.String()
}

// wantProblems checks that err is an EINVALID error holding a problem
// beginning with each of the given texts ("line 7: unknown address").
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("error %v, want an EINVALID error", err)
	}
	ps := cable.ErrorProblems(err)
	for _, w := range want {
		found := false
		for _, p := range ps {
			if strings.HasPrefix(p.String(), w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no problem %q among:\n%s", w, problemList(ps))
		}
	}
}

func problemList(ps []cable.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  ")
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	return b.String()
}
