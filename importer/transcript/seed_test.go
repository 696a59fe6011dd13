package transcript

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	cable "github.com/cable-archive/cable"
)

// sharedFile returns the path of a file under the project's shared
// directory, which sits beside the repository (../shared from its root),
// skipping the test when it is absent.
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

func readSeed(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile(sharedFile(t, "seeds", "000_e3225f346bbef510.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// editorialRE matches the clean transcript's own editorial marks: "[13]",
// "[is]", "[ugliness?]", "[apparent omission]", "[Practical ...]".
var editorialRE = regexp.MustCompile(`\[[^\]]*\]`)

// scoreWords splits a text into the words scored: letters and digits,
// case folded, accents removed, apostrophes dropped ("women's" is
// "womens"), hyphens and dashes separating. Garble marks "(*)" are not
// words.
func scoreWords(s string) []string {
	s = strings.ReplaceAll(s, "(*)", " ")
	s = accents.Replace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\'' || r == '’':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

var accents = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "ë", "e", "á", "a", "à", "a", "â", "a", "ä", "a",
	"í", "i", "ï", "i", "ó", "o", "ô", "o", "ö", "o", "ú", "u", "ü", "u", "ç", "c", "ñ", "n")

// bagScores compares two texts as multisets of words: precision is the
// share of our words the reference has (each counted as often as it has
// it), recall the share of the reference's words we have.
func bagScores(ours, ref []string) (precision, recall float64) {
	count := map[string]int{}
	for _, w := range ref {
		count[w]++
	}
	common := 0
	for _, w := range ours {
		if count[w] > 0 {
			count[w]--
			common++
		}
	}
	return float64(common) / float64(len(ours)), float64(common) / float64(len(ref))
}

// lcsScores compares two texts by their longest common subsequence of
// words, which also counts words in the wrong place as wrong.
func lcsScores(ours, ref []string) (precision, recall float64) {
	prev := make([]int32, len(ref)+1)
	cur := make([]int32, len(ref)+1)
	for i := 1; i <= len(ours); i++ {
		for j := 1; j <= len(ref); j++ {
			switch {
			case ours[i-1] == ref[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	l := float64(prev[len(ref)])
	return l / float64(len(ours)), l / float64(len(ref))
}

// cleanTranscript returns the body of the seed's second, clean transcript:
// the text after its own serial line, without its editorial marks.
func cleanTranscript(t *testing.T, src []byte) string {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	seen := 0
	for i, l := range lines {
		if strings.TrimSpace(l) == "511, February 22, 9 p.m." {
			seen++
			if seen == 2 {
				return editorialRE.ReplaceAllString(strings.Join(lines[i+1:], "\n"), " ")
			}
		}
	}
	t.Fatal("the seed's clean transcript was not found")
	return ""
}

// TestSeedScore rebuilds the body of the Long Telegram from the first,
// page-by-page transcript of the seed and compares it word by word with
// the clean transcript that follows it in the same file, and checks every
// header field.
func TestSeedScore(t *testing.T) {
	src := readSeed(t)
	r, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c := r.Cable

	var body strings.Builder
	for _, p := range c.Paragraphs {
		body.WriteString(p.Text)
		body.WriteByte('\n')
	}
	// The clean transcript ends with the signature, which the cable keeps
	// in its own field.
	ours := scoreWords(body.String() + c.Signature)
	ref := scoreWords(cleanTranscript(t, src))
	bp, br := bagScores(ours, ref)
	lp, lr := lcsScores(ours, ref)
	t.Logf("words: rebuilt %d, clean %d", len(ours), len(ref))
	t.Logf("bag of words:  precision %.4f recall %.4f", bp, br)
	t.Logf("LCS alignment: precision %.4f recall %.4f", lp, lr)
	for name, v := range map[string]float64{"bag precision": bp, "bag recall": br, "LCS precision": lp, "LCS recall": lr} {
		if v < 0.99 {
			t.Errorf("%s = %.4f, want >= 0.99", name, v)
		}
	}

	// Header fields.
	right, total := 0, 0
	check := func(field string, got, want any) {
		t.Helper()
		total++
		if gs, ws := toString(got), toString(want); gs != ws {
			t.Errorf("%s = %s, want %s", field, gs, ws)
			return
		}
		right++
	}
	check("id", c.ID, "1946MOSCOW00511")
	check("station", c.Station, "MOSCOW")
	check("serial", c.Serial, 511)
	check("via", r.Via, "WAR")
	check("dtg", c.DTG.Format(time.RFC3339), "1946-02-22T18:00:00Z")
	check("dtg as written", cable.FormatDTG(c.DTG), "221800Z FEB 46")
	check("precedence", c.Precedence, cable.Routine)
	check("classification", c.Classification, cable.Secret)
	check("handling", c.Handling, []cable.Handling{cable.NoParaphraseNecessary})
	check("to", c.To, []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}})
	check("references", c.References, []cable.Reference{{Text: "STATE 284"}})
	check("signature", c.Signature, "KENNAN")
	check("subject", c.Subject, "")
	check("tags", c.Tags, []string{"861.00"})
	if c.Received == nil {
		t.Fatal("no receipt")
	}
	// February 1946: Washington kept Eastern Standard Time (UTC-5); the
	// telegram left Moscow at 1800Z = 1 p.m. in Washington, so 3:52 p.m.
	// is the same day.
	check("received.at", c.Received.At.UTC().Format(time.RFC3339), "1946-02-22T20:52:00Z")
	check("received.at local", c.Received.At.Format("2006-01-02 15:04 MST"), "1946-02-22 15:52 EST")
	check("received.control_number", c.Received.ControlNumber, "8963")
	check("received.station", c.Received.Station, "STATE")
	if c.Distribution == nil {
		t.Fatal("no distribution")
	}
	check("distribution.action", c.Distribution.Action, "EUR")
	check("distribution.info", c.Distribution.Info, []string{"S", "U", "C", "A-B", "A-C", "A-D", "SA", "SPA", "UNO", "EUR/X", "DC/R"})
	check("pages", r.Pages, 19)
	check("declassification stamps", len(r.Declassification), 18)
	check("garbles", r.Garbles, 6)
	check("form", r.Form, FormIncoming)
	check("file_code", r.FileCode, "861.00/2-2246")
	t.Logf("header fields right: %d of %d", right, total)

	// The rebuilt text keeps the part headings and no furniture.
	text := body.String()
	headings := 0
	for _, p := range c.Paragraphs {
		if strings.HasPrefix(p.Text, "PART ") {
			headings++
		}
	}
	if headings != 4 {
		t.Errorf("%d part headings kept as paragraphs, want 4 (parts two to five; part one is announced inside a paragraph)", headings)
	}
	for _, bad := range []string{"#511", "DECLASSIFIED", "E.O. 11652", "NARS", "~~", "CORRECTED PAGE", "DC/R", "INCOMING TELEGRAM", "No paraphrase"} {
		if strings.Contains(text, bad) {
			t.Errorf("furniture %q left in the text", bad)
		}
	}
	for _, m := range r.Marks {
		if strings.Contains(text, m) {
			t.Errorf("mark %q left in the text", m)
		}
	}
	if len(r.Catchwords) != 17 {
		t.Errorf("%d catchwords taken out, want 17", len(r.Catchwords))
	}
	// Every sentence cut by a page break is whole again: for each page
	// header of the first transcript whose page starts in lower case, the
	// last words before the break and the first words after it stand
	// together in the rebuilt text. The pairs are read from the seed here,
	// not written into the test.
	joins := pageJoins(t, src, r.FirstLine, r.LastLine)
	if len(joins) < 8 {
		t.Fatalf("only %d page joins found in the seed", len(joins))
	}
	t.Logf("%d sentences cut by a page break in the seed", len(joins))
	for _, j := range joins {
		found := false
		for _, p := range c.Paragraphs {
			found = found || strings.Contains(strings.Join(strings.Fields(p.Text), " "), j)
		}
		if !found {
			t.Errorf("not rejoined within one paragraph across a page break: %q", j)
		}
	}
	if n := strings.Count(text, "(*)"); n != r.Garbles {
		t.Errorf("%d garble markers in the text, counted %d", n, r.Garbles)
	}
	// Every paragraph is numbered and marked as the cable.
	for i, p := range c.Paragraphs {
		if p.Number != i+1 || p.Classification != cable.Secret {
			t.Errorf("paragraph %d: number %d classification %v", i+1, p.Number, p.Classification)
		}
	}
	// A stamp read in full.
	s := r.Declassification[1]
	if s.Page != 3 || !s.Declassified || s.Authority != "E.O. 11652" || s.Section != "3(C) and 5(D) or (E)" ||
		s.LetterDate != "1972-08-10" || s.Reviewer != "N.L.T." || s.Date != "1972-12-11" {
		t.Errorf("stamp on page 3 = %+v", s)
	}
	// A review date that cannot be right (before the cable) is kept only as written.
	s = r.Declassification[2]
	if s.DateWritten != "2-11-22" || s.Date != "" {
		t.Errorf("stamp on page 4: date %q as written %q", s.Date, s.DateWritten)
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

var seedPageHeaderRE = regexp.MustCompile(`^\s*-\s*\d[^#]{0,8}#\s*511\b`)

// pageJoins reads, from the seed's first transcript (lines first to last),
// each page break after which the text goes on in lower case, and returns
// the last three words before the break joined to the first three after it.
func pageJoins(t *testing.T, src []byte, first, last int) []string {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	var out []string
	for i := first - 1; i < last && i < len(lines); i++ {
		if !seedPageHeaderRE.MatchString(lines[i]) {
			continue
		}
		next := ""
		for j := i + 1; j < last; j++ {
			if l := strings.TrimSpace(lines[j]); l != "" {
				next = l
				break
			}
		}
		if next == "" || !unicode.IsLower([]rune(next)[0]) {
			continue
		}
		prev := ""
		for j := i - 1; j > first; j-- {
			if l := strings.TrimSpace(lines[j]); len(l) > 80 {
				prev = l
				break
			}
		}
		pw, nw := strings.Fields(prev), strings.Fields(next)
		if len(pw) < 3 || len(nw) < 3 {
			continue
		}
		out = append(out, strings.Join(append(pw[len(pw)-3:], nw[:3]...), " "))
	}
	return out
}
