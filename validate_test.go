package cable_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// dtg1946 is the date-time group of the model cable: 221800Z FEB 46.
var dtg1946 = time.Date(1946, time.February, 22, 18, 0, 0, 0, time.UTC)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// testDirectory is a small directory: two posts, the headquarters and a relay.
func testDirectory(t testing.TB) *cable.Directory {
	t.Helper()
	d, err := cable.NewDirectory([]cable.Station{
		{Code: "STATE", Kind: cable.Headquarters, TimeZone: "America/New_York", Address: "SECSTATE WASHDC",
			Aliases: []string{"SECRETARY OF STATE WASHINGTON"},
			Offices: []cable.Office{{Symbol: "EUR", Name: "Office of European Affairs"}, {Symbol: "S", Name: "Secretary"}, {Symbol: "DC/R", Name: "Records"}, {Symbol: "NEA"}}},
		{Code: "MOSCOW", Kind: cable.Post, TimeZone: "Europe/Moscow", Address: "AMEMBASSY MOSCOW",
			Offices: []cable.Office{{Symbol: "POL", Name: "Political Section"}}},
		{Code: "LONDON", Kind: cable.Post, TimeZone: "Europe/London", Address: "AMEMBASSY LONDON"},
		{Code: "WAR", Kind: cable.Relay, TimeZone: "America/New_York", Address: "WARDEPT WASHDC"},
	})
	if err != nil {
		t.Fatalf("NewDirectory: %v", err)
	}
	return d
}

// drafter is an officer at MOSCOW cleared to TOP SECRET who holds EXDIS.
func drafter() *cable.User {
	return &cable.User{Name: "gkennan", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.TopSecret,
		Captions: []cable.Caption{cable.EXDIS}, Roles: []cable.UserRole{cable.RoleDrafter}}
}

// validCable returns a released cable that passes every check under opts().
func validCable() *cable.Cable {
	return &cable.Cable{
		ID:             "1946MOSCOW00511",
		Station:        "MOSCOW",
		Serial:         511,
		DTG:            dtg1946,
		Precedence:     cable.Immediate,
		Classification: cable.Secret,
		Captions:       []cable.Caption{cable.EXDIS},
		Handling:       []cable.Handling{cable.NIACT, cable.NoParaphraseNecessary},
		To:             []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}},
		Tags:           []string{"PREL", "UR", "861.00"},
		Subject:        "Sources of postwar policy",
		References:     []cable.Reference{{Text: "STATE 284"}},
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Confidential, Text: "The answer comes in five parts."},
			{Number: 2, Classification: cable.Secret, Text: "Part one: the basic features of the outlook."},
		},
		Signature: "KENNAN",
		Authority: &cable.Authority{ClassifiedBy: "George F. Kennan, Charge", Reason: "1.4 (B) AND (D)",
			DeclassifyOn: cable.DeclassifyOn{Date: date(1971, time.February, 22)}},
	}
}

func opts(t testing.TB) cable.ValidateOptions {
	return cable.ValidateOptions{Directory: testDirectory(t), Drafter: drafter()}
}

// unclassified marks c UNCLASSIFIED throughout and drops what only a
// classified cable carries.
func unclassified(c *cable.Cable) {
	c.Classification = cable.Unclassified
	for i := range c.Paragraphs {
		c.Paragraphs[i].Classification = cable.Unclassified
	}
	c.Captions = nil
	c.Authority = nil
}

// problemFields returns the sorted fields of err's problems, failing the
// test unless err is nil or an EINVALID *Error whose every problem has a
// message.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *cable.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *cable.Error", err, err)
	}
	if e.Code != cable.EINVALID {
		t.Fatalf("code = %q, want %q", e.Code, cable.EINVALID)
	}
	if len(e.Problems) == 0 {
		t.Fatalf("EINVALID error without problems: %v", err)
	}
	var fields []string
	for _, p := range e.Problems {
		if strings.TrimSpace(p.Message) == "" {
			t.Errorf("problem for %q has no message", p.Field)
		}
		if !strings.Contains(err.Error(), p.String()) {
			t.Errorf("error text %q does not carry problem %q", err.Error(), p.String())
		}
		fields = append(fields, p.Field)
	}
	slices.Sort(fields)
	return fields
}

type validateCase struct {
	name   string
	mutate func(c *cable.Cable, o *cable.ValidateOptions)
	want   []string // problem fields; nil for a valid cable
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, o := validCable(), opts(t)
			tc.mutate(c, &o)
			err := cable.Validate(c, o)
			got := problemFields(t, err)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("problem fields = %q, want %q\nerror: %v", got, want, err)
			}
		})
	}
}

func TestValidateValidCable(t *testing.T) {
	if err := cable.Validate(validCable(), opts(t)); err != nil {
		t.Fatalf("valid cable refused: %v", err)
	}
	if err := cable.Validate(validCable(), cable.ValidateOptions{}); err != nil {
		t.Fatalf("valid cable refused without options: %v", err)
	}
}

func TestValidateNil(t *testing.T) {
	err := cable.Validate(nil, cable.ValidateOptions{})
	if got := problemFields(t, err); !slices.Equal(got, []string{""}) {
		t.Fatalf("fields = %q, want one problem without field", got)
	}
}

