package tei

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// sharedFile returns the path of a file under the project's shared
// directory beside the repository, skipping the test when it is absent.
func sharedFile(t testing.TB, parts ...string) string {
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
	p := filepath.Join(append([]string{dir, "..", "shared"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is absent", p)
	}
	return p
}

func parseFile(t testing.TB, path string) *Volume {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return v
}

func byID(t *testing.T, v *Volume, id string) *Document {
	t.Helper()
	for i := range v.Documents {
		if v.Documents[i].SourceID == id {
			return &v.Documents[i]
		}
	}
	t.Fatalf("document %s not imported (problems %v)", id, v.Problems)
	return nil
}

func eq(t *testing.T, field string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", field, got, want)
	}
}

// TestFRUSExcerpt reads the three documents of FRUS 1949 vol. VII part 1
// exactly as the volume encodes them and checks what its README says a
// reader of the printed volume takes from them.
func TestFRUSExcerpt(t *testing.T) {
	v := parseFile(t, sharedFile(t, "testdata", "frus", "frus1949v07p1-d152-d154.xml"))
	eq(t, "volume id", v.ID, "frus1949v07p1")
	eq(t, "counts", v.Counts, map[string]int{"telegram": 2, "memorandum": 1})
	eq(t, "problems", len(v.Problems), 0)
	eq(t, "documents", len(v.Documents), 3)

	// d152: Batavia to the Secretary of State, 138, secret us urgent.
	d := byID(t, v, "d152")
	eq(t, "d152 kind", d.Kind, KindTelegram)
	eq(t, "d152 file_code", d.FileCode, "501.BC Indonesia/2-249")
	eq(t, "d152 tags", d.Tags(), []string{"501.BC INDONESIA"})
	eq(t, "d152 station", d.Station, "BATAVIA")
	eq(t, "d152 to", d.To, []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}})
	eq(t, "d152 classification", d.Classification, cable.Secret)
	eq(t, "d152 precedence", d.Precedence, cable.Immediate)
	eq(t, "d152 marking", d.Marking, "secret us urgent")
	// 8 p.m. at Batavia, UTC+8: 1200Z.
	eq(t, "d152 dtg", d.DTG.Format(time.RFC3339), "1949-02-02T12:00:00Z")
	eq(t, "d152 dtg as written", cable.FormatDTG(d.DTG), "021200Z FEB 49")
	eq(t, "d152 serial", d.Serial, 138)
	eq(t, "d152 series", d.Series, []string{"Gocus 574"})
	eq(t, "d152 id", d.ID(), "1949BATAVIA00138")
	eq(t, "d152 signature", d.Signature, "Livengood")
	eq(t, "d152 subject", d.Subject, "The Consul General at Batavia (Livengood) to the Secretary of State")
	eq(t, "d152 title", d.Title, "152. The Consul General at Batavia (Livengood) to the Secretary of State")
	if len(d.Paragraphs) != 4 {
		t.Fatalf("d152: %d paragraphs, want the four numbered ones", len(d.Paragraphs))
	}
	for i, p := range d.Paragraphs {
		eq(t, fmt.Sprintf("d152 paragraph %d label", i+1), p.Label, fmt.Sprintf("%d.", i+1))
		eq(t, fmt.Sprintf("d152 paragraph %d number", i+1), p.Number, i+1)
	}
	p1 := d.Paragraphs[0].Text
	for _, want := range []string{
		"Letter forwarded Gocus 572 prepared before receipt Usgoc 282 this a. m.",
		"\n(a) If Netherlands fails answer re resolution (Gocus 571, paragraph 3), us representative",
		"\n(b) If Netherlands rejects outright",
		"\n(c) If Netherlands announces acceptance",
		// The page break inside the sentence leaves it whole.
		"answer is counter-proposal which is fair and reasonable",
		"organized as one or more negaras.",
		"\n(d) Meanwhile,",
	} {
		if !strings.Contains(p1, want) {
			t.Errorf("d152 paragraph 1 lacks %q:\n%s", want, p1)
		}
	}
	if strings.Contains(p1, "Supra") || strings.Contains(p1, "not printed") {
		t.Errorf("footnote text left in the paragraph: %s", p1)
	}
	eq(t, "d152 footnotes", len(d.Footnotes), 3)
	eq(t, "d152 footnote 2", d.Footnotes[1], Footnote{N: "2", ID: "d152fn2", Text: "Telegram 45, January 31, p. 198.", Paragraph: 1})
	eq(t, "d152 pages", d.Pages, []string{"202"})

	// d153: a memorandum of conversation, not a telegram.
	d = byID(t, v, "d153")
	eq(t, "d153 kind", d.Kind, KindMemorandum)
	eq(t, "d153 classification", d.Classification, cable.Confidential)
	eq(t, "d153 date", d.Date, "1949-02-03")
	eq(t, "d153 dtg", d.DTG.IsZero(), true)
	eq(t, "d153 place", d.Place, "Washington")
	eq(t, "d153 serial", d.Serial, 0)
	eq(t, "d153 precedence", d.Precedence, cable.Precedence(0))
	eq(t, "d153 file_code", d.FileCode, "501.BC Indonesia/2-349")
	eq(t, "d153 paragraphs", len(d.Paragraphs), 3)
	eq(t, "d153 footnote", d.Footnotes, []Footnote{{N: "1", ID: "d153fn1", Text: "Counselor of the French Embassy.", Paragraph: 1}})
	if !strings.HasPrefix(d.Paragraphs[0].Text, "Mr. Daridan stated") {
		t.Errorf("d153 paragraph 1 = %q", d.Paragraphs[0].Text)
	}

	// d154: the Secretary to the Embassy in the Netherlands, 94.
	d = byID(t, v, "d154")
	eq(t, "d154 kind", d.Kind, KindTelegram)
	eq(t, "d154 station", d.Station, "STATE")
	eq(t, "d154 serial", d.Serial, 94)
	eq(t, "d154 classification", d.Classification, cable.Secret)
	eq(t, "d154 precedence", d.Precedence, cable.Immediate)
	// 8 p.m. in Washington, EST: 0100Z the next day.
	eq(t, "d154 dtg", d.DTG.Format(time.RFC3339), "1949-02-04T01:00:00Z")
	eq(t, "d154 to", d.To, []cable.Addressee{
		{Station: "THEHAGUE", Role: cable.RoleAction},
		{Station: "USUN", Role: cable.RoleInfo},
		{Station: "BATAVIA", Role: cable.RoleInfo},
	})
	eq(t, "d154 references", d.References, []cable.Reference{{Text: "STATE 84"}})
	eq(t, "d154 signature", d.Signature, "Acheson")
	eq(t, "d154 subject", d.Subject, "The Secretary of State to the Embassy in the Netherlands")
	eq(t, "d154 head footnote", d.Footnotes[0].Paragraph, 0)
	eq(t, "d154 pages", d.Pages, []string{"203", "204"})
	if len(d.Paragraphs) != 3 || !strings.HasPrefix(d.Paragraphs[0].Text, "N. Y. Times Feb 3 carries story") ||
		!strings.HasPrefix(d.Paragraphs[1].Text, "Deptel 84 of Feb 1 not intended") ||
		!strings.Contains(d.Paragraphs[0].Text, "‘reasonable time’ to work out") {
		t.Errorf("d154 paragraphs = %+v", d.Paragraphs)
	}
}

