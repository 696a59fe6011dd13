package transcript

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests do not depend on the machine's zoneinfo

	cable "github.com/cable-archive/cable"
)

// want is what a transcript of the suite must give. Times were worked out
// independently of the package (Python's zoneinfo over the same IANA
// database) and are written here in UTC.
type want struct {
	id, station string
	serial      int
	via         string
	dtg         string // RFC 3339, UTC
	received    string // RFC 3339, UTC; "" for none
	receivedLoc string // the receipt as Washington wrote it, "2006-01-02 15:04 MST"
	control     string
	class       cable.Classification
	marking     string
	precedence  cable.Precedence
	handling    []cable.Handling
	to          []string
	action      string
	info        []string
	refs        []string
	signature   string
	pages       int
	garbles     int
	stamps      int
	form        Form
	paragraphs  []string // each paragraph's opening words, in order
	contains    []string // text the rebuilt body must hold (rejoined across pages)
	catchwords  []string
	marks       []string
	title       string
	fileCode    string
}

var suite = map[string]want{
	// Tokyo in March 1947 kept UTC+9: 9 a.m. is 0000Z, 7 p.m. of March 2 in
	// Washington (EST). Received "8:45 a.m." is therefore 8:45 a.m. of
	// March 3, the next day in Washington.
	"tokyo_navy_topsecret.txt": {
		id: "1947TOKYO00087", station: "TOKYO", serial: 87, via: "NAVY",
		dtg: "1947-03-03T00:00:00Z", received: "1947-03-03T13:45:00Z", receivedLoc: "1947-03-03 08:45 EST", control: "1402",
		class: cable.TopSecret, precedence: cable.Routine, to: []string{"STATE"},
		action: "FE", info: []string{"S", "U", "NEA", "DC/R"}, refs: []string{"STATE 41"}, signature: "ATCHESON",
		pages: 3, garbles: 1, stamps: 1, form: FormIncoming,
		paragraphs: []string{"Reurtel 41", "(A) Prime Minister", "(B) On the question", "(C) He asked that the Mission convey", "Full memorandum"},
		contains:   []string{"occupation authorities for additional pit timber", "the greatest (*) to the coastal"},
		catchwords: []string{"the Mission"},
	},
	// London in June 1947 kept double summer time, UTC+2: 6 p.m. is 1600Z,
	// noon in Washington (EDT); 2:20 p.m. EDT is the same day.
	"london_restricted.txt": {
		id: "1947LONDON03120", station: "LONDON", serial: 3120,
		dtg: "1947-06-10T16:00:00Z", received: "1947-06-10T18:20:00Z", receivedLoc: "1947-06-10 14:20 EDT", control: "5520",
		class: cable.Confidential, marking: "RESTRICTED", precedence: cable.Routine, to: []string{"STATE"},
		action: "EUR", info: []string{"S", "U", "E", "DC/R"}, signature: "DOUGLAS",
		pages: 1, form: FormIncoming,
		paragraphs: []string{"Foreign Office informs", "Delegation wishes"},
	},
	// Ankara in October 1946 was UTC+2: 4 p.m. is 1400Z, 9 a.m. EST.
	"ankara_war_plain.txt": {
		id: "1946ANKARA00640", station: "ANKARA", serial: 640, via: "WAR",
		dtg: "1946-10-08T14:00:00Z", received: "1946-10-08T16:05:00Z", receivedLoc: "1946-10-08 11:05 EST", control: "9120",
		class: cable.Unclassified, precedence: cable.Routine, to: []string{"STATE"},
		action: "NEA", info: []string{"S", "U", "EUR", "DC/R"}, refs: []string{"ANKARA 622"}, signature: "WILSON",
		pages: 4, form: FormIncoming,
		paragraphs: []string{"My 622", "One. Turkish Government", "Two.", "Three.", "Four.", "Press comment"},
		contains:   []string{"no single power may claim a special position", "Several papers recall the events of last August"},
		marks:      []string{"JKL"},
	},
	// Washington in August 1946 kept daylight time (UTC-4): 7 p.m. is 2300Z.
	"moscow_telegram_sent.txt": {
		id: "1946STATE01466", station: "STATE", serial: 1466,
		dtg:   "1946-08-12T23:00:00Z",
		class: cable.Confidential, precedence: cable.Routine, to: []string{"MOSCOW"},
		refs: []string{"MOSCOW 2790"}, signature: "CLAYTON, Acting",
		pages: 2, form: FormOutgoing,
		paragraphs: []string{"Your 2790", "You may however"},
		contains:   []string{"viewed here with concern."},
		marks:      []string{"EUR:EE:RHT:mk"},
	},
	// Nanking in July 1946 kept summer time, UTC+9: 2 p.m. is 0500Z.
	"nanking_archive_plain.txt": {
		id: "1946NANKING01198", station: "NANKING", serial: 1198,
		dtg:   "1946-07-20T05:00:00Z",
		class: cable.Secret, precedence: cable.Routine, to: []string{"STATE"}, signature: "STUART",
		pages: 2, form: FormPlain,
		paragraphs: []string{"I returned", "He said that", "He asked me"},
		contains:   []string{"I told him that my Government could hardly expect"},
		catchwords: []string{"Government could"},
		title:      "Ambassador's Report on a Meeting at Kuling", fileCode: "893.00/7-2046",
	},
	// Rome in December 1946 was UTC+1: 11 a.m. is 1000Z. The station is
	// named only by the page header.
	"rome_no_station_line.txt": {
		id: "1946ROME00412", station: "ROME", serial: 412,
		dtg:   "1946-12-05T10:00:00Z",
		class: cable.Confidential, precedence: cable.Routine, to: []string{"STATE"},
		refs: []string{"STATE 1830"}, signature: "DUNN",
		pages: 2, form: FormPlain,
		paragraphs: []string{"Deptel 1830"},
		contains:   []string{"its objections on the same day. He hopes"},
	},
	// Washington in January 1949 was UTC-5: 6 p.m. is 2300Z.
	"hague_outgoing_urgent.txt": {
		id: "1949STATE00084", station: "STATE", serial: 84,
		dtg:   "1949-01-31T23:00:00Z",
		class: cable.Secret, precedence: cable.Immediate, to: []string{"THEHAGUE"}, signature: "ACHESON",
		pages: 1, form: FormOutgoing,
		paragraphs: []string{"For the Ambassador", "1. This Government", "2. Department"},
	},
}

