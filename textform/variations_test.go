package textform_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// edit replaces each old text with its new text and fails if one is missing.
func edit(t *testing.T, text string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("test text has no %q", pairs[i])
		}
		text = strings.Replace(text, pairs[i], pairs[i+1], 1)
	}
	return text
}

// TestParseVariations parses the golden texts changed into each accepted
// variation and checks the cable read.
func TestParseVariations(t *testing.T) {
	f := testForm(t)
	released := string(readTestdata(t, "released.txt"))
	draft := string(readTestdata(t, "draft.txt"))
	same := func(c *cable.Cable) {}

	for _, tc := range []struct {
		name     string
		draft    bool
		text     func(t *testing.T) string
		want     func(c *cable.Cable) // applied to the golden cable
		sections [2]int
	}{
		{name: "unspaced banner", text: func(t *testing.T) string { return edit(t, released, "S E C R E T MOSCOW", "SECRET MOSCOW") }, want: same},
		{name: "six-digit serial", text: func(t *testing.T) string { return edit(t, released, "MOSCOW 00417", "MOSCOW 000417") }, want: same},
		{name: "four-digit serial", text: func(t *testing.T) string { return edit(t, released, "MOSCOW 00417", "MOSCOW 0417") }, want: same},
		{name: "section marker", text: func(t *testing.T) string {
			return edit(t, released, "S E C R E T MOSCOW", "S E C R E T SECTION 02 OF 03 MOSCOW")
		}, want: same, sections: [2]int{2, 3}},
		{name: "tags without commas", text: func(t *testing.T) string {
			return edit(t, released, "TAGS: PREL, EFIS, RS, US", "TAGS: PREL EFIS RS US")
		}, want: same},
		{name: "tags wrapped", text: func(t *testing.T) string {
			return edit(t, released, "TAGS: PREL, EFIS, RS, US", "TAGS: PREL, EFIS,\n      RS, US")
		}, want: same},
		{name: "subject wrapped", text: func(t *testing.T) string {
			return edit(t, released, "SIGNALS FLEXIBILITY", "SIGNALS\n     FLEXIBILITY")
		}, want: same},
		{name: "SUBJ keyword", text: func(t *testing.T) string { return edit(t, released, "SUBJECT:", "SUBJ:") }, want: same},
		{name: "refs in parentheses", text: func(t *testing.T) string {
			return edit(t, released, "REF: A. STATE 21234\n     B. MOSCOW 310", "REFS: (A) STATE 21234 (B) MOSCOW 310")
		}, want: same},
		{name: "refs with brackets and semicolon", text: func(t *testing.T) string {
			return edit(t, released, "REF: A. STATE 21234\n     B. MOSCOW 310", "REF: A) STATE 21234; B) MOSCOW 310.")
		}, want: same},
		{name: "refs one per REF line", text: func(t *testing.T) string {
			return edit(t, released, "REF: A. STATE 21234\n     B. MOSCOW 310", "REF A: STATE 21234\nREF B: MOSCOW 310")
		}, want: same},
		{name: "refs separated by commas", text: func(t *testing.T) string {
			return edit(t, released, "REF: A. STATE 21234\n     B. MOSCOW 310", "REF: STATE 21234, MOSCOW 310")
		}, want: same},
		{name: "refs inline letters", text: func(t *testing.T) string {
			return edit(t, released, "REF: A. STATE 21234\n     B. MOSCOW 310", "Ref: A. State 21234 B. Moscow 310")
		}, want: same},
		{name: "refs not indented", text: func(t *testing.T) string {
			return edit(t, released, "     B. MOSCOW 310", "B. MOSCOW 310")
		}, want: same},
		{name: "captions on one line", text: func(t *testing.T) string { return edit(t, released, "EXDIS\nNOFORN", "NOFORN, EXDIS") }, want: same},
		{name: "ignored markers", text: func(t *testing.T) string {
			return edit(t, released, "EXDIS\nNOFORN", "SIPDIS\nEXDIS NOFORN SIPDIS\nSENSITIVE")
		}, want: same},
		{name: "passing instructions", text: func(t *testing.T) string {
			return edit(t, released, "NOFORN\n", "NOFORN\n\nDEPT FOR EUR/RUS, OES/OMC\nPASS TO USDA\n\n")
		}, want: same},
		{name: "routing indicators and per-addressee precedence", text: func(t *testing.T) string {
			return edit(t, released, "TO SECSTATE WASHDC", "TO RUEHC/SECSTATE WASHDC IMMEDIATE 0417.", "INFO AMEMBASSY LONDON", "INFO RUEHLO/AMEMBASSY LONDON 0567", "AMEMBASSY PARIS", "RUEHFR/AMEMBASSY PARIS ROUTINE")
		}, want: same},
		{name: "NIACT on an addressee", text: func(t *testing.T) string {
			return edit(t, released, "TO SECSTATE WASHDC", "TO RUEHC/SECSTATE WASHDC NIACT IMMEDIATE 0417")
		}, want: func(c *cable.Cable) { c.Handling = []cable.Handling{cable.NIACT, cable.NOFORN} }},
		{name: "NIACT on line 1", text: func(t *testing.T) string { return edit(t, released, "O 041625Z", "NIACT IMMEDIATE 041625Z") },
			want: func(c *cable.Cable) { c.Handling = []cable.Handling{cable.NIACT, cable.NOFORN} }},
		{name: "NIACT as a handling line", text: func(t *testing.T) string { return edit(t, released, "NOFORN\n", "NOFORN\nNIACT\n") },
			want: func(c *cable.Cable) { c.Handling = []cable.Handling{cable.NIACT, cable.NOFORN} }},
		{name: "TO and INFO repeated", text: func(t *testing.T) string {
			return edit(t, released, "AMEMBASSY PARIS", "INFO AMEMBASSY PARIS", "TO SECSTATE WASHDC\n", "TO SECSTATE WASHDC\nTO AMEMBASSY BONN\n")
		}, want: func(c *cable.Cable) {
			c.To = append([]cable.Addressee{c.To[0], {Station: "BONN", Role: cable.RoleAction}}, c.To[1:]...)
		}},
		{name: "precedence word", text: func(t *testing.T) string { return edit(t, released, "O 041625Z", "IMMEDIATE 041625Z") }, want: same},
		{name: "info precedence and operating signal", text: func(t *testing.T) string { return edit(t, released, "O 041625Z MAR 10", "O R 041625Z MAR 10 ZFF4") }, want: same},
		{name: "four-digit year", text: func(t *testing.T) string { return edit(t, released, "041625Z MAR 10", "041625Z MAR 2010") }, want: same},
		{name: "transmission header", text: func(t *testing.T) string {
			return "VZCZCXRO0417\nOO RUEHWEB\n\nDE RUEHMO #0417/01 0631625\nZNY SSSSS ZZH\n" + released
		}, want: same},
		{name: "page headers", text: func(t *testing.T) string {
			return edit(t, released, "SAID THE QUOTA", "\n\nPAGE 02        MOSCOW 00417 041625Z\n\nSAID THE QUOTA", "O 041625Z", "PAGE 01 MOSCOW 00417 041625Z\nO 041625Z")
		}, want: same},
		{name: "CRLF, tabs and trailing spaces", text: func(t *testing.T) string {
			s := edit(t, released, "\nHINTED", "\n\tHINTED", "1. (C) SUMMARY:", "1.\t(C)  SUMMARY:")
			return strings.ReplaceAll(s, "\n", " \t\r\n")
		}, want: same},
		{name: "old Mac line ends and a byte order mark", text: func(t *testing.T) string {
			return "\uFEFF" + strings.ReplaceAll(released, "\n", "\r")
		}, want: same},
		{name: "subparagraphs after blank lines", text: func(t *testing.T) string {
			return edit(t, released, "ALIVE.\nEND COMMENT.", "ALIVE.\n\n   A. FIRST POINT;\n\n   B. SECOND POINT.\n\nEND COMMENT.")
		}, want: func(c *cable.Cable) {
			c.Paragraphs[3].Text = strings.Replace(c.Paragraphs[3].Text, "ALIVE.\n", "ALIVE.\nA. FIRST POINT;\nB. SECOND POINT.\n", 1)
		}},
		{name: "no BT lines", text: func(t *testing.T) string {
			return edit(t, released, "LENINGRAD\nBT\n", "LENINGRAD\n\n", "HARTWELL\nBT\n", "HARTWELL\n")
		}, want: same},
		{name: "trailer after the closing BT", text: func(t *testing.T) string { return released + "#0417\n\nNNNN\n" }, want: same},
		{name: "no space after the number", text: func(t *testing.T) string { return edit(t, released, "2. (S) IN", "2.(S)IN") }, want: same},
		{name: "unmarked paragraphs of a classified cable", text: func(t *testing.T) string {
			return edit(t, released, "1. (C)", "1.", "2. (S)", "2.", "3. (U)", "3.", "4. (C)", "4.")
		}, want: func(c *cable.Cable) {
			for i := range c.Paragraphs {
				c.Paragraphs[i].Classification = cable.Secret
			}
		}},
		{name: "marked paragraphs without numbers", text: func(t *testing.T) string {
			return edit(t, released, "1. (C)", "(C)", "2. (S)", "(S)", "3. (U)", "(U)", "4. (C)", "(C)")
		}, want: same},
		{name: "authority 2000s form", text: func(t *testing.T) string {
			return edit(t, released, "CLASSIFIED BY: MARGARET A. HARTWELL, AMBASSADOR. REASON: 1.4 (B) AND (D)", "Classified By: Ambassador Margaret A. Hartwell. Reason 1.4 (b) and (d).")
		}, want: func(c *cable.Cable) { c.Authority.ClassifiedBy = "Ambassador Margaret A. Hartwell" }},
		{name: "authority for reasons, wrapped", text: func(t *testing.T) string {
			return edit(t, released, "CLASSIFIED BY: MARGARET A. HARTWELL, AMBASSADOR. REASON: 1.4 (B) AND (D)", "Classified by Ambassador Margaret A. Hartwell\nfor reasons 1.4 (b) and (d)")
		}, want: func(c *cable.Cable) { c.Authority.ClassifiedBy = "Ambassador Margaret A. Hartwell" }},
		{name: "authority with a colon", text: func(t *testing.T) string {
			return edit(t, released, "CLASSIFIED BY: MARGARET A. HARTWELL, AMBASSADOR. REASON: 1.4 (B) AND (D)", "Classified By: Ambassador Margaret A. Hartwell: 1.4 (b, d).")
		}, want: func(c *cable.Cable) { c.Authority.ClassifiedBy = "Ambassador Margaret A. Hartwell" }},
		{name: "exemption", text: func(t *testing.T) string { return edit(t, released, "DECL: 03/04/2035", "DECL: 25X1") },
			want: func(c *cable.Cable) { c.Authority.DeclassifyOn = cable.DeclassifyOn{Exemption: "25X1"} }},
		{name: "exemption with a date", text: func(t *testing.T) string { return edit(t, released, "DECL: 03/04/2035", "DECL: 50X1-HUM, 03/04/2060") },
			want: func(c *cable.Cable) {
				c.Authority.DeclassifyOn = cable.DeclassifyOn{Exemption: "50X1-HUM", Date: date(2060, time.March, 4)}
			}},
		{name: "exemption with a date before 1000", text: func(t *testing.T) string { return edit(t, released, "DECL: 03/04/2035", "DECL: 25X1, 0999-01-01") },
			want: func(c *cable.Cable) {
				c.Authority.DeclassifyOn = cable.DeclassifyOn{Exemption: "25X1", Date: date(999, time.January, 1)}
			}},
		{name: "event", text: func(t *testing.T) string { return edit(t, released, "DECL: 03/04/2035", "DECL: END OF THE  TALKS") },
			want: func(c *cable.Cable) { c.Authority.DeclassifyOn = cable.DeclassifyOn{Event: "END OF THE TALKS"} }},
		{name: "E.O. 12356 OADR", text: func(t *testing.T) string {
			return edit(t, released, "E.O. 13526: DECL: 03/04/2035", "E.O. 12356: DECL: OADR")
		},
			want: func(c *cable.Cable) {
				c.Authority.Order = "12356"
				c.Authority.DeclassifyOn = cable.DeclassifyOn{Event: "OADR"}
			}},
		{name: "E.O. 11652 GDS", text: func(t *testing.T) string { return edit(t, released, "E.O. 13526: DECL: 03/04/2035", "E.O. 11652: GDS") },
			want: func(c *cable.Cable) {
				c.Authority.Order = "11652"
				c.Authority.DeclassifyOn = cable.DeclassifyOn{Event: "GDS"}
			}},
		{name: "E.O. 12065 instruction", text: func(t *testing.T) string {
			return edit(t, released, "E.O. 13526: DECL: 03/04/2035", "E.O. 12065: RDS-1 3/4/99 (KIRKWOOD, J.)\n  OR-P")
		}, want: func(c *cable.Cable) {
			c.Authority.Order = "12065"
			c.Authority.DeclassifyOn = cable.DeclassifyOn{Event: "RDS-1 3/4/99 (KIRKWOOD, J.) OR-P"}
		}},
		{name: "E.O. packed and ISO date", text: func(t *testing.T) string {
			return edit(t, released, "E.O. 13526: DECL: 03/04/2035", "E.O.13526:DECL:2035-03-04")
		}, want: same},
		{name: "markings after the serial", text: func(t *testing.T) string {
			return edit(t, released, "MOSCOW 00417\nEXDIS\nNOFORN\n", "MOSCOW 00417 EXDIS\nNOFORN\n")
		}, want: same},
		{name: "STADIS with slashes", text: func(t *testing.T) string { return edit(t, released, "EXDIS\n", "EXDIS\nSTADIS////////\n") },
			want: func(c *cable.Cable) { c.Captions = []cable.Caption{cable.EXDIS, cable.STADIS} }},
		{name: "station alias on the classification line", text: func(t *testing.T) string {
			return edit(t, released, "FM AMEMBASSY MOSCOW", "FM SECSTATE WASHDC", "TO SECSTATE WASHDC", "TO AMEMBASSY MOSCOW", "MOSCOW 00417", "DEPT OF STATE WASHDC 00417")
		}, want: func(c *cable.Cable) {
			c.Station, c.ID = "STATE", "2010STATE00417"
			c.To[0].Station = "MOSCOW"
		}},
		{name: "E.O. without dots or colon", text: func(t *testing.T) string {
			return edit(t, released, "E.O. 13526: DECL: 03/04/2035", "EO 12958 DECL: 03/04/2035")
		},
			want: func(c *cable.Cable) { c.Authority.Order = "12958" }},

		// Drafts.
		{name: "draft as rendered", draft: true, text: func(t *testing.T) string { return draft }, want: nil},
		{name: "draft prosign", draft: true, text: func(t *testing.T) string { return edit(t, draft, "NIACT FLASH", "NIACT Z") }, want: nil},
		{name: "draft without NIACT", draft: true, text: func(t *testing.T) string { return edit(t, draft, "NIACT FLASH", "Z") },
			want: func(c *cable.Cable) { c.Handling = nil }},
		{name: "draft banner UNCLASSIFIED with station", draft: true, text: func(t *testing.T) string { return edit(t, draft, "UNCLAS\n", "UNCLASSIFIED STATE\n") }, want: nil},
		{name: "draft banner EFTO", draft: true, text: func(t *testing.T) string { return edit(t, draft, "UNCLAS\n", "UNCLAS E F T O\n") }, want: nil},
		{name: "draft unmarked paragraphs", draft: true, text: func(t *testing.T) string {
			return edit(t, draft, "1. (U) ", "1. ", "2. (U) ", "2. ", "3. (U) ", "3. ")
		}, want: nil},
		{name: "draft LIMITED OFFICIAL USE", draft: true, text: func(t *testing.T) string {
			return edit(t, draft, "UNCLAS\n", "LIMITED OFFICIAL USE\n", "1. (U)", "1. (SBU)", "2. (U)", "2. (LOU)")
		}, want: func(c *cable.Cable) {
			c.Classification = cable.LimitedOfficialUse
			c.Paragraphs[0].Classification = cable.LimitedOfficialUse
			c.Paragraphs[1].Classification = cable.LimitedOfficialUse
		}},
		{name: "draft NO PARAPHRASE", draft: true, text: func(t *testing.T) string { return edit(t, draft, "UNCLAS\n", "UNCLAS\nNO PARAPHRASE\n") },
			want: func(c *cable.Cable) { c.Handling = append(c.Handling, cable.NoParaphraseNecessary) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := goldenCable()
			if tc.draft {
				want = goldenDraft()
			}
			if tc.want != nil {
				tc.want(want)
			}
			text := tc.text(t)
			m, err := f.ParseMessage([]byte(text), tc.draft)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if !reflect.DeepEqual(m.Cable, want) {
				t.Fatalf("parsed cable differs:\n%s\ntext:\n%s", diffCables(want, m.Cable), text)
			}
			if m.Section != tc.sections[0] || m.Sections != tc.sections[1] {
				t.Fatalf("section %d of %d, want %d of %d", m.Section, m.Sections, tc.sections[0], tc.sections[1])
			}
			// And the canonical rendering of what was read reads back the same.
			out, err := f.RenderMessage(m)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			back, err := f.ParseMessage(out, tc.draft)
			if err != nil || !reflect.DeepEqual(back, m) {
				t.Fatalf("canonical rendering does not read back (%v):\n%s", err, out)
			}
		})
	}
}
