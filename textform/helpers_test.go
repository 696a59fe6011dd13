package textform_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/textform"
)

// testStations is the directory the tests use: the Department, embassies,
// consulates, missions, and a relay that is never addressed.
var testStations = []cable.Station{
	{Code: "STATE", Kind: cable.Headquarters, TimeZone: "America/New_York", Address: "SECSTATE WASHDC", Aliases: []string{"DEPT OF STATE WASHDC"}},
	{Code: "MOSCOW", Kind: cable.Post, TimeZone: "Europe/Moscow", Address: "AMEMBASSY MOSCOW"},
	{Code: "LONDON", Kind: cable.Post, TimeZone: "Europe/London", Address: "AMEMBASSY LONDON"},
	{Code: "PARIS", Kind: cable.Post, TimeZone: "Europe/Paris", Address: "AMEMBASSY PARIS"},
	{Code: "BONN", Kind: cable.Post, TimeZone: "Europe/Berlin", Address: "AMEMBASSY BONN"},
	{Code: "TOKYO", Kind: cable.Post, TimeZone: "Asia/Tokyo", Address: "AMEMBASSY TOKYO"},
	{Code: "HELSINKI", Kind: cable.Post, TimeZone: "Europe/Helsinki", Address: "AMEMBASSY HELSINKI"},
	{Code: "LENINGRAD", Kind: cable.Post, TimeZone: "Europe/Moscow", Address: "AMCONSUL LENINGRAD"},
	{Code: "FRANKFURT", Kind: cable.Post, TimeZone: "Europe/Berlin", Address: "AMCONSUL FRANKFURT"},
	{Code: "USUN", Kind: cable.Post, TimeZone: "America/New_York", Address: "USMISSION USUN NEW YORK"},
	{Code: "GENEVA", Kind: cable.Post, TimeZone: "Europe/Zurich", Address: "USMISSION GENEVA"},
	{Code: "WAR", Kind: cable.Relay, TimeZone: "America/New_York", Address: "WARDEPT WASHDC"},
}

func testDirectory(t testing.TB) *cable.Directory {
	t.Helper()
	dir, err := cable.NewDirectory(testStations)
	if err != nil {
		t.Fatalf("test directory: %v", err)
	}
	return dir
}

func testForm(t testing.TB) *textform.Form { return textform.New(testDirectory(t)) }

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// goldenCable is a realistic released cable of our own writing.
func goldenCable() *cable.Cable {
	c := &cable.Cable{
		ID:             "2010MOSCOW00417",
		Station:        "MOSCOW",
		Serial:         417,
		DTG:            time.Date(2010, time.March, 4, 16, 25, 0, 0, time.UTC),
		Precedence:     cable.Immediate,
		Classification: cable.Secret,
		Captions:       []cable.Caption{cable.EXDIS},
		Handling:       []cable.Handling{cable.NOFORN},
		To: []cable.Addressee{
			{Station: "STATE", Role: cable.RoleAction},
			{Station: "LONDON", Role: cable.RoleInfo},
			{Station: "PARIS", Role: cable.RoleInfo},
			{Station: "LENINGRAD", Role: cable.RoleInfo},
		},
		Tags:    []string{"PREL", "EFIS", "RS", "US"},
		Subject: "FISHERIES TALKS: RUSSIAN SIDE SIGNALS FLEXIBILITY ON QUOTAS (PART ONE OF TWO)",
		References: []cable.Reference{
			{Text: "STATE 21234"},
			{Text: "MOSCOW 310"},
		},
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Confidential, Text: "SUMMARY: AT THE MARCH 3 SESSION THE DEPUTY MINISTER OF FISHERIES\nHINTED THAT MOSCOW COULD ACCEPT A LOWER POLLOCK QUOTA IF THE\nU.S. SIDE EASED PORT-CALL RULES FOR RUSSIAN TRAWLERS. END SUMMARY."},
			{Number: 2, Classification: cable.Secret, Text: "IN A PRIVATE ASIDE AFTER THE PLENARY, THE DEPUTY MINISTER\nSAID THE QUOTA FIGURES IN REF A WERE \"NOT THE LAST WORD\"\nAND ASKED WHETHER WASHINGTON WOULD RECEIVE A SMALL TECHNICAL\nGROUP IN APRIL."},
			{Number: 3, Classification: cable.Unclassified, Text: "TALKS RESUME MARCH 8. TEXT OF THE RUSSIAN DRAFT FOLLOWS BY SEPTEL."},
			{Number: 4, Classification: cable.Confidential, Text: "COMMENT: WE BELIEVE THE OFFER IS SERIOUS BUT TIED TO THE\nSPRING CATCH; A REPLY BEFORE MARCH 15 WOULD KEEP IT ALIVE.\nEND COMMENT."},
		},
		Signature: "HARTWELL",
		Authority: &cable.Authority{
			Order:        "13526",
			ClassifiedBy: "MARGARET A. HARTWELL, AMBASSADOR",
			Reason:       "1.4 (B) AND (D)",
			DeclassifyOn: cable.DeclassifyOn{Date: date(2035, time.March, 4)},
		},
	}
	cable.Normalize(c)
	return c
}

// goldenDraft is a realistic draft of our own writing: unclassified,
// NIACT FLASH, one reference, the E.O. line saying N/A.
func goldenDraft() *cable.Cable {
	c := &cable.Cable{
		Station:        "STATE",
		Precedence:     cable.Flash,
		Classification: cable.Unclassified,
		Handling:       []cable.Handling{cable.NIACT},
		To: []cable.Addressee{
			{Station: "TOKYO", Role: cable.RoleAction},
			{Station: "USUN", Role: cable.RoleAction},
			{Station: "GENEVA", Role: cable.RoleInfo},
		},
		Tags:       []string{"AMGT", "ASEC", "CASC"},
		Subject:    "EARTHQUAKE RESPONSE: ACCOUNTING FOR U.S. CITIZENS IN THE KANTO REGION",
		References: []cable.Reference{{Text: "TOKYO 2231"}},
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Unclassified, Text: "THIS IS AN ACTION REQUEST. PLEASE REPORT BY 1200Z ON THE NUMBER OF\nU.S. CITIZENS CONFIRMED SAFE, MISSING, INJURED OR DECEASED."},
			{Number: 2, Classification: cable.Unclassified, Text: "THE TASK FORCE IS STAFFED AROUND THE CLOCK; CALL THE OPERATIONS\nCENTER FOR ANYTHING THAT CANNOT WAIT FOR A CABLE."},
			{Number: 3, Classification: cable.Unclassified, Text: "FOR USUN: PLEASE SHARE THE FIGURES WITH THE SECRETARIAT ONLY\nAFTER TOKYO CONFIRMS THEM."},
		},
		Signature: "ALDRIDGE",
		Authority: &cable.Authority{Order: "13526"},
	}
	cable.Normalize(c)
	return c
}

func sprint(v any) string {
	switch v := v.(type) {
	case []string, string:
		return fmt.Sprintf("%q", v)
	case []cable.Paragraph, []cable.Reference:
		return fmt.Sprintf("%#v", v)
	}
	return fmt.Sprintf("%+v", v)
}

// TestMain runs the property tests on 1000 cables each unless
// -rapid.checks says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", "1000"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