func TestValidateStation(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"lower case", func(c *cable.Cable, o *cable.ValidateOptions) { c.Station, c.ID, o.Drafter = "moscow", "", nil }, []string{"station"}},
		{"one letter", func(c *cable.Cable, o *cable.ValidateOptions) { c.Station, c.ID, o.Drafter = "M", "", nil }, []string{"station"}},
		{"too long", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Station, c.ID, o.Drafter = strings.Repeat("A", 21), "", nil
		}, []string{"station"}},
		{"unknown to the directory", func(c *cable.Cable, o *cable.ValidateOptions) { c.Station, c.ID, o.Drafter = "KABUL", "", nil }, []string{"station"}},
		{"unknown without a directory", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Station, c.ID, o.Drafter, o.Directory = "KABUL", "", nil, nil
		}, nil},
		{"bad code and drafter elsewhere", func(c *cable.Cable, o *cable.ValidateOptions) { c.Station, c.ID = "moscow", "" }, []string{"station", "station"}},
	})
}

func TestValidateRelease(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"serial zero", func(c *cable.Cable, o *cable.ValidateOptions) { c.Serial, c.ID = 0, "" }, []string{"serial"}},
		{"serial too large", func(c *cable.Cable, o *cable.ValidateOptions) { c.Serial, c.ID = 1000000, "" }, []string{"serial"}},
		{"largest serial", func(c *cable.Cable, o *cable.ValidateOptions) { c.Serial, c.ID = 999999, "1946MOSCOW999999" }, nil},
		{"no DTG", func(c *cable.Cable, o *cable.ValidateOptions) { c.DTG = time.Time{} }, []string{"dtg"}},
		{"identifier of another serial", func(c *cable.Cable, o *cable.ValidateOptions) { c.ID = "1946MOSCOW00512" }, []string{"id"}},
		{"identifier of another year", func(c *cable.Cable, o *cable.ValidateOptions) { c.ID = "1947MOSCOW00511" }, []string{"id"}},
		{"no identifier yet", func(c *cable.Cable, o *cable.ValidateOptions) { c.ID = "" }, nil},
		{"draft", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.ID, c.Serial, c.DTG = "", 0, time.Time{}
			o.Draft, o.At = true, dtg1946
		}, nil},
		{"released fields of a draft are not checked", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.ID, c.Serial = "1946MOSCOW00512", 0
			o.Draft = true
		}, nil},
	})
}

func TestValidatePrecedence(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"zero", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = 0 }, []string{"precedence"}},
		{"out of range", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = 9 }, []string{"precedence"}},
		{"flash", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = cable.Flash }, nil},
	})
}

func TestValidateAddressees(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"none", func(c *cable.Cable, o *cable.ValidateOptions) { c.To = nil }, []string{"to"}},
		{"info only", func(c *cable.Cable, o *cable.ValidateOptions) { c.To[0].Role = cable.RoleInfo }, []string{"to"}},
		{"unknown role", func(c *cable.Cable, o *cable.ValidateOptions) { c.To[1].Role = "cc" }, []string{"to[1].role"}},
		{"malformed station", func(c *cable.Cable, o *cable.ValidateOptions) { c.To[1].Station = "london" }, []string{"to[1].station"}},
		{"unknown station", func(c *cable.Cable, o *cable.ValidateOptions) { c.To[1].Station = "KABUL" }, []string{"to[1].station"}},
		{"unknown station without a directory", func(c *cable.Cable, o *cable.ValidateOptions) { c.To[1].Station, o.Directory = "KABUL", nil }, nil},
		{"relay", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.To = append(c.To, cable.Addressee{Station: "WAR", Role: cable.RoleInfo})
		}, []string{"to[2].station"}},
		{"itself", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.To = append(c.To, cable.Addressee{Station: "MOSCOW", Role: cable.RoleInfo})
		}, []string{"to[2].station"}},
		{"duplicate with another role", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.To = append(c.To, cable.Addressee{Station: "STATE", Role: cable.RoleInfo})
		}, []string{"to[2].station"}},
		{"duplicate twice", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.To = append(c.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo}, cable.Addressee{Station: "LONDON", Role: cable.RoleAction})
		}, []string{"to[2].station", "to[3].station"}},
		{"every problem of every addressee", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.To = []cable.Addressee{{Station: "WAR", Role: "cc"}, {Station: "x", Role: cable.RoleInfo}, {Station: "WAR", Role: cable.RoleInfo}}
		}, []string{"to", "to[0].role", "to[0].station", "to[1].station", "to[2].station", "to[2].station"}},
	})
}

func TestValidateClassification(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"zero", func(c *cable.Cable, o *cable.ValidateOptions) { c.Classification = 0 }, []string{"classification"}},
		{"out of range", func(c *cable.Cable, o *cable.ValidateOptions) { c.Classification = 6 }, []string{"classification"}},
		{"below its highest paragraph", func(c *cable.Cable, o *cable.ValidateOptions) { c.Classification = cable.Confidential }, []string{"classification"}},
		{"above its highest paragraph", func(c *cable.Cable, o *cable.ValidateOptions) { c.Classification = cable.TopSecret }, nil},
		{"unclassified", func(c *cable.Cable, o *cable.ValidateOptions) { unclassified(c) }, nil},
	})
}