// TestDocumentJSON checks the JSON the CLI prints for each document.
func TestDocumentJSON(t *testing.T) {
	v := parseFile(t, sharedFile(t, "testdata", "frus", "frus1949v07p1-d152-d154.xml"))
	b, err := json.Marshal(v.Documents)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(b, &docs); err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	for k, want := range map[string]any{
		"kind": "telegram", "source_id": "d152", "file_code": "501.BC Indonesia/2-249",
		"title":   "152. The Consul General at Batavia (Livengood) to the Secretary of State",
		"station": "BATAVIA", "serial": 138.0, "dtg": "1949-02-02T12:00:00Z", "classification": "SECRET",
		"precedence": "IMMEDIATE", "subject": "The Consul General at Batavia (Livengood) to the Secretary of State",
		"signature": "Livengood", "id": "1949BATAVIA00138",
	} {
		if !reflect.DeepEqual(d[k], want) {
			t.Errorf("d152 %s = %#v, want %#v", k, d[k], want)
		}
	}
	p := d["paragraphs"].([]any)[0].(map[string]any)
	if p["number"] != 1.0 || p["label"] != "1." || p["classification"] != "SECRET" {
		t.Errorf("d152 paragraph = %v", p)
	}
	if to := d["to"].([]any)[0].(map[string]any); to["station"] != "STATE" || to["role"] != "action" {
		t.Errorf("d152 to = %v", d["to"])
	}
	if fn := d["footnotes"].([]any); len(fn) != 3 {
		t.Errorf("d152 footnotes = %v", fn)
	}
	// A Document value (not only a pointer) marshals the same way.
	vb0, err := json.Marshal(v.Documents[0])
	if err != nil || !bytes.Contains(vb0, []byte(`"source_id":"d152"`)) {
		t.Errorf("value JSON: %s, %v", vb0, err)
	}
	m := docs[1]
	if m["kind"] != "memorandum" || m["date"] != "1949-02-03" || m["dtg"] != nil || m["serial"] != nil || m["precedence"] != nil {
		t.Errorf("d153 = %v", m)
	}
	if refs := docs[2]["references"].([]any); refs[0].(map[string]any)["text"] != "STATE 84" {
		t.Errorf("d154 references = %v", refs)
	}
	// The volume's JSON carries counts and problems.
	vb, _ := json.Marshal(v)
	if !bytes.Contains(vb, []byte(`"counts":{"memorandum":1,"telegram":2}`)) || !bytes.Contains(vb, []byte(`"problems":[]`)) {
		t.Errorf("volume JSON: %s", vb[:200])
	}
}

