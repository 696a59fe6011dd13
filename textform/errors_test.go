package textform_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/textform"
)

// TestParseReportsEveryProblem feeds one cable with many mistakes and
// expects each to be named, by line, in one error.
func TestParseReportsEveryProblem(t *testing.T) {
	f := testForm(t)
	text := readTestdata(t, "malformed.txt")
	_, err := f.Parse(text, false)
	var e *cable.Error
	if !errors.As(err, &e) || e.Code != cable.EINVALID {
		t.Fatalf("error %v, want a *cable.Error with code %s", err, cable.EINVALID)
	}
	wantProblems(t, err,
		"line 2: unexpected text before the precedence line",
		"line 3: want the precedence",
		"line 4: unknown address \"AMEMBASSY ATLANTIS\"",
		"line 6: unknown address \"AMEMBASSY NOWHERE\"",
		"line 8: serial \"0041X\" must be written with four to six digits",
		"line 9: unknown caption or handling instruction \"CHEROKEE\"",
		"line 10: declassify-on date \"02/30/2035\" is not a real date",
		"line 13: a second SUBJECT line (the first is line 12)",
		"line 17: paragraph has no portion mark",
		"line 22: unexpected text after the closing BT",
	)
	if n := len(cable.ErrorProblems(err)); n != 10 {
		t.Errorf("%d problems, want 10:\n%s", n, problemList(cable.ErrorProblems(err)))
	}
}

// TestParseMissingParts names the cable field when a part is missing altogether.
func TestParseMissingParts(t *testing.T) {
	f := testForm(t)
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"empty", " \n\t\n", []string{"text: the text is empty"}},
		{"no precedence, FM or TO", "BT\nS E C R E T MOSCOW 00417\nSUBJECT: X\n\n1. (S) X\n\nY\nBT\n",
			[]string{"precedence: no precedence line", "station: no FM line", "to: no TO line"}},
		{"no classification line", "O 041625Z MAR 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nBT\nSUBJECT: X\n\n1. (S) X\n\nY\nBT\n",
			[]string{"classification: no classification line"}},
		{"bad classification line", "O 041625Z MAR 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nBT\nSECERT MOSCOW 00417\nSUBJECT: X\n\n1. (S) X\n\nY\nBT\n",
			[]string{"classification: no classification line", "line 5: want the classification line"}},
		{"addressees never end", "O 041625Z MAR 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\n",
			[]string{"classification: no BT and classification line"}},
		{"date-time group", "O 311625Z FEB 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nBT\nS E C R E T MOSCOW 00417\n\n1. (S) X\n\nY\nBT\n",
			[]string{"line 1: date-time group \"311625Z FEB 10\" names a day the month does not have"}},
		{"station mismatch", "O 041625Z MAR 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nBT\nS E C R E T LONDON 00417\n\n1. (S) X\n\nY\nBT\n",
			[]string{"line 5: the classification line names LONDON but the FM line MOSCOW"}},
		{"bad section", "O 041625Z MAR 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nBT\nS E C R E T SECTION 3 OF 2 MOSCOW 00417\n\n1. (S) X\n\nY\nBT\n",
			[]string{"line 5: malformed \"SECTION 3 OF 2\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Parse([]byte(tc.text), false)
			wantProblems(t, err, tc.want...)
		})
	}
}

// TestParseTooLarge refuses text over 50 MB before reading it.
func TestParseTooLarge(t *testing.T) {
	f := testForm(t)
	text := bytes.Repeat([]byte("1. (U) TEXT\n"), textform.MaxTextSize/12+1)
	_, err := f.Parse(text, false)
	wantProblems(t, err, "text: the text is larger than 50 MB")
}

// TestRenderRefuses names everything the text form cannot carry.
func TestRenderRefuses(t *testing.T) {
	f := testForm(t)
	c := goldenCable()
	c.Precedence = 0
	c.Classification = 9
	c.To = append(c.To, cable.Addressee{Station: "ATLANTIS", Role: cable.RoleInfo}, cable.Addressee{Station: "BONN", Role: "cc"})
	c.Captions = append(c.Captions, "CHEROKEE")
	c.Handling = append(c.Handling, "ORCON")
	c.Tags = append(c.Tags, "A,B")
	c.Paragraphs[1].Classification = 0
	c.DTG = time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := f.Render(c)
	wantProblems(t, err,
		"precedence:", "classification:", "to[4].station: station \"ATLANTIS\" is not in the directory",
		"to[5].role:", "captions[1]: unknown caption \"CHEROKEE\"", "handling[1]:", "tags[4]:", "paragraphs[1].classification:", "dtg:")
	if _, err := f.Render(nil); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("render of nil: %v", err)
	}
	if _, err := f.RenderMessage(&textform.Message{Cable: goldenCable(), Section: 3, Sections: 2}); !strings.Contains(err.Error(), "SECTION 3 OF 2") {
		t.Fatalf("render of section 3 of 2: %v", err)
	}
}

// TestNilDirectory uses station codes as addresses.
func TestNilDirectory(t *testing.T) {
	f := textform.New(nil)
	c := goldenCable()
	text, err := f.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte("FM MOSCOW\nTO STATE\nINFO LONDON\n")) {
		t.Fatalf("addresses are not the codes:\n%s", text)
	}
	back, err := f.Parse(text, false)
	if err != nil {
		t.Fatal(err)
	}
	if back.Station != "MOSCOW" || len(back.To) != 4 || back.To[3].Station != "LENINGRAD" {
		t.Fatalf("stations %s %v", back.Station, back.To)
	}
	_, err = f.Parse(bytes.Replace(text, []byte("FM MOSCOW"), []byte("FM AMEMBASSY MOSCOW"), 1), false)
	wantProblems(t, err, "line 2: unknown address \"AMEMBASSY MOSCOW\"")
}