func TestValidateCaptions(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"unknown", func(c *cable.Cable, o *cable.ValidateOptions) { c.Captions = append(c.Captions, "ROGER") }, []string{"captions[1]"}},
		{"lower case", func(c *cable.Cable, o *cable.ValidateOptions) { c.Captions = []cable.Caption{"exdis"} }, []string{"captions[0]"}},
		{"on an unclassified cable", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			c.Captions = []cable.Caption{cable.EXDIS}
		}, []string{"captions"}},
		{"on a limited official use cable", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			c.Classification = cable.LimitedOfficialUse
			c.Captions = []cable.Caption{cable.EXDIS}
		}, []string{"captions"}},
		{"on a confidential cable", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Classification = cable.Confidential
			c.Paragraphs[1].Classification = cable.Confidential
		}, nil},
		{"NODIS with EXDIS", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Captions = []cable.Caption{cable.NODIS, cable.EXDIS}
			o.Drafter.Captions = cable.AllCaptions()
		}, []string{"captions"}},
		{"every caption but EXDIS", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Captions = []cable.Caption{cable.NODIS, cable.LIMDIS, cable.STADIS}
			o.Drafter.Captions = cable.AllCaptions()
		}, nil},
	})
}

func TestValidateHandling(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"unknown", func(c *cable.Cable, o *cable.ValidateOptions) { c.Handling = append(c.Handling, "EYES ONLY") }, []string{"handling[2]"}},
		{"NOFORN on a classified cable", func(c *cable.Cable, o *cable.ValidateOptions) { c.Handling = append(c.Handling, cable.NOFORN) }, nil},
		{"NOFORN on an unclassified cable", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			c.Handling = []cable.Handling{cable.NOFORN}
		}, []string{"handling"}},
		{"NOFORN on a limited official use cable", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			c.Classification = cable.LimitedOfficialUse
			c.Handling = []cable.Handling{cable.NOFORN}
		}, []string{"handling"}},
		{"NIACT with FLASH", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = cable.Flash }, nil},
		{"NIACT with IMMEDIATE", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = cable.Immediate }, nil},
		{"NIACT with PRIORITY", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = cable.Priority }, []string{"handling"}},
		{"NIACT with ROUTINE", func(c *cable.Cable, o *cable.ValidateOptions) { c.Precedence = cable.Routine }, []string{"handling"}},
		{"ROUTINE without NIACT", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Precedence = cable.Routine
			c.Handling = []cable.Handling{cable.NoParaphraseNecessary}
		}, nil},
		{"NIACT on an unclassified cable", func(c *cable.Cable, o *cable.ValidateOptions) { unclassified(c) }, nil},
	})
}

func TestValidateDrafter(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"cleared to the classification", func(c *cable.Cable, o *cable.ValidateOptions) { o.Drafter.Clearance = cable.Secret }, nil},
		{"cleared below the classification", func(c *cable.Cable, o *cable.ValidateOptions) { o.Drafter.Clearance = cable.Confidential }, []string{"classification", "paragraphs[1].classification"}},
		{"with no clearance", func(c *cable.Cable, o *cable.ValidateOptions) { o.Drafter.Clearance = 0 }, []string{"classification", "paragraphs[0].classification", "paragraphs[1].classification"}},
		{"uncleared drafter of an unclassified cable", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			o.Drafter.Clearance = cable.Unclassified
		}, nil},
		{"caption not held", func(c *cable.Cable, o *cable.ValidateOptions) { o.Drafter.Captions = []cable.Caption{cable.NODIS} }, []string{"captions"}},
		{"two captions not held", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Captions = []cable.Caption{cable.EXDIS, cable.LIMDIS, cable.STADIS}
		}, []string{"captions", "captions"}},
		{"drafts for another station", func(c *cable.Cable, o *cable.ValidateOptions) { o.Drafter.Station = "LONDON" }, []string{"station"}},
		{"all at once", func(c *cable.Cable, o *cable.ValidateOptions) {
			o.Drafter = &cable.User{Name: "clerk", Station: "STATE", Clearance: cable.Confidential}
		}, []string{"captions", "classification", "paragraphs[1].classification", "station"}},
		{"no drafter", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Captions = []cable.Caption{cable.NODIS}
			o.Drafter = nil
		}, nil},
	})
}

func TestValidateSubject(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"empty", func(c *cable.Cable, o *cable.ValidateOptions) { c.Subject = "" }, []string{"subject"}},
		{"blank", func(c *cable.Cable, o *cable.ValidateOptions) { c.Subject = " \t " }, []string{"subject"}},
		{"400 characters", func(c *cable.Cable, o *cable.ValidateOptions) { c.Subject = strings.Repeat("A", 400) }, nil},
		{"401 characters", func(c *cable.Cable, o *cable.ValidateOptions) { c.Subject = strings.Repeat("A", 401) }, []string{"subject"}},
		{"two lines", func(c *cable.Cable, o *cable.ValidateOptions) { c.Subject = "ONE\nTWO" }, []string{"subject"}},
		{"carriage return", func(c *cable.Cable, o *cable.ValidateOptions) { c.Subject = "ONE\rTWO" }, []string{"subject"}},
	})
}

func TestValidateTags(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"none", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags = nil }, []string{"tags"}},
		{"lower case", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[1] = "ur" }, []string{"tags[1]"}},
		{"one letter", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[0] = "P" }, []string{"tags[0]"}},
		{"thirteen letters", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[0] = "ABCDEFGHIJKLM" }, []string{"tags[0]"}},
		{"twelve letters", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[0] = "ABCDEFGHIJKL" }, nil},
		{"two digits", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[2] = "86" }, []string{"tags[2]"}},
		{"decimal file with date", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[2] = "861.00/2-2246" }, nil},
		{"bare decimal class", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags[2] = "861" }, nil},
		{"two bad tags", func(c *cable.Cable, o *cable.ValidateOptions) { c.Tags = []string{"prel", "PREL", "x"} }, []string{"tags[0]", "tags[2]"}},
	})
}

