package textform_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/textform"
	"pgregory.net/rapid"
)

// Vocabularies for generated text: ordinary words, punctuation that the
// field writes, words that are keywords of the text form, and letters
// beyond ASCII.
var (
	genWords = []string{
		"THE", "AMBASSADOR", "MINISTER", "SAID", "THAT", "MOSCOW", "WOULD", "NOT", "ACCEPT",
		"talks", "resume", "on", "March", "8.", "quota", "figures", "in", "ref", "A", "were",
		"\"NOT", "THE", "LAST", "WORD\"", "U.S.-SOVIET", "(NOTAL)", "--", "50%", "NO.", "O'BRIEN",
		"D'AFFAIRES", "SUMMARY:", "END", "SUMMARY.", "COMMENT:", "1.4", "(S)", "(C)", "(U)", "1.",
		"2.", "A.", "B)", "REF:", "TAGS:", "SUBJECT:", "E.O.", "DECL:", "BT", "FM", "TO", "INFO",
		"NODIS", "NOFORN", "SIPDIS", "PAGE", "NNNN", "#0511", "SECTION", "01", "OF", "05",
		"S", "E", "C", "R", "T", "CLASSIFIED", "BY:", "REASON:", "for", "reasons",
		"DÉTENTE", "Gorbačëv", "—", "“quoted”", "straße", "日本", "½", "§4", "x=y;", "[sic]", "...",
	}
	genNames    = []string{"KENNAN", "HARTWELL", "Margaret A. Hartwell", "J. R. O'NEILL", "VAN DER BERG", "KIRKWOOD", "Aldridge", "DE LA CRUZ"}
	genTitles   = []string{"AMBASSADOR", "CHARGE D'AFFAIRES, A.I.", "Pol/Econ Counselor", "DCM", "DIRECTOR, EUR/RUS", "Deputy Chief of Mission."}
	genTags     = []string{"PREL", "PGOV", "ECON", "EFIS", "UR", "RS", "US", "PINR", "MARR", "KNNP", "ETRD", "AMGT", "CASC", "861.00", "711.61", "611.6131/2-2246", "700.001 B"}
	genEvents   = []string{"COMPLETION OF NEGOTIATIONS", "END OF TALKS", "GDS", "OADR", "XGDS-2", "upon release of the joint communique", "RDS-1 3/4/99 (KIRKWOOD, J.) OR-P"}
	genExempt   = []string{"25X1", "25X6", "50X1-HUM", "50X1-WMD", "X1", "75X2"}
	genOrders   = []string{"13526", "12958", "13292", "12356", "12065", "11652"}
	genRefForms = []string{"plain", "year", "id"}
)

func genText(t *rapid.T, label string, minWords, maxWords int) string {
	words := rapid.SliceOfN(rapid.SampledFrom(genWords), minWords, maxWords).Draw(t, label)
	return strings.Join(words, " ")
}

