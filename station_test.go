package cable_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

func TestNormalizeAddress(t *testing.T) {
	for in, want := range map[string]string{
		"AMEMBASSY MOSCOW":       "AMEMBASSY MOSCOW",
		"AMEMB  Moscow":          "AMEMBASSY MOSCOW",
		"amembas moscow":         "AMEMBASSY MOSCOW",
		" amembassy moscow. ":    "AMEMBASSY MOSCOW",
		"AMCONGEN LENINGRAD":     "AMCONSUL LENINGRAD",
		"AMCON LENINGRAD":        "AMCONSUL LENINGRAD",
		"SECSTATE WASH DC":       "SECSTATE WASHDC",
		"SECSTATE WASHINGTON DC": "SECSTATE WASHDC",
		"secstate\twashdc":       "SECSTATE WASHDC",
		"SECSTATE WASH  DC.":     "SECSTATE WASHDC",
		"moscow":                 "MOSCOW",
		"":                       "",
		" . ":                    "",
		"MOSCOW AMEMB":           "MOSCOW AMEMB",
	} {
		if got := cable.NormalizeAddress(in); got != want {
			t.Errorf("NormalizeAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

const directoryFile = `# The stations of the model cable.
station STATE headquarters America/New_York SECSTATE   WASHDC
alias STATE SECRETARY OF STATE WASHINGTON
office STATE EUR Office of European Affairs
office STATE DC/R

station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW
  alias MOSCOW MOSCOW USSR
office MOSCOW POL
station WAR relay America/New_York WARDEPT WASHDC
`

func TestParseDirectory(t *testing.T) {
	d, err := cable.ParseDirectory([]byte(directoryFile))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, s := range d.Stations() {
		codes = append(codes, s.Code)
	}
	if !slices.Equal(codes, []string{"STATE", "MOSCOW", "WAR"}) {
		t.Fatalf("stations in order = %q", codes)
	}
	if got := d.Codes(); !slices.Equal(got, []string{"MOSCOW", "STATE", "WAR"}) {
		t.Fatalf("codes = %q", got)
	}
	st, err := d.Station("STATE")
	if err != nil {
		t.Fatal(err)
	}
	if st.Kind != cable.Headquarters || st.TimeZone != "America/New_York" || st.Address != "SECSTATE WASHDC" ||
		!slices.Equal(st.Aliases, []string{"SECRETARY OF STATE WASHINGTON"}) ||
		!slices.Equal(st.Offices, []cable.Office{{Symbol: "EUR", Name: "Office of European Affairs"}, {Symbol: "DC/R"}}) {
		t.Fatalf("STATE = %+v", st)
	}
	if war, _ := d.Station("WAR"); war.Kind != cable.Relay {
		t.Fatalf("WAR = %+v", war)
	}
	if !st.HasOffice("DC/R") || st.HasOffice("POL") || st.HasOffice("dc/r") {
		t.Fatal("HasOffice is wrong")
	}

	empty, err := cable.ParseDirectory([]byte("\n# nothing\n\n"))
	if err != nil || len(empty.Stations()) != 0 {
		t.Fatalf("empty directory: %v, %v", empty, err)
	}
}

// TestParseDirectoryErrors checks that every malformed line is reported,
// all at once, each by its line number.
func TestParseDirectoryErrors(t *testing.T) {
	lines := []string{
		"# line 1 is a comment",
		"station STATE headquarters America/New_York",        // 2: too short
		"station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW", // 3: fine
		"station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW", // 4: defined twice
		"alias MOSCOW",                // 5: too short
		"office MOSCOW",               // 6: too short
		"alias KABUL AMEMBASSY KABUL", // 7: station not defined
		"office KABUL POL",            // 8: station not defined
		"stations LONDON post Europe/London AMEMBASSY LONDON",     // 9: unknown directive
		"station london post Europe/London AMEMBASSY LONDON",      // 10: malformed code
		"station PARIS embassy Europe/Paris AMEMBASSY PARIS",      // 11: unknown kind
		"station ROME post Europe/Roma AMEMBASSY ROME",            // 12: unknown time zone
		"office MOSCOW pol Political Section",                     // 13: malformed office
		"office MOSCOW POL Political Section",                     // 14: fine
		"office MOSCOW POL Political Section again",               // 15: office twice
		"station BONN post Europe/Berlin AMEMB MOSCOW",            // 16: address of MOSCOW
		"alias MOSCOW BONN",                                       // 17: address of BONN
		"alias MOSCOW AMEMBASSY MOSCOW",                           // 18: fine, its own address
		"office london POL",                                       // 19: fine, the station is reported on line 10
		"",                                                        // 20
		"station WAR relay America/New_York WARDEPT WASHDC extra", // 21: fine
	}
	_, err := cable.ParseDirectory([]byte(strings.Join(lines, "\n")))
	got := problemFields(t, err)
	want := []string{"line 2", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9", "line 10", "line 11",
		"line 12", "line 13", "line 15", "line 16", "line 17"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problem fields =\n%q\nwant\n%q\nerror: %v", got, want, err)
	}
	for _, p := range cable.ErrorProblems(err) {
		t.Logf("%s", p)
	}
}

func TestParseDirectoryLongLine(t *testing.T) {
	src := "station STATE headquarters UTC " + strings.Repeat("A", 2<<20) + "\n"
	if _, err := cable.ParseDirectory([]byte(src)); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("a 2 MB line: %v", err)
	}
}

func TestNewDirectoryErrors(t *testing.T) {
	_, err := cable.NewDirectory([]cable.Station{
		{Code: "moscow", Kind: cable.Post, TimeZone: "Europe/Moscow"},
		{Code: "STATE", Kind: cable.Headquarters, TimeZone: "America/New_York", Address: "SECSTATE WASHDC"},
		{Code: "STATE", Kind: cable.Headquarters, TimeZone: "America/New_York"},
		{Code: "PARIS", Kind: "embassy", TimeZone: "Europe/Paris"},
		{Code: "ROME", Kind: cable.Post},
		{Code: "BONN", Kind: cable.Post, TimeZone: "Nowhere/City"},
		{Code: "LONDON", Kind: cable.Post, TimeZone: "Europe/London", Address: "AMEMBASSY LONDON",
			Offices: []cable.Office{{Symbol: "pol"}, {Symbol: "POL"}, {Symbol: "POL"}}},
		{Code: "WAR", Kind: cable.Relay, TimeZone: "UTC", Address: "SECSTATE WASH DC"},
		{Code: "BERLIN", Kind: cable.Post, TimeZone: "Europe/Berlin", Aliases: []string{"amemb london", "LONDON"}},
	})
	got := problemFields(t, err)
	want := []string{"stations[moscow]", "stations[STATE]", "stations[PARIS].kind", "stations[ROME].time_zone",
		"stations[BONN].time_zone", "stations[LONDON].offices", "stations[LONDON].offices", "stations[WAR].address",
		"stations[BERLIN].address", "stations[BERLIN].address"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("problem fields =\n%q\nwant\n%q\nerror: %v", got, want, err)
	}
}

func TestDirectoryLookups(t *testing.T) {
	d, err := cable.ParseDirectory([]byte(directoryFile))
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"AMEMBASSY MOSCOW":              "MOSCOW",
		"AMEMB MOSCOW":                  "MOSCOW",
		"amemb  moscow.":                "MOSCOW",
		"MOSCOW":                        "MOSCOW",
		"moscow":                        "MOSCOW",
		"Moscow USSR":                   "MOSCOW",
		"SECSTATE WASHDC":               "STATE",
		"SECSTATE WASH DC":              "STATE",
		"SECSTATE WASHINGTON DC":        "STATE",
		"Secretary of State Washington": "STATE",
		"STATE":                         "STATE",
		"WARDEPT WASH DC":               "WAR",
	} {
		s, err := d.StationByAddress(addr)
		if err != nil || s.Code != want {
			t.Errorf("StationByAddress(%q) = %v, %v; want %s", addr, s, err, want)
		}
	}
	for _, addr := range []string{"", "AMEMBASSY KABUL", "AMCONSUL MOSCOW", "SECSTATE", "EUR"} {
		if s, err := d.StationByAddress(addr); cable.ErrorCode(err) != cable.ENOTFOUND || s != nil {
			t.Errorf("StationByAddress(%q) = %v, %v; want ENOTFOUND", addr, s, err)
		}
	}
	for _, code := range []string{"moscow", "KABUL", "AMEMBASSY MOSCOW", ""} {
		if s, err := d.Station(code); cable.ErrorCode(err) != cable.ENOTFOUND || s != nil {
			t.Errorf("Station(%q) = %v, %v; want ENOTFOUND", code, s, err)
		}
	}
}

func TestStationTime(t *testing.T) {
	d := testDirectory(t)
	moscow, _ := d.Station("MOSCOW")
	if moscow.Location().String() != "Europe/Moscow" {
		t.Fatalf("location = %v", moscow.Location())
	}
	local := moscow.LocalTime(dtg1946)
	if local.Hour() != 21 || local.Day() != 22 || !local.Equal(dtg1946) {
		t.Fatalf("local time of 221800Z FEB 46 in Moscow = %v", local)
	}
	// A station built by hand loads its zone; a bad zone falls back to UTC.
	byHand := &cable.Station{Code: "LONDON", TimeZone: "Europe/London"}
	if byHand.Location().String() != "Europe/London" {
		t.Fatalf("location = %v", byHand.Location())
	}
	bad := &cable.Station{Code: "X", TimeZone: "Nowhere/City"}
	if bad.Location() != time.UTC {
		t.Fatalf("bad zone location = %v", bad.Location())
	}
}