func TestValidateReferences(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"station only", func(c *cable.Cable, o *cable.ValidateOptions) { c.References[0].Text = "STATE" }, []string{"references[0]"}},
		{"serial zero", func(c *cable.Cable, o *cable.ValidateOptions) { c.References[0].Text = "STATE 0" }, []string{"references[0]"}},
		{"identifier", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.References = append(c.References, cable.Reference{Text: "1946STATE00284", ID: "1946STATE00284"})
		}, nil},
		{"second of two", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.References = append(c.References, cable.Reference{Text: "YOUR TELEGRAM OF FEB 3"})
		}, []string{"references[1]"}},
	})
}

func TestValidateParagraphs(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"none", func(c *cable.Cable, o *cable.ValidateOptions) { c.Paragraphs = nil }, []string{"paragraphs"}},
		{"numbered from zero", func(c *cable.Cable, o *cable.ValidateOptions) { c.Paragraphs[0].Number, c.Paragraphs[1].Number = 0, 1 }, []string{"paragraphs[0].number", "paragraphs[1].number"}},
		{"gap", func(c *cable.Cable, o *cable.ValidateOptions) { c.Paragraphs[1].Number = 3 }, []string{"paragraphs[1].number"}},
		{"no portion mark", func(c *cable.Cable, o *cable.ValidateOptions) { c.Paragraphs[0].Classification = 0 }, []string{"paragraphs[0].classification"}},
		{"empty", func(c *cable.Cable, o *cable.ValidateOptions) { c.Paragraphs[1].Text = " \n " }, []string{"paragraphs[1].text"}},
		{"every problem of a paragraph", func(c *cable.Cable, o *cable.ValidateOptions) {
			c.Paragraphs[1] = cable.Paragraph{Number: 7}
		}, []string{"paragraphs[1].classification", "paragraphs[1].number", "paragraphs[1].text"}},
		{"multi-line paragraph", func(c *cable.Cable, o *cable.ValidateOptions) { c.Paragraphs[0].Text = "A. ONE\nB. TWO" }, nil},
	})
}

func TestValidateSignature(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"empty", func(c *cable.Cable, o *cable.ValidateOptions) { c.Signature = "" }, []string{"signature"}},
		{"blank", func(c *cable.Cable, o *cable.ValidateOptions) { c.Signature = "   " }, []string{"signature"}},
		{"two lines", func(c *cable.Cable, o *cable.ValidateOptions) { c.Signature = "KENNAN\nCHARGE" }, []string{"signature"}},
	})
}

func TestValidateAuthority(t *testing.T) {
	auth := func(f func(a *cable.Authority)) func(c *cable.Cable, o *cable.ValidateOptions) {
		return func(c *cable.Cable, o *cable.ValidateOptions) { f(c.Authority) }
	}
	runValidateCases(t, []validateCase{
		{"missing on a classified cable", func(c *cable.Cable, o *cable.ValidateOptions) { c.Authority = nil }, []string{"authority"}},
		{"no classifier", auth(func(a *cable.Authority) { a.ClassifiedBy = " " }), []string{"authority.classified_by"}},
		{"classifier on two lines", auth(func(a *cable.Authority) { a.ClassifiedBy = "KENNAN\nCHARGE" }), []string{"authority.classified_by"}},
		{"no reason", auth(func(a *cable.Authority) { a.Reason = "" }), []string{"authority.reason"}},
		{"reason outside 1.4", auth(func(a *cable.Authority) { a.Reason = "1.5 (B)" }), []string{"authority.reason"}},
		{"reason letter beyond h", auth(func(a *cable.Authority) { a.Reason = "1.4 (J)" }), []string{"authority.reason"}},
		{"reason in lower case", auth(func(a *cable.Authority) { a.Reason = "1.4(b), (d)" }), nil},
		{"no declassification instruction", auth(func(a *cable.Authority) { a.DeclassifyOn = cable.DeclassifyOn{} }), []string{"authority.declassify_on"}},
		{"unknown exemption code", auth(func(a *cable.Authority) { a.DeclassifyOn = cable.DeclassifyOn{Exemption: "25X0"} }), []string{"authority.declassify_on"}},
		{"order malformed", auth(func(a *cable.Authority) { a.Order = "EO 13526" }), []string{"authority.order"}},
		{"order given", auth(func(a *cable.Authority) { a.Order = "11652" }), nil},
		{"event", auth(func(a *cable.Authority) { a.DeclassifyOn = cable.DeclassifyOn{Event: "END OF THE CONFERENCE"} }), nil},
		{"event on two lines", auth(func(a *cable.Authority) { a.DeclassifyOn = cable.DeclassifyOn{Event: "END OF\nTHE WAR"} }), []string{"authority.declassify_on"}},
		{"event of 200 characters", auth(func(a *cable.Authority) { a.DeclassifyOn = cable.DeclassifyOn{Event: strings.Repeat("E", 200)} }), nil},
		{"event of 201 characters", auth(func(a *cable.Authority) { a.DeclassifyOn = cable.DeclassifyOn{Event: strings.Repeat("E", 201)} }), []string{"authority.declassify_on"}},
		{"every problem of the block", auth(func(a *cable.Authority) {
			*a = cable.Authority{Order: "1", Reason: "national security"}
		}), []string{"authority.classified_by", "authority.declassify_on", "authority.order", "authority.reason"}},
		{"unclassified cable with a block", func(c *cable.Cable, o *cable.ValidateOptions) {
			a := c.Authority
			unclassified(c)
			c.Authority = a
		}, []string{"authority"}},
		{"limited official use cable with only a reason", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			c.Classification = cable.LimitedOfficialUse
			c.Authority = &cable.Authority{Reason: "1.4 (B)"}
		}, []string{"authority"}},
		{"unclassified cable with an empty block", func(c *cable.Cable, o *cable.ValidateOptions) {
			unclassified(c)
			c.Authority = &cable.Authority{}
		}, nil},
	})
}