// TestDocumentCable checks the cable a telegram files as.
func TestDocumentCable(t *testing.T) {
	v := parseFile(t, sharedFile(t, "testdata", "frus", "frus1949v07p1-d152-d154.xml"))
	c := byID(t, v, "d154").Cable()
	if c.ID != "1949STATE00094" || c.Station != "STATE" || c.Serial != 94 || c.Precedence != cable.Immediate ||
		c.Classification != cable.Secret || len(c.Paragraphs) != 3 || c.Paragraphs[2].Classification != cable.Secret ||
		!reflect.DeepEqual(c.Tags, []string{"501.BC INDONESIA"}) {
		t.Errorf("cable = %+v", c)
	}
	// The domain's checks pass but for what a 1949 telegram does not have:
	// the classification authority block.
	for _, p := range cable.ErrorProblems(cable.Validate(c, cable.ValidateOptions{Directory: Stations()})) {
		if p.Field != "authority" {
			t.Errorf("validation: %s", p)
		}
	}
	m := byID(t, v, "d153").Cable()
	if m.Precedence != cable.Routine || m.Classification != cable.Confidential || m.ID != "" {
		t.Errorf("memorandum cable = %+v", m)
	}
}

// TestInventedVolume reads TEI written for the tests in the FRUS
// encoding: notes inside heads, glosses, nested lists, page breaks inside
// words, "[place not declassified]", an editorial note, the head and
// source-note style of the later volumes.
func TestInventedVolume(t *testing.T) {
	v := parseFile(t, filepath.Join("testdata", "invented-volume.xml"))
	eq(t, "title", v.Title, "A Test Volume of Invented Documents")
	eq(t, "counts", v.Counts, map[string]int{"telegram": 3, "memorandum": 1, "editorial-note": 1})
	eq(t, "problems", v.Problems, []Problem{})

	d := byID(t, v, "d1")
	eq(t, "d1 station", d.Station, "LONDON")
	// London kept double summer time in June 1947: 6 p.m. is 1600Z.
	eq(t, "d1 dtg", d.DTG.Format(time.RFC3339), "1947-06-10T16:00:00Z")
	eq(t, "d1 classification", d.Classification, cable.Confidential)
	eq(t, "d1 marking", d.Marking, "restricted priority")
	eq(t, "d1 precedence", d.Precedence, cable.Priority)
	eq(t, "d1 to", d.To, []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "PARIS", Role: cable.RoleInfo}, {Station: "ROME", Role: cable.RoleInfo}})
	eq(t, "d1 references", d.References, []cable.Reference{{Text: "STATE 2601"}})
	eq(t, "d1 subject", d.Subject, "The Ambassador in the United Kingdom (Douglas) to the Secretary of State")
	eq(t, "d1 pages", d.Pages, []string{"11", "12", "13"})
	var labels, texts []string
	for _, p := range d.Paragraphs {
		labels = append(labels, p.Label)
		texts = append(texts, p.Text)
	}
	eq(t, "d1 labels", labels, []string{"", "1.", "2.", "3."})
	eq(t, "d1 texts", texts, []string{
		"Urtel 2601, June 6. Foreign Office agrees in principle with the Department’s proposals on the wheat conference and offers three comments:",
		"Delegations should meet informally first.",
		"Shipping questions should be taken up separately:\n(a) tonnage;\n(b) freight rates.",
		"The FO will name its delegate by June 15.",
	})
	eq(t, "d1 footnotes", d.Footnotes, []Footnote{
		{N: "1", ID: "d1fn1", Text: "Repeated to Paris as 212 and to Rome.", Paragraph: 0},
		{N: "2", ID: "d1fn2", Text: "The informal meeting took place on June 20.", Paragraph: 2},
	})

	d = byID(t, v, "d2")
	eq(t, "d2 kind", d.Kind, KindMemorandum)
	eq(t, "d2 classification", d.Classification, cable.TopSecret)
	eq(t, "d2 date", d.Date, "1947-07-02")
	eq(t, "d2 not declassified", d.NotDeclassified, []string{"[place not declassified]", "[1 paragraph (3 lines of source text) not declassified]"})
	eq(t, "d2 signature", d.Signature, "J. S.")

	d = byID(t, v, "d3")
	eq(t, "d3 kind", d.Kind, KindEditorial)
	eq(t, "d3 warnings", d.Warnings, []string{"no date"})

	d = byID(t, v, "d4")
	eq(t, "d4 kind", d.Kind, KindTelegram)
	eq(t, "d4 file_code", d.FileCode, "611.94/3-551")
	eq(t, "d4 classification", d.Classification, cable.Secret)
	eq(t, "d4 precedence", d.Precedence, cable.Immediate)
	eq(t, "d4 handling", d.Handling, []cable.Handling{cable.NIACT})
	eq(t, "d4 captions", d.Captions, []cable.Caption{cable.NODIS})
	eq(t, "d4 to", d.To, []cable.Addressee{{Station: "TOKYO", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}, {Station: "CANBERRA", Role: cable.RoleInfo}})
	eq(t, "d4 references", d.References, []cable.Reference{{Text: "TOKYO 1540"}})
	eq(t, "d4 id", d.ID(), "1951STATE01802")

	d = byID(t, v, "d5")
	eq(t, "d5 station", d.Station, "")
	eq(t, "d5 place", d.Place, "")
	eq(t, "d5 serial", d.Serial, 44)
	eq(t, "d5 not declassified", d.NotDeclassified, []string{"[place not declassified]"})
	eq(t, "d5 warnings", d.Warnings, []string{"the place of origin is not declassified"})
	eq(t, "d5 id", d.ID(), "")
}