// genCable draws a valid, normalized cable: released, or a draft without
// serial and date-time group. at is the date-time group, or for a draft
// the release time Validate checks the declassification date against.
func genCable(t *rapid.T, dir *cable.Directory, draft bool) (c *cable.Cable, at time.Time) {
	var codes []string
	for _, s := range dir.Stations() {
		if s.Kind != cable.Relay {
			codes = append(codes, s.Code)
		}
	}
	minute := rapid.Int64Range(
		time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).Unix()/60,
		time.Date(2100, 12, 31, 23, 59, 0, 0, time.UTC).Unix()/60,
	).Draw(t, "dtg")
	at = time.Unix(minute*60, 0).UTC()

	c = &cable.Cable{}
	order := rapid.Permutation(codes).Draw(t, "stations")
	c.Station = order[0]
	nAction := rapid.IntRange(1, 3).Draw(t, "action")
	nInfo := rapid.IntRange(0, 3).Draw(t, "info")
	for i, code := range order[1 : 1+nAction+nInfo] {
		role := cable.RoleAction
		if i >= nAction {
			role = cable.RoleInfo
		}
		c.To = append(c.To, cable.Addressee{Station: code, Role: role})
	}
	if !draft {
		c.Serial = rapid.IntRange(1, 999999).Draw(t, "serial")
		c.DTG = at
		c.ID = cable.Identifier(at.Year(), c.Station, c.Serial)
	}
	c.Precedence = rapid.SampledFrom(cable.Precedences()).Draw(t, "precedence")
	c.Classification = rapid.SampledFrom(cable.Classifications()).Draw(t, "classification")

	if c.Classification.Classified() {
		for _, k := range cable.AllCaptions() {
			if rapid.IntRange(0, 3).Draw(t, "caption "+string(k)) == 0 && !(k == cable.EXDIS && c.HasCaption(cable.NODIS)) {
				c.Captions = append(c.Captions, k)
			}
		}
		if rapid.Bool().Draw(t, "noforn") {
			c.Handling = append(c.Handling, cable.NOFORN)
		}
	}
	if (c.Precedence == cable.Flash || c.Precedence == cable.Immediate) && rapid.Bool().Draw(t, "niact") {
		c.Handling = append(c.Handling, cable.NIACT)
	}
	if rapid.IntRange(0, 4).Draw(t, "no paraphrase") == 0 {
		c.Handling = append(c.Handling, cable.NoParaphraseNecessary)
	}

	c.Tags = rapid.SliceOfNDistinct(rapid.SampledFrom(genTags), 1, 5, func(s string) string { return s }).Draw(t, "tags")
	if rapid.Bool().Draw(t, "lower-case tags") {
		for i := range c.Tags {
			c.Tags[i] = strings.ToLower(c.Tags[i]) // Normalize puts them back
		}
	}
	c.Subject = genText(t, "subject", 1, 20)

	for i, n := 0, rapid.IntRange(0, 4).Draw(t, "references"); i < n; i++ {
		st := rapid.SampledFrom(codes).Draw(t, "ref station")
		num := rapid.IntRange(1, 999999).Draw(t, "ref serial")
		var text string
		switch rapid.SampledFrom(genRefForms).Draw(t, "ref form") {
		case "plain":
			text = st + " " + strconv.Itoa(num)
		case "year":
			text = strconv.Itoa(rapid.IntRange(30, 99).Draw(t, "ref year")) + " " + st + " " + strconv.Itoa(num)
		case "id":
			text = cable.Identifier(rapid.IntRange(1930, 2100).Draw(t, "ref year"), st, num)
		}
		c.References = append(c.References, cable.Reference{Text: text})
	}

	for i, n := 0, rapid.IntRange(1, 12).Draw(t, "paragraphs"); i < n; i++ {
		var lines []string
		for j, m := 0, rapid.IntRange(1, 4).Draw(t, "lines"); j < m; j++ {
			lines = append(lines, genText(t, "line", 1, 14))
		}
		c.Paragraphs = append(c.Paragraphs, cable.Paragraph{
			Number:         i + 1,
			Classification: cable.Classification(rapid.IntRange(1, int(c.Classification)).Draw(t, "portion")),
			Text:           strings.Join(lines, "\n"),
		})
	}
	c.Signature = strings.Join(rapid.SliceOfN(rapid.SampledFrom(genNames), 1, 2).Draw(t, "signature"), " ")

	if c.Classification.Classified() {
		letters := rapid.SliceOfNDistinct(rapid.ByteRange('a', 'h'), 1, 4, func(b byte) byte { return b }).Draw(t, "reason")
		a := &cable.Authority{
			Order:        rapid.SampledFrom(genOrders).Draw(t, "order"),
			ClassifiedBy: rapid.SampledFrom(genNames).Draw(t, "classified by") + ", " + rapid.SampledFrom(genTitles).Draw(t, "title"),
			Reason:       "1.4" + "(" + strings.Join(strings.Split(string(letters), ""), "), (") + ")",
		}
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		switch rapid.IntRange(0, 2).Draw(t, "declassify") {
		case 0:
			a.DeclassifyOn.Date = day.AddDate(0, 0, rapid.IntRange(0, 25*365).Draw(t, "declassify days"))
		case 1:
			a.DeclassifyOn.Event = rapid.SampledFrom(genEvents).Draw(t, "event")
		case 2:
			a.DeclassifyOn.Exemption = rapid.SampledFrom(genExempt).Draw(t, "exemption")
			if rapid.Bool().Draw(t, "exemption date") {
				a.DeclassifyOn.Date = day.AddDate(rapid.IntRange(0, 75).Draw(t, "exemption years"), 0, 0)
			}
		}
		c.Authority = a
	} else if rapid.Bool().Draw(t, "E.O. N/A") {
		c.Authority = &cable.Authority{Order: rapid.SampledFrom(genOrders).Draw(t, "order")}
	}

	// Shuffle the addressees and repeat markings: Normalize must put them in order.
	if rapid.Bool().Draw(t, "unordered") {
		c.Captions = append(c.Captions, c.Captions...)
		for i, j := 0, len(c.Handling)-1; i < j; i, j = i+1, j-1 {
			c.Handling[i], c.Handling[j] = c.Handling[j], c.Handling[i]
		}
	}
	cable.Normalize(c)
	return c, at
}

// checkRoundTrip is the text form's contract: for every valid,
// normalized cable, Render then Parse gives the same cable.
func checkRoundTrip(t *rapid.T, dir *cable.Directory, draft bool) {
	f := textform.New(dir)
	c, at := genCable(t, dir, draft)
	opts := cable.ValidateOptions{Directory: dir, Draft: draft}
	if draft {
		opts.At = at
	}
	if err := cable.Validate(c, opts); err != nil {
		t.Fatalf("generated cable is not valid: %v", err)
	}
	text, err := f.Render(c)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	back, err := f.Parse(text, draft)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs:\n%s\ntext:\n%s", diffCables(c, back), text)
	}
	// Rendering is a function of the cable: the parsed cable renders the same text.
	again, err := f.Render(back)
	if err != nil || string(again) != string(text) {
		t.Fatalf("second rendering differs (%v):\n%s", err, again)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := testDirectory(t)
	t.Run("released", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) { checkRoundTrip(t, dir, false) })
	})
	t.Run("draft", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) { checkRoundTrip(t, dir, true) })
	})
}

// FuzzRoundTrip lets the fuzzer steer the cable generator of TestRoundTrip.
func FuzzRoundTrip(f *testing.F) {
	dir := testDirectory(f)
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		checkRoundTrip(t, dir, rapid.Bool().Draw(t, "draft"))
	}))
}

// TestRoundTripSections round-trips the SECTION marker of a message.
func TestRoundTripSections(t *testing.T) {
	dir := testDirectory(t)
	rapid.Check(t, func(t *rapid.T) {
		f := textform.New(dir)
		c, _ := genCable(t, dir, false)
		sections := rapid.IntRange(1, 99).Draw(t, "sections")
		m := &textform.Message{Cable: c, Section: rapid.IntRange(1, sections).Draw(t, "section"), Sections: sections}
		text, err := f.RenderMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := f.ParseMessage(text, false)
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, text)
		}
		if back.Section != m.Section || back.Sections != m.Sections || !reflect.DeepEqual(back.Cable, c) {
			t.Fatalf("message differs: section %d of %d\n%s", back.Section, back.Sections, diffCables(c, back.Cable))
		}
	})
}