// TestValidateTwentyFiveYears checks the automatic declassification
// rule: a date more than 25 years after the date-time group (or, for a
// draft, after ValidateOptions.At) needs an exemption code.
func TestValidateTwentyFiveYears(t *testing.T) {
	declassify := func(d cable.DeclassifyOn) func(c *cable.Cable, o *cable.ValidateOptions) {
		return func(c *cable.Cable, o *cable.ValidateOptions) { c.Authority.DeclassifyOn = d }
	}
	at := time.Date(2026, time.March, 1, 23, 30, 0, 0, time.UTC)
	draft := func(d cable.DeclassifyOn) func(c *cable.Cable, o *cable.ValidateOptions) {
		return func(c *cable.Cable, o *cable.ValidateOptions) {
			c.ID, c.Serial, c.DTG = "", 0, time.Time{}
			o.Draft, o.At = true, at
			c.Authority.DeclassifyOn = d
		}
	}
	runValidateCases(t, []validateCase{
		{"25 years to the day", declassify(cable.DeclassifyOn{Date: date(1971, time.February, 22)}), nil},
		{"a day more", declassify(cable.DeclassifyOn{Date: date(1971, time.February, 23)}), []string{"authority.declassify_on"}},
		{"fifty years", declassify(cable.DeclassifyOn{Date: date(1996, time.February, 22)}), []string{"authority.declassify_on"}},
		{"exemption lifts the limit", declassify(cable.DeclassifyOn{Exemption: "25X1", Date: date(1996, time.February, 22)}), nil},
		{"exemption with a human-source code", declassify(cable.DeclassifyOn{Exemption: "50X1-HUM", Date: date(2021, time.February, 22)}), nil},
		{"exemption without a date", declassify(cable.DeclassifyOn{Exemption: "25X1"}), nil},
		{"the day of the cable", declassify(cable.DeclassifyOn{Date: date(1946, time.February, 22)}), nil},
		{"before the cable", declassify(cable.DeclassifyOn{Date: date(1946, time.February, 21)}), []string{"authority.declassify_on"}},
		{"DTG wins over At", func(c *cable.Cable, o *cable.ValidateOptions) {
			o.At = at
			c.Authority.DeclassifyOn = cable.DeclassifyOn{Date: date(2040, time.January, 1)}
		}, []string{"authority.declassify_on"}},
		{"DTG in another zone", func(c *cable.Cable, o *cable.ValidateOptions) {
			// 2100 Moscow time on Feb 22 is 1800Z: the limit stays Feb 22, 1971.
			c.DTG = c.DTG.In(time.FixedZone("MSK", 3*3600))
			c.Authority.DeclassifyOn = cable.DeclassifyOn{Date: date(1971, time.February, 22)}
		}, nil},
		{"draft, 25 years from At", draft(cable.DeclassifyOn{Date: date(2051, time.March, 1)}), nil},
		{"draft, a day more than 25 years from At", draft(cable.DeclassifyOn{Date: date(2051, time.March, 2)}), []string{"authority.declassify_on"}},
		{"draft, exemption lifts the limit", draft(cable.DeclassifyOn{Exemption: "50X1-HUM", Date: date(2076, time.March, 1)}), nil},
		{"draft, the day of release", draft(cable.DeclassifyOn{Date: date(2026, time.March, 1)}), nil},
		{"draft, before release", draft(cable.DeclassifyOn{Date: date(2026, time.February, 28)}), []string{"authority.declassify_on"}},
	})
}