const volumeHead = `<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xmlns:frus="http://history.state.gov/frus/ns/1.0" xml:id="v"><text><body>
`
const volumeTail = "</body></text></TEI>\n"

// goodDoc writes a small telegram document in the FRUS encoding.
func goodDoc(id string, serial int) string {
	return fmt.Sprintf(`<div type="document" xml:id="%s" n="%d" frus:doc-dateTime-min="1948-05-04T19:00:00+02:00" frus:doc-dateTime-max="1948-05-04T19:00:00+02:00">
<note type="source">751.00/5–448: Telegram</note>
<head>The Ambassador in France (<persName>Caffery</persName>) to the Secretary of State</head>
<opener><seg>confidential</seg><dateline><placeName>Paris</placeName>, <date when="1948-05-04T19:00:00+02:00">May 4, 1948—7 p.m.</date></dateline></opener>
<p>%d. Cabinet met this afternoon<note n="1">Not printed.</note> and agreed on the budget.</p>
<closer><signed>Caffery</signed></closer>
</div>
`, id, serial, serial)
}

// TestMalformedAmongGood checks that every document that cannot be read
// is reported with its reason, and the others are imported.
func TestMalformedAmongGood(t *testing.T) {
	src := volumeHead +
		goodDoc("g1", 1) +
		// A bare ampersand: the XML is not well-formed here.
		`<div type="document" xml:id="bad-syntax" n="2"><head>Broken & unescaped</head><p>text</p></div>` + "\n" +
		goodDoc("g2", 3) +
		// Elements that do not nest.
		`<div type="document" xml:id="bad-nesting" n="4"><head>Crossed</head><p>one <hi>two</p></hi></div>` + "\n" +
		goodDoc("g3", 5) +
		"<div type=\"document\" xml:id=\"bad-syntax-2\" n=\"5\">\n<head>Second</head>\n<p>a < b</p></div>\n" +
		`<div type="document" xml:id="bad-date" n="6" frus:doc-dateTime-min="1948-13-45T99:00:00"><head>The Ambassador in France to the Secretary of State</head><p>7. text</p></div>` + "\n" +
		`<div type="document" xml:id="no-head" n="8"><p>Text without a head.</p></div>` + "\n" +
		`<div type="document" n="9"><head>No identifier</head><p>text</p></div>` + "\n" +
		goodDoc("g4", 10) +
		volumeTail
	v, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range v.Documents {
		ids = append(ids, d.SourceID)
		if d.Station != "PARIS" || d.DTG.Format(time.RFC3339) != "1948-05-04T17:00:00Z" || d.Classification != cable.Confidential {
			t.Errorf("%s = %+v", d.SourceID, d)
		}
	}
	eq(t, "imported", ids, []string{"g1", "g2", "g3", "g4"})
	eq(t, "counts", v.Counts, map[string]int{"telegram": 4})
	want := map[string]string{
		"bad-syntax":  "malformed XML",
		"bad-nesting": "end tag </p> where </hi> was expected",
		"bad-date":    `frus:doc-dateTime-min "1948-13-45T99:00:00"`,
		"no-head":     "no <head>",
	}
	if len(v.Problems) != 6 {
		t.Fatalf("problems = %+v, want 6", v.Problems)
	}
	// Line numbers are the input's, also after the reader restarted at a
	// document following an error.
	for _, id := range []string{"bad-syntax", "bad-syntax-2"} {
		at := strings.Index(src, `xml:id="`+id+`"`)
		line := strings.Count(src[:at], "\n") + 1
		if id == "bad-syntax-2" {
			line += 2 // the error is on the document's third line
		}
		want[id] = fmt.Sprintf("malformed XML at line %d:", line)
	}
	for _, p := range v.Problems {
		if strings.HasPrefix(p.SourceID, "document ") {
			if p.Reason != "no xml:id" {
				t.Errorf("%s: %s", p.SourceID, p.Reason)
			}
			continue
		}
		if w, ok := want[p.SourceID]; !ok || !strings.Contains(p.Reason, w) {
			t.Errorf("problem %s: %q, want it to say %q", p.SourceID, p.Reason, w)
		}
	}
}