func TestSuite(t *testing.T) {
	for name, w := range suite {
		t.Run(strings.TrimSuffix(name, ".txt"), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkResult(t, r, w)
		})
	}
}

func checkResult(t *testing.T, r *Result, w want) {
	t.Helper()
	c := r.Cable
	eq := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", field, got, want)
		}
	}
	eq("id", c.ID, w.id)
	eq("station", c.Station, w.station)
	eq("serial", c.Serial, w.serial)
	eq("via", r.Via, w.via)
	eq("dtg", c.DTG.Format(time.RFC3339), w.dtg)
	eq("classification", c.Classification, w.class)
	eq("marking", r.Marking, w.marking)
	eq("precedence", c.Precedence, w.precedence)
	eq("handling", c.Handling, w.handling)
	var to []string
	for _, a := range c.To {
		if a.Role != cable.RoleAction {
			t.Errorf("addressee %s has role %s", a.Station, a.Role)
		}
		to = append(to, a.Station)
	}
	eq("to", to, w.to)
	var refs []string
	for _, ref := range c.References {
		refs = append(refs, ref.Text)
	}
	eq("references", refs, w.refs)
	eq("signature", c.Signature, w.signature)
	eq("pages", r.Pages, w.pages)
	eq("garbles", r.Garbles, w.garbles)
	eq("stamps", len(r.Declassification), w.stamps)
	eq("form", r.Form, w.form)
	eq("catchwords", r.Catchwords, w.catchwords)
	eq("title", r.Title, w.title)
	eq("file_code", r.FileCode, w.fileCode)
	for _, m := range w.marks {
		found := false
		for _, got := range r.Marks {
			found = found || got == m
		}
		if !found {
			t.Errorf("mark %q not taken out (marks %q)", m, r.Marks)
		}
	}
	if w.received == "" {
		if c.Received != nil {
			t.Errorf("received = %+v, want none", c.Received)
		}
	} else if c.Received == nil {
		t.Errorf("no receipt, want %s", w.received)
	} else {
		eq("received.at", c.Received.At.UTC().Format(time.RFC3339), w.received)
		eq("received.at in Washington", c.Received.At.Format("2006-01-02 15:04 MST"), w.receivedLoc)
		eq("received.control_number", c.Received.ControlNumber, w.control)
	}
	if w.action == "" {
		if c.Distribution != nil {
			t.Errorf("distribution = %+v, want none", c.Distribution)
		}
	} else if c.Distribution == nil {
		t.Errorf("no distribution")
	} else {
		eq("distribution.action", c.Distribution.Action, w.action)
		eq("distribution.info", c.Distribution.Info, w.info)
	}
	if len(c.Paragraphs) != len(w.paragraphs) {
		var got []string
		for _, p := range c.Paragraphs {
			got = append(got, p.Text)
		}
		t.Fatalf("%d paragraphs, want %d:\n%s", len(c.Paragraphs), len(w.paragraphs), strings.Join(got, "\n"))
	}
	var all strings.Builder
	for i, p := range c.Paragraphs {
		if !strings.HasPrefix(p.Text, w.paragraphs[i]) {
			t.Errorf("paragraph %d = %q, want it to start %q", i+1, p.Text, w.paragraphs[i])
		}
		if p.Number != i+1 || p.Classification != c.Classification {
			t.Errorf("paragraph %d numbered %d, marked %v", i+1, p.Number, p.Classification)
		}
		all.WriteString(p.Text + "\n")
	}
	for _, s := range w.contains {
		if !strings.Contains(all.String(), s) {
			t.Errorf("text does not hold %q", s)
		}
	}
	for _, furniture := range []string{"#" + itoa(c.Serial), "DECLASSIFIED", "E.O.", "~~", "INCOMING TELEGRAM", "CORRECTED PAGE", "NARS"} {
		if strings.Contains(all.String(), furniture) {
			t.Errorf("furniture %q left in the text", furniture)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestResultJSON checks the JSON the CLI prints: the cable's fields with
// the names of DESIGN.md, and the transcript's own beside them.
func TestResultJSON(t *testing.T) {
	r, err := Parse(readSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	for k, v := range map[string]any{
		"id": "1946MOSCOW00511", "station": "MOSCOW", "serial": 511.0, "dtg": "1946-02-22T18:00:00Z",
		"precedence": "ROUTINE", "classification": "SECRET", "subject": "", "signature": "KENNAN",
		"via": "WAR", "pages": 19.0, "garbles": 6.0, "form": "incoming", "file_code": "861.00/2-2246",
	} {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	rec, _ := m["received"].(map[string]any)
	if rec["at"] != "1946-02-22T15:52:00-05:00" || rec["control_number"] != "8963" {
		t.Errorf("received = %v", rec)
	}
	dist, _ := m["distribution"].(map[string]any)
	if dist["action"] != "EUR" || len(dist["info"].([]any)) != 11 {
		t.Errorf("distribution = %v", dist)
	}
	if to := m["to"].([]any); len(to) != 1 || to[0].(map[string]any)["station"] != "STATE" || to[0].(map[string]any)["role"] != "action" {
		t.Errorf("to = %v", m["to"])
	}
	if refs := m["references"].([]any); len(refs) != 1 || refs[0].(map[string]any)["text"] != "STATE 284" {
		t.Errorf("references = %v", m["references"])
	}
	if h := m["handling"].([]any); len(h) != 1 || h[0] != "NO PARAPHRASE NECESSARY" {
		t.Errorf("handling = %v", m["handling"])
	}
	paras := m["paragraphs"].([]any)
	p0 := paras[0].(map[string]any)
	if p0["number"] != 1.0 || p0["classification"] != "SECRET" || !strings.Contains(p0["text"].(string), "284") {
		t.Errorf("paragraphs[0] = %v", p0)
	}
	stamps := m["declassification"].([]any)
	if len(stamps) != 18 {
		t.Fatalf("%d stamps", len(stamps))
	}
	s := stamps[1].(map[string]any)
	for k, v := range map[string]any{"page": 3.0, "authority": "E.O. 11652", "reviewer": "N.L.T.", "date": "1972-12-11", "letter_date": "1972-08-10"} {
		if s[k] != v {
			t.Errorf("stamp %s = %v, want %v", k, s[k], v)
		}
	}
	// A Result value marshals the same way.
	if vb, err := json.Marshal(*r); err != nil || !strings.Contains(string(vb), `"via":"WAR"`) {
		t.Errorf("value JSON: %.200s, %v", vb, err)
	}
	// A telegram with no stamp still has the array.
	r2, err := Parse(mustRead(t, "london_restricted.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(r2)
	if !strings.Contains(string(b2), `"declassification":[]`) || !strings.Contains(string(b2), `"marking":"RESTRICTED"`) {
		t.Errorf("JSON = %s", b2)
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSeedFieldsValidate checks that the rebuilt cable passes the
// domain's checks except those a telegram of 1946 cannot meet: no subject,
// no tags beyond the file code, no classification authority block.
func TestSeedFieldsValidate(t *testing.T) {
	r, err := Parse(readSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	err = cable.Validate(r.Cable, cable.ValidateOptions{Directory: DefaultGazetteer().Directory()})
	for _, p := range cable.ErrorProblems(err) {
		switch p.Field {
		case "subject", "authority":
		default:
			t.Errorf("validation: %s", p)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		src    string
		fields []string
	}{
		"empty":            {"", []string{"form"}},
		"prose":            {"This is a letter about the weather, with no telegram in it.\nNone at all.\n", []string{"form"}},
		"form, no serial":  {"DEPARTMENT OF STATE\nINCOMING TELEGRAM\n\nMoscow via War\n\n" + strings.Repeat("A long paragraph of prose that is not part of any header at all, and goes on. ", 3) + "\n", []string{"serial"}},
		"unknown place":    {"DEPARTMENT OF STATE\nINCOMING TELEGRAM\n\n12\n\nXanadu via War\n\nDated May 2, 1946\n\nSecretary of State,\nWashington.\n\n9, May 2, 4 p.m.\n\nThe pleasure dome is finished.\n\nKUBLA\n", []string{"station"}},
		"no year, no text": {"Secretary of State, Washington.\n\nParis\n\n9, May 2, 4 p.m.\n", []string{"dtg", "paragraphs"}},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := Parse([]byte(tc.src))
			if cable.ErrorCode(err) != cable.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			var got []string
			for _, p := range cable.ErrorProblems(err) {
				got = append(got, p.Field)
			}
			if !reflect.DeepEqual(got, tc.fields) {
				t.Errorf("problems %q, want fields %q", cable.ErrorProblems(err), tc.fields)
			}
			if len(tc.fields) > 0 && tc.fields[0] != "form" && tc.fields[0] != "serial" && r == nil {
				t.Errorf("no partial result for a telegram found but not readable")
			}
		})
	}
}

// TestTranscriptEnd checks that only the first transcript is read when a
// second copy follows: here the seed's shape, a plain second copy that
// repeats the serial line.
func TestTranscriptEnd(t *testing.T) {
	first := mustRead(t, "rome_no_station_line.txt")
	second := "\n\nSecretary of State,\nWashington.\n\n412, December 5, 11 a.m.\n\nDeptel 1830, November 29. A second, clean reading of the same telegram.\n\nDUNN\n"
	r, err := Parse(append(append([]byte{}, first...), second...))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cable.Paragraphs) != 1 || strings.Contains(r.Cable.Paragraphs[0].Text, "clean reading") {
		t.Errorf("paragraphs = %+v", r.Cable.Paragraphs)
	}
	if r.LastLine != 16 || r.Cable.Signature != "DUNN" {
		t.Errorf("last line = %d, signature %q; want 16, DUNN", r.LastLine, r.Cable.Signature)
	}
	// A second INCOMING TELEGRAM form with its own header also ends it.
	tokyo := mustRead(t, "tokyo_navy_topsecret.txt")
	r, err = Parse(append(append([]byte{}, tokyo...), tokyo...))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, suite["tokyo_navy_topsecret.txt"])
}

// TestReceivedNextDay checks the day of a receipt written without a date:
// the day the telegram was sent, as it was in Washington, or the next day
// when that time would be before the sending.
func TestReceivedNextDay(t *testing.T) {
	g := DefaultGazetteer()
	sent := time.Date(1946, 2, 22, 18, 0, 0, 0, time.UTC) // 1 p.m. EST
	for rec, want := range map[string]string{
		"3:52 p.m.":               "1946-02-22T20:52:00Z",
		"12:30 p.m.":              "1946-02-23T17:30:00Z",
		"noon":                    "1946-02-23T17:00:00Z",
		"9 a.m.":                  "1946-02-23T14:00:00Z",
		"midnight":                "1946-02-23T05:00:00Z",
		"February 24, 10:15 a.m.": "1946-02-24T15:15:00Z",
	} {
		at, ok := receivedAt(rec, sent, 1946, g, "STATE")
		if !ok || at.UTC().Format(time.RFC3339) != want {
			t.Errorf("Rec'd %s = %v, %v; want %s", rec, at.UTC(), ok, want)
		}
	}
}

func TestGazetteer(t *testing.T) {
	g := DefaultGazetteer()
	for name, want := range map[string][2]string{
		"Moscow":                     {"MOSCOW", "Europe/Moscow"},
		"London.":                    {"LONDON", "Europe/London"},
		"Paris":                      {"PARIS", "Europe/Paris"},
		"Ankara":                     {"ANKARA", "Europe/Istanbul"},
		"Tokyo":                      {"TOKYO", "Asia/Tokyo"},
		"Berlin":                     {"BERLIN", "Europe/Berlin"},
		"Rome":                       {"ROME", "Europe/Rome"},
		"Batavia":                    {"BATAVIA", "Asia/Jakarta"},
		"The Hague":                  {"THEHAGUE", "Europe/Amsterdam"},
		"AmEmbassy, The Hague.":      {"THEHAGUE", "Europe/Amsterdam"},
		"Nanking":                    {"NANKING", "Asia/Shanghai"},
		"Shanghai":                   {"SHANGHAI", "Asia/Shanghai"},
		"Washington":                 {"STATE", "America/New_York"},
		"Secretary of State":         {"STATE", "America/New_York"},
		"War":                        {"WAR", "America/New_York"},
		"Navy":                       {"NAVY", "America/New_York"},
		"American Embassy, Paris":    {"PARIS", "Europe/Paris"},
		"Embassy in the Netherlands": {"THEHAGUE", "Europe/Amsterdam"},
		"Consul General at Batavia":  {"BATAVIA", "Asia/Jakarta"},
		"SOVIET UNION":               {"MOSCOW", "Europe/Moscow"},
		"New York":                   {"USUN", "America/New_York"},
	} {
		st, ok := g.Lookup(name)
		if !ok {
			t.Errorf("%q not found", name)
			continue
		}
		if st.Code != want[0] || st.TimeZone != want[1] {
			t.Errorf("%q = %s %s, want %s %s", name, st.Code, st.TimeZone, want[0], want[1])
		}
	}
	for _, name := range []string{"Xanadu", "", "Secretary", "Embassy"} {
		if st, ok := g.Lookup(name); ok {
			t.Errorf("%q found as %s", name, st.Code)
		}
	}
	// Every station's zone loads and its code is a valid station code.
	for _, st := range g.Directory().Stations() {
		if !cable.ValidStationCode(st.Code) {
			t.Errorf("code %q", st.Code)
		}
		if _, err := time.LoadLocation(st.TimeZone); err != nil {
			t.Errorf("%s: %v", st.Code, err)
		}
	}
	if n := len(g.Directory().Stations()); n < 80 {
		t.Errorf("%d stations", n)
	}
}

func TestNewGazetteerErrors(t *testing.T) {
	_, err := NewGazetteer([]byte("station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW\nalias LENINGRAD LENINGRAD\nstation bad post Nowhere/Zone X\n"))
	if ps := cable.ErrorProblems(err); cable.ErrorCode(err) != cable.EINVALID || len(ps) != 3 {
		t.Errorf("err = %v, want three problems", err)
	}
	g, err := NewGazetteer([]byte("station ODESSA post Europe/Kyiv AMCONSUL ODESSA\nalias ODESSA ODESA\n"))
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := g.Lookup("Odesa"); !ok || st.Code != "ODESSA" {
		t.Errorf("Lookup(Odesa) = %v, %v", st, ok)
	}
}

// TestOwnGazetteer parses with a gazetteer that knows a post the built-in
// one does not.
func TestOwnGazetteer(t *testing.T) {
	src := []byte("DEPARTMENT OF STATE\nINCOMING TELEGRAM\n\n77\n\nXanadu via War\n\nDated May 2, 1946\n\nRec'd 9:10 a.m.\n\nSecretary of State,\nWashington.\n\n9, May 2, 4 p.m.\n\nThe pleasure dome is finished.\n\nKUBLA\n")
	text := append(GazetteerText(), []byte("station XANADU post Asia/Shanghai AMCONSUL XANADU\n")...)
	g, err := NewGazetteer(text)
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&Parser{Gazetteer: g}).Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	// Shanghai time in May 1946: UTC+8 until summer time began on May 15.
	if r.Cable.ID != "1946XANADU00009" || r.Cable.DTG.Format(time.RFC3339) != "1946-05-02T08:00:00Z" {
		t.Errorf("id %s dtg %v", r.Cable.ID, r.Cable.DTG)
	}
	// 4 p.m. in Xanadu is 4 a.m. in Washington; 9:10 a.m. is the same day.
	if got := r.Cable.Received.At.UTC().Format(time.RFC3339); got != "1946-05-02T13:10:00Z" {
		t.Errorf("received %s", got)
	}
}

func TestReferences(t *testing.T) {
	for text, want := range map[string][]string{
		"In reply to Dept's 284, Feb 3, we report":        {"STATE 284"},
		"Deptel 84 of Feb 1 not intended":                 {"STATE 84"},
		"ReDeptel 84. Reurtel 90. Re your 91 of March 2.": {"STATE 84", "STATE 90", "STATE 91"},
		"My 622, October 1 and mytel 630 and Embtel 7.":   {"MOSCOW 622", "MOSCOW 630", "MOSCOW 7"},
		"I have my 2 points and your 3 concerns.":         nil,
		"Department's 12 and Dept's 12 again.":            {"STATE 12"},
	} {
		var got []string
		for _, r := range References(text, "MOSCOW", "STATE") {
			got = append(got, r.Text)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("References(%q) = %q, want %q", text, got, want)
		}
	}
	// From the Department, "your" and "Embtel" are the post's.
	var got []string
	for _, r := range References("Your 2790, August 9. Embtel 2791.", "STATE", "MOSCOW") {
		got = append(got, r.Text)
	}
	if !reflect.DeepEqual(got, []string{"MOSCOW 2790", "MOSCOW 2791"}) {
		t.Errorf("outgoing references = %q", got)
	}
}