// TestValidateManyProblems checks that a cable wrong in every part is
// refused with every problem at once, each naming its field.
func TestValidateManyProblems(t *testing.T) {
	c := validCable()
	c.Station = "KABUL" // unknown, and the drafter is at MOSCOW
	c.ID = ""
	c.Serial = 0
	c.Precedence = cable.Routine // with NIACT
	c.To = []cable.Addressee{{Station: "LONDON", Role: cable.RoleInfo}, {Station: "WAR", Role: cable.RoleInfo}, {Station: "LONDON", Role: "cc"}}
	c.Captions = []cable.Caption{cable.NODIS, cable.EXDIS, "ROGER"}
	c.Handling = []cable.Handling{cable.NIACT, "EYES ONLY"}
	c.Tags = nil
	c.Subject = ""
	c.References = []cable.Reference{{Text: "STATE"}}
	c.Paragraphs = []cable.Paragraph{{Number: 1, Classification: cable.TopSecret, Text: "x"}, {Number: 3}}
	c.Signature = ""
	c.Authority = &cable.Authority{Order: "1", Reason: "because", DeclassifyOn: cable.DeclassifyOn{Date: date(1990, time.January, 1)}}
	o := opts(t)
	o.Drafter.Clearance = cable.Confidential

	err := cable.Validate(c, o)
	got := problemFields(t, err)
	want := []string{
		"station", "station", "serial",
		"to", "to[1].station", "to[2].role", "to[2].station",
		"captions[2]", "captions", "captions", // NODIS with EXDIS; NODIS not held
		"handling[1]", "handling",
		"classification", "classification", // drafter's clearance; below the TOP SECRET paragraph
		"paragraphs[0].classification", // a TOP SECRET paragraph by a CONFIDENTIAL drafter
		"subject", "tags", "references[0]",
		"paragraphs[1].number", "paragraphs[1].classification", "paragraphs[1].text",
		"signature",
		"authority.classified_by", "authority.reason", "authority.declassify_on", "authority.order",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problem fields =\n%q\nwant\n%q\nerror: %v", got, want, err)
	}
	if len(cable.ErrorProblems(err)) != len(want) {
		t.Fatalf("ErrorProblems returned %d problems, want %d", len(cable.ErrorProblems(err)), len(want))
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	c := validCable()
	c.Subject = "  spaced  subject "
	before := c.Clone()
	_ = cable.Validate(c, opts(t))
	if !reflect.DeepEqual(c, before) {
		t.Fatal("Validate changed the cable")
	}
}

func TestErrors(t *testing.T) {
	if cable.Invalid("x", nil) != nil {
		t.Fatal("Invalid with no problems is not nil")
	}
	var ps cable.Problems
	if ps.Err("x") != nil {
		t.Fatal("empty Problems.Err is not nil")
	}
	ps.Add("subject", "a subject is required")
	ps.Add("", "no %s", "cable")
	err := ps.Err("invalid cable")
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("code = %q", cable.ErrorCode(err))
	}
	if got, want := err.Error(), "invalid cable: subject: a subject is required; no cable"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	wrapped := errors.Join(errors.New("context"), cable.Errorf(cable.ENOTFOUND, "no cable %q", "X"))
	if cable.ErrorCode(wrapped) != cable.ENOTFOUND || cable.ErrorMessage(wrapped) != `no cable "X"` {
		t.Fatalf("wrapped: code %q message %q", cable.ErrorCode(wrapped), cable.ErrorMessage(wrapped))
	}
	if cable.ErrorCode(errors.New("disk on fire")) != cable.EINTERNAL || cable.ErrorMessage(errors.New("disk on fire")) != "Internal error." {
		t.Fatal("a foreign error leaks its text or code")
	}
	if cable.ErrorCode(nil) != "" || cable.ErrorMessage(nil) != "" || cable.ErrorProblems(nil) != nil {
		t.Fatal("nil error has a code, message or problems")
	}
	if m := cable.ErrorMessage(&cable.Error{Code: cable.EINVALID, Problems: []cable.Problem{{Field: "f", Message: "m"}}}); m != "invalid cable: f: m" {
		t.Fatalf("message of problems without message = %q", m)
	}
}

func TestIdentifier(t *testing.T) {
	for _, tc := range []struct {
		year    int
		station string
		serial  int
		want    string
	}{
		{1946, "MOSCOW", 511, "1946MOSCOW00511"},
		{1976, "STATE", 12345, "1976STATE12345"},
		{2026, "LONDON", 1, "2026LONDON00001"},
		{2026, "STATE", 123456, "2026STATE123456"},
	} {
		id := cable.Identifier(tc.year, tc.station, tc.serial)
		if id != tc.want {
			t.Errorf("Identifier(%d, %s, %d) = %q, want %q", tc.year, tc.station, tc.serial, id, tc.want)
		}
		y, st, n, err := cable.ParseIdentifier(id)
		if err != nil || y != tc.year || st != tc.station || n != tc.serial {
			t.Errorf("ParseIdentifier(%q) = %d, %q, %d, %v", id, y, st, n, err)
		}
	}
	for _, bad := range []string{"", "1946MOSCOW0511", "46MOSCOW00511", "1946moscow00511", "1946MOSCOW1234567", "1946 MOSCOW 00511", "MOSCOW00511", "1946MOSCOW",
		"1946A00511", "1946" + strings.Repeat("A", 21) + "00511"} {
		if _, _, _, err := cable.ParseIdentifier(bad); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("ParseIdentifier(%q) error = %v, want EINVALID", bad, err)
		}
	}
}