// TestMalformedBetweenDocuments: broken markup outside any document is
// reported and the reading goes on.
func TestMalformedBetweenDocuments(t *testing.T) {
	src := volumeHead + goodDoc("g1", 1) + `<pb n="3" <<< />` + "\n" + goodDoc("g2", 2) + volumeTail
	v, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Documents) != 2 || len(v.Problems) != 1 || v.Problems[0].SourceID != "near line 10" {
		t.Errorf("documents %d, problems %+v", len(v.Documents), v.Problems)
	}
	// Truncated in the middle of the last document.
	src = volumeHead + goodDoc("g1", 1) + goodDoc("g2", 2)[:200]
	v, err = Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Documents) != 1 || len(v.Problems) != 1 || v.Problems[0].SourceID != "g2" {
		t.Errorf("documents %d, problems %+v", len(v.Documents), v.Problems)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":        "",
		"not xml":      "this is not XML at all",
		"not TEI":      `<?xml version="1.0"?><html><body><div type="document" xml:id="x"><head>h</head></div></body></html>`,
		"no documents": volumeHead + `<div type="chapter"><head>Empty</head></div>` + volumeTail,
		"bad encoding": `<?xml version="1.0" encoding="EBCDIC-FR"?><TEI/>`,
	} {
		t.Run(name, func(t *testing.T) {
			v, err := Parse(strings.NewReader(src))
			if cable.ErrorCode(err) != cable.EINVALID {
				t.Errorf("err = %v, want EINVALID", err)
			}
			if v == nil {
				t.Errorf("no volume returned beside the error")
			}
		})
	}
	// A read failure is not the input's fault.
	_, err := Parse(io.MultiReader(strings.NewReader(volumeHead+goodDoc("g1", 1)), errReader{}))
	if err == nil || cable.ErrorCode(err) != cable.EINTERNAL || !errors.Is(err, errBroken) {
		t.Errorf("err = %v, want the read error", err)
	}
}