func TestParseReference(t *testing.T) {
	for _, tc := range []struct {
		text string
		want cable.ReferenceTarget
	}{
		{"STATE 284", cable.ReferenceTarget{Station: "STATE", Serial: 284}},
		{"  state   284 ", cable.ReferenceTarget{Station: "STATE", Serial: 284}},
		{"MOSCOW 00511", cable.ReferenceTarget{Station: "MOSCOW", Serial: 511}},
		{"76 STATE 12345", cable.ReferenceTarget{Year: 1976, Station: "STATE", Serial: 12345}},
		{"29 STATE 1", cable.ReferenceTarget{Year: 2029, Station: "STATE", Serial: 1}},
		{"30 STATE 1", cable.ReferenceTarget{Year: 1930, Station: "STATE", Serial: 1}},
		{"1946 STATE 284", cable.ReferenceTarget{Year: 1946, Station: "STATE", Serial: 284}},
		{"1946MOSCOW00511", cable.ReferenceTarget{Year: 1946, Station: "MOSCOW", Serial: 511}},
		{"1946moscow00511", cable.ReferenceTarget{Year: 1946, Station: "MOSCOW", Serial: 511}},
		{"STATE 999999", cable.ReferenceTarget{Station: "STATE", Serial: 999999}},
	} {
		got, err := cable.ParseReference(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("ParseReference(%q) = %+v, %v; want %+v", tc.text, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "STATE", "284", "STATE 0", "STATE 000", "S 284", "STATE 1234567", "STATE 28A", "946 STATE 284",
		"1946STATE00000", "REF A", "STATE 284 AND 285", "1946S00284"} {
		if r, err := cable.ParseReference(bad); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("ParseReference(%q) = %+v, %v; want EINVALID", bad, r, err)
		}
	}
}

func TestReferenceCandidates(t *testing.T) {
	r := cable.ReferenceTarget{Station: "STATE", Serial: 284}
	if got, want := r.Candidates(1946), []string{"1946STATE00284", "1945STATE00284"}; !slices.Equal(got, want) {
		t.Errorf("Candidates without year = %q, want %q", got, want)
	}
	r.Year = 1944
	if got, want := r.Candidates(1946), []string{"1944STATE00284"}; !slices.Equal(got, want) {
		t.Errorf("Candidates with year = %q, want %q", got, want)
	}
}

func TestNormalize(t *testing.T) {
	c := validCable()
	c.Station = " moscow "
	c.Subject = "  Sources  of\tpolicy "
	c.Signature = " KENNAN  "
	c.Tags = []string{" prel", "ur "}
	c.To = []cable.Addressee{{Station: "london", Role: cable.RoleInfo}, {Station: "STATE ", Role: cable.RoleAction}}
	c.Captions = []cable.Caption{cable.STADIS, cable.NODIS, cable.STADIS}
	c.Handling = []cable.Handling{cable.NoParaphraseNecessary, cable.NIACT, cable.NIACT}
	c.References = []cable.Reference{{Text: " state  284"}}
	c.Paragraphs[0].Text = "  one  line \r\n\r\n  second   line  "
	c.Authority.Reason = "1.4(d), (b)"
	c.Authority.ClassifiedBy = " G.  F. Kennan "
	cable.Normalize(c)

	if c.Station != "MOSCOW" || c.Subject != "Sources of policy" || c.Signature != "KENNAN" {
		t.Errorf("station %q subject %q signature %q", c.Station, c.Subject, c.Signature)
	}
	if !slices.Equal(c.Tags, []string{"PREL", "UR"}) {
		t.Errorf("tags %q", c.Tags)
	}
	if want := []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}}; !slices.Equal(c.To, want) {
		t.Errorf("to %v, want %v", c.To, want)
	}
	if !slices.Equal(c.Captions, []cable.Caption{cable.NODIS, cable.STADIS}) || !slices.Equal(c.Handling, []cable.Handling{cable.NIACT, cable.NoParaphraseNecessary}) {
		t.Errorf("captions %q handling %q", c.Captions, c.Handling)
	}
	if c.References[0].Text != "STATE 284" || c.Paragraphs[0].Text != "one line\nsecond line" {
		t.Errorf("reference %q paragraph %q", c.References[0].Text, c.Paragraphs[0].Text)
	}
	if c.Authority.Reason != "1.4 (D) AND (B)" || c.Authority.ClassifiedBy != "G. F. Kennan" || c.Authority.Order != "13526" {
		t.Errorf("authority %+v", c.Authority)
	}
}

// sharedFile returns the path of a file under /work/shared, found by
// walking up from the package directory to the repository root (the
// directory holding go.mod) and looking beside it; it skips the test when
// the file is absent.
func sharedFile(t testing.TB, rel string) string {
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
	p := filepath.Join(dir, "..", "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is absent", p)
	}
	return p
}