var errBroken = errors.New("disk on fire")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

// TestWalkStops checks that fn's error and a cancelled context stop the walk.
func TestWalkStops(t *testing.T) {
	src := volumeHead + goodDoc("g1", 1) + goodDoc("g2", 2) + goodDoc("g3", 3) + volumeTail
	stop := errors.New("enough")
	n := 0
	_, err := Walk(context.Background(), strings.NewReader(src), func(*Document) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("err %v after %d documents", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, strings.NewReader(src), func(*Document) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// writeVolume writes a synthetic volume of n documents in the FRUS
// encoding: telegrams from several posts, memoranda with nested lists,
// footnotes and page breaks, and every badEvery-th document malformed
// (none when 0).
func writeVolume(w io.Writer, n, badEvery int) error {
	posts := []struct{ head, place, when string }{
		{"The Ambassador in France (Caffery) to the Secretary of State", "Paris", "1948-05-04T19:00:00+02:00"},
		{"The Consul General at Batavia (Livengood) to the Secretary of State", "Batavia", "1949-02-02T20:00:00+08:00"},
		{"The Secretary of State to the Embassy in the Netherlands", "Washington", "1949-02-03T20:00:00-05:00"},
		{"The Ambassador in the Soviet Union (Smith) to the Secretary of State", "Moscow", "1948-03-01T21:00:00+03:00"},
	}
	if _, err := io.WriteString(w, volumeHead+`<div type="chapter" xml:id="ch1"><head>Generated</head>`+"\n"); err != nil {
		return err
	}
	page := 1
	for i := 1; i <= n; i++ {
		var s string
		switch {
		case badEvery > 0 && i%badEvery == 0:
			s = fmt.Sprintf(`<div type="document" xml:id="d%d" n="%d"><head>Broken <hi>nesting</head></hi><p>x</p></div>`+"\n", i, i)
		case i%5 == 0:
			s = fmt.Sprintf(`<div type="document" xml:id="d%d" n="%d" frus:doc-dateTime-min="1948-06-01T00:00:00-04:00" frus:doc-dateTime-max="1948-06-01T23:59:59-04:00">
<note type="source">711.00/6–148</note>
<head>Memorandum of Conversation, by the Director of the Office of European Affairs (<persName>Hickerson</persName>)<note n="1" xml:id="d%dfn1">Drafted on June 2.</note></head>
<opener><seg><hi rend="smallcaps">secret</hi></seg><dateline>[<placeName>Washington</placeName>,] <date when="1948-06-01">June 1, 1948</date>.</dateline></opener>
<p>The Ambassador called at his own request and raised the following points:</p>
<list><label>1.</label><item>Grain shipments: <list><label>(a)</label><item>wheat;</item><label>(b)</label><item>flour.</item></list></item>
<label>2.</label><item>The conference at [<hi rend="italic">place not declassified</hi>] on the twelfth.</item></list>
<pb n="%d" xml:id="pg_%d" facs="%04d"/>
<p>I said the Department would reply in writing within the week.</p>
</div>
`, i, i, i, page, page, page)
			page++
		default:
			p := posts[i%len(posts)]
			s = fmt.Sprintf(`<div type="document" xml:id="d%d" n="%d" frus:doc-dateTime-min="%s" frus:doc-dateTime-max="%s">
<note rend="inline" type="source">751.00/5–448: Telegram</note>
<head><hi rend="italic">%s</hi><note n="1" xml:id="d%dfn1">Repeated to London.</note></head>
<opener><seg rendition="#left"><hi rend="smallcaps">secret   us urgent</hi></seg><dateline rendition="#right"><placeName><hi rend="smallcaps">%s</hi></placeName>, <date when="%s">a date</date></dateline></opener>
<p>%d. <gloss target="#t_Deptel1">Deptel</gloss>%d of May 1. Cabinet met this after<pb n="%d" xml:id="pg_%d" break="no"/>noon and agreed to the proposals set out in the Department’s instruction, subject to the reservations reported in my previous telegram.</p>
<p>Further report follows.</p>
<closer><signed><hi rend="smallcaps">Envoy</hi></signed></closer>
</div>
`, i, i, p.when, p.when, p.head, i, p.place, p.when, i, i+100, page, page)
			page++
		}
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "</div>\n"+volumeTail)
	return err
}

// TestLargeVolume streams a generated volume of 2,000 documents through a
// pipe, so that the whole is never in memory at once, and checks every
// document is read or reported.
func TestLargeVolume(t *testing.T) {
	const n, badEvery = 2000, 250
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeVolume(pw, n, badEvery)) }()
	kinds := map[string]int{}
	var heap uint64
	count := 0
	v, err := Walk(context.Background(), pr, func(d *Document) error {
		count++
		kinds[d.Kind]++
		if d.Kind == KindTelegram && (d.Serial == 0 || d.Station == "" || d.DTG.IsZero() || len(d.References) != 1 || !hasAddressee(d.To, "LONDON")) {
			return fmt.Errorf("%s: %+v", d.SourceID, d)
		}
		if d.Kind == KindTelegram && !strings.Contains(d.Paragraphs[0].Text, "this afternoon and agreed") {
			return fmt.Errorf("%s: page break inside the word not joined: %q", d.SourceID, d.Paragraphs[0].Text)
		}
		if count%500 == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = max(heap, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := n / badEvery
	if count != n-bad || len(v.Problems) != bad {
		t.Errorf("%d documents and %d problems, want %d and %d", count, len(v.Problems), n-bad, bad)
	}
	wantMemos := 0
	for i := 1; i <= n; i++ {
		if i%badEvery != 0 && i%5 == 0 {
			wantMemos++
		}
	}
	eq(t, "counts", v.Counts, map[string]int{"telegram": n - bad - wantMemos, "memorandum": wantMemos})
	eq(t, "walked kinds", kinds, v.Counts)
	t.Logf("%d documents, %d problems, heap in use at most %d KiB while walking", count, len(v.Problems), heap>>10)
}

// TestGazetteer checks the places of the excerpt's heads.
func TestGazetteer(t *testing.T) {
	for name, want := range map[string]string{
		"Batavia": "BATAVIA", "Netherlands": "THEHAGUE", "the Soviet Union": "MOSCOW", "Washington": "STATE", "New York": "USUN",
	} {
		if st, ok := lookupPlace(Stations(), name); !ok || st.Code != want {
			t.Errorf("%s = %v", name, st)
		}
	}
}

func TestPartyStation(t *testing.T) {
	for party, want := range map[string]string{
		"The Consul General at Batavia (Livengood)":                       "BATAVIA",
		"Embassy in the Netherlands":                                      "THEHAGUE",
		"The Ambassador in the Soviet Union (Smith)":                      "MOSCOW",
		"The Acting Secretary of State":                                   "STATE",
		"The Chargé in China (Clark)":                                     "NANKING",
		"The United States Representative at the United Nations (Austin)": "USUN",
		"The Consul at [place not declassified]":                          "",
		"The President of the Invented Republic":                          "",
	} {
		if got := partyStation(Stations(), party); got != want {
			t.Errorf("partyStation(%q) = %q, want %q", party, got, want)
		}
	}
	f, to := splitHead("The Ambassador to the Soviet Union (Smith) to the Secretary of State", "", "")
	if f != "The Ambassador to the Soviet Union (Smith)" || to != "Secretary of State" {
		t.Errorf("splitHead = %q, %q", f, to)
	}
}