// TestLongTelegram reads the header of the model cable from the seed and
// checks that the domain gives back what DESIGN.md says of it: the
// date-time group 221800Z FEB 46, the identifier 1946MOSCOW00511, the
// reference to the Department's 284, and a distribution for action to EUR
// and for information to eleven offices from S to DC/R.
func TestLongTelegram(t *testing.T) {
	b, err := os.ReadFile(sharedFile(t, "seeds/000_e3225f346bbef510.txt"))
	if err != nil {
		t.Fatal(err)
	}
	seed := string(b)
	find := func(pattern string) []string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(seed)
		if m == nil {
			t.Fatalf("seed has no match for %s", pattern)
		}
		return m
	}
	dir := testDirectory(t)
	moscow, _ := dir.Station("MOSCOW")
	state, _ := dir.Station("STATE")

	// "NNN, Month DD, H p.m." under the address, in Moscow time.
	m := find(`(?m)^(\d+), ([A-Z][a-z]+ \d{1,2}), (\d{1,2}) p\.m\.$`)
	serial, _ := strconv.Atoi(m[1])
	dated := find(`(?m)^Dated ([A-Z][a-z]+ \d{1,2}, \d{4})$`)
	day, err := time.ParseInLocation("January 2, 2006", dated[1], moscow.Location())
	if err != nil {
		t.Fatal(err)
	}
	hour, _ := strconv.Atoi(m[3])
	dtg := day.Add(time.Duration(hour+12) * time.Hour).UTC()
	if got := cable.FormatDTG(dtg); got != "221800Z FEB 46" {
		t.Fatalf("DTG = %q, want 221800Z FEB 46", got)
	}
	if got := cable.Identifier(dtg.Year(), "MOSCOW", serial); got != "1946MOSCOW00511" {
		t.Fatalf("identifier = %q", got)
	}

	// Receipt in Washington time and the control number.
	rec := find(`(?m)^(?:Rec'd|Received) (\d{1,2}):(\d{2}) p\.m\.$`)
	rh, _ := strconv.Atoi(rec[1])
	rm, _ := strconv.Atoi(rec[2])
	received := time.Date(dtg.Year(), dtg.Month(), dtg.Day(), rh+12, rm, 0, 0, state.Location()).UTC()
	if received.Before(dtg) {
		t.Fatalf("received %v before release %v", received, dtg)
	}
	control := find(`(?m)^(\d{4})$`)[1]

	// Markings as the paper stamps them.
	cls, err := cable.ParseClassification(find(`~~([A-Z ]+)~~`)[1])
	if err != nil || cls != cable.Secret {
		t.Fatalf("classification stamp = %v, %v", cls, err)
	}
	h, err := cable.ParseHandling(strings.TrimSuffix(find(`(?mi)^no paraphrase necessary\.?$`)[0], "."))
	if err != nil || h != cable.NoParaphraseNecessary {
		t.Fatalf("handling = %q, %v", h, err)
	}

	// The reference to the Department's telegram.
	ref, err := cable.ParseReference("STATE " + find(`Dept's (\d+)`)[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := ref.Candidates(1946); got[0] != "1946STATE00284" {
		t.Fatalf("candidates = %q", got)
	}

	// The decimal file is a valid tag.
	file := find(`(\d{3}\.\d{2})/\d+-\d+`)

	// ACTION office, then the INFO offices one a line.
	action := find(`(?m)^ACTION: ?(\S+)$`)[1]
	lines := strings.Split(seed[strings.Index(seed, "\nINFO:")+1:], "\n")[1:]
	var info []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" && len(info) == 0 {
			continue
		}
		if !cable.ValidOfficeCode(l) {
			break
		}
		info = append(info, l)
	}
	if action != "EUR" || len(info) != 11 || info[0] != "S" || info[10] != "DC/R" || !slices.Contains(info, "EUR/X") {
		t.Fatalf("action %q info %q", action, info)
	}

	c := &cable.Cable{
		ID: cable.Identifier(dtg.Year(), "MOSCOW", serial), Station: "MOSCOW", Serial: serial, DTG: dtg,
		Precedence: cable.Priority, Classification: cls, Handling: []cable.Handling{h},
		To:   []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}},
		Tags: []string{"UR", file[1], file[0]}, Subject: "Soviet postwar outlook",
		References: []cable.Reference{{Text: "STATE 284", ID: "1946STATE00284"}},
		Paragraphs: []cable.Paragraph{{Number: 1, Classification: cable.Secret, Text: "Answer in five parts."}},
		Signature:  "KENNAN",
		Authority: &cable.Authority{ClassifiedBy: "George F. Kennan", Reason: "1.4 (B), (D)",
			DeclassifyOn: cable.DeclassifyOn{Date: dtg.AddDate(25, 0, 0).Truncate(24 * time.Hour)}},
	}
	if err := cable.Validate(c, cable.ValidateOptions{Directory: dir}); err != nil {
		t.Fatalf("the model cable is refused: %v", err)
	}
	// "via War": WAR carries the cable but cannot be addressed.
	viaWar := c.Clone()
	viaWar.To = append(viaWar.To, cable.Addressee{Station: "WAR", Role: cable.RoleInfo})
	if got := problemFields(t, cable.Validate(viaWar, cable.ValidateOptions{Directory: dir})); !slices.Equal(got, []string{"to[1].station"}) {
		t.Fatalf("addressing the relay: fields %q", got)
	}

	// STATE's routing rules, written from the seed, give its distribution.
	rules := "at STATE\nwhen from MOSCOW and tag " + file[1] + " -> action " + action + " info " + strings.Join(info, ", ") + "\ndefault -> action DC/R\n"
	rr, err := cable.ParseRoutingRules([]byte(rules), nil)
	if err != nil {
		t.Fatal(err)
	}
	dist, ok := rr.Distribute(c, "STATE")
	if !ok || dist.Action != "EUR" || !slices.Equal(dist.Info, info) {
		t.Fatalf("distribution = %+v, %v", dist, ok)
	}
	c.Received = &cable.Receipt{Station: "STATE", At: received, ControlNumber: control}
	c.Distribution = &dist

	reader := &cable.User{Name: "eurx", Station: "STATE", Offices: []string{"EUR/X"}, Clearance: cable.Secret}
	if !cable.CanRead(reader, c, c.Distribution) {
		t.Error("a SECRET reader in EUR/X may not read the cable distributed to EUR/X")
	}
	reader.Clearance = cable.Confidential
	if cable.CanRead(reader, c, c.Distribution) {
		t.Error("a CONFIDENTIAL reader may read a SECRET cable")
	}
	reader.Clearance, reader.Offices = cable.TopSecret, []string{"NEA"}
	if cable.CanRead(reader, c, c.Distribution) {
		t.Error("a reader in NEA may read a cable not distributed to NEA")
	}
}
