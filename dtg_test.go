package cable_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

func TestFormatDTG(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{dtg1946, "221800Z FEB 46"},
		{time.Date(1946, 2, 22, 21, 0, 0, 0, time.FixedZone("MSK", 3*3600)), "221800Z FEB 46"},
		{time.Date(2026, 11, 26, 14, 5, 59, 999, time.UTC), "261405Z NOV 26"},
		{time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC), "010000Z JAN 30"},
		{time.Date(2029, 12, 31, 23, 59, 0, 0, time.UTC), "312359Z DEC 29"},
		{time.Date(1929, 12, 31, 23, 59, 0, 0, time.UTC), "312359Z DEC 1929"},
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), "010000Z JAN 2030"},
		{time.Date(1900, 7, 4, 12, 0, 0, 0, time.UTC), "041200Z JUL 1900"},
		{time.Date(999, 7, 4, 12, 0, 0, 0, time.UTC), "041200Z JUL 0999"},
	} {
		if got := cable.FormatDTG(tc.t); got != tc.want {
			t.Errorf("FormatDTG(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestParseDTG(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"221800Z FEB 46", dtg1946},
		{"221800z feb 46", dtg1946},
		{"  221800Z \t FEB   46 ", dtg1946},
		{"221800Z FEB 1946", dtg1946},
		{"290000Z FEB 24", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"312359Z DEC 2200", time.Date(2200, 12, 31, 23, 59, 0, 0, time.UTC)},
	} {
		got, err := cable.ParseDTG(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseDTG(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "221800 FEB 46", "221800Z FEB", "221800Z FEBRUARY 46", "221800Z FEB 946", "2218Z FEB 46",
		"221800Z XYZ 46", "222400Z FEB 46", "221860Z FEB 46", "001800Z FEB 46", "321800Z JAN 46",
		"301800Z FEB 46", "290000Z FEB 23", "310000Z APR 46", "221800ZFEB46", "221800Z FEB 46 EXTRA",
		"２21800Z FEB 46",
	} {
		if got, err := cable.ParseDTG(bad); cable.ErrorCode(err) != cable.EINVALID || !got.IsZero() {
			t.Errorf("ParseDTG(%q) = %v, %v; want EINVALID", bad, got, err)
		}
	}
}

// TestDTGTwoDigitWindow checks that a two-digit year is read as 1930-2029
// and that FormatDTG writes two digits exactly for those years.
func TestDTGTwoDigitWindow(t *testing.T) {
	for yy := 0; yy < 100; yy++ {
		want := 1900 + yy
		if yy < 30 {
			want = 2000 + yy
		}
		in := "010000Z JAN " + string(rune('0'+yy/10)) + string(rune('0'+yy%10))
		got, err := cable.ParseDTG(in)
		if err != nil || got.Year() != want {
			t.Errorf("ParseDTG(%q) = %v, %v; want year %d", in, got, err, want)
		}
		if s := cable.FormatDTG(got); s != in {
			t.Errorf("FormatDTG(%v) = %q, want %q", got, s, in)
		}
	}
}

// TestDTGRoundTrip checks FormatDTG then ParseDTG gives back the instant,
// to the minute, for every month of every year from 1900 to 2200 and for
// a sample of earlier years.
func TestDTGRoundTrip(t *testing.T) {
	years := []int{1, 99, 100, 999, 1000, 1492, 1899}
	for y := 1900; y <= 2200; y++ {
		years = append(years, y)
	}
	for _, y := range years {
		for m := time.January; m <= time.December; m++ {
			last := time.Date(y, m+1, 0, 23, 59, 59, 999999999, time.UTC) // last day of month
			for _, in := range []time.Time{
				time.Date(y, m, 1, 0, 0, 0, 0, time.UTC),
				time.Date(y, m, 15, 7, int(m)*4, 30, 0, time.UTC),
				last,
			} {
				s := cable.FormatDTG(in)
				got, err := cable.ParseDTG(s)
				if err != nil || !got.Equal(in.Truncate(time.Minute)) {
					t.Fatalf("ParseDTG(FormatDTG(%v)) = ParseDTG(%q) = %v, %v", in, s, got, err)
				}
			}
		}
	}
}

func TestParseDeclassifyOn(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   cable.DeclassifyOn
		String string
	}{
		{"", cable.DeclassifyOn{}, ""},
		{"   ", cable.DeclassifyOn{}, ""},
		{"1971-02-22", cable.DeclassifyOn{Date: date(1971, 2, 22)}, "1971-02-22"},
		{"02/22/1971", cable.DeclassifyOn{Date: date(1971, 2, 22)}, "1971-02-22"},
		{"2/2/1971", cable.DeclassifyOn{Date: date(1971, 2, 2)}, "1971-02-02"},
		{"25X1", cable.DeclassifyOn{Exemption: "25X1"}, "25X1"},
		{"25x1", cable.DeclassifyOn{Exemption: "25X1"}, "25X1"},
		{"X5", cable.DeclassifyOn{Exemption: "X5"}, "X5"},
		{"75X2", cable.DeclassifyOn{Exemption: "75X2"}, "75X2"},
		{"50X1-HUM", cable.DeclassifyOn{Exemption: "50X1-HUM"}, "50X1-HUM"},
		{"50X2-WMD", cable.DeclassifyOn{Exemption: "50X2-WMD"}, "50X2-WMD"},
		{"50X1-HUM, 2071-02-22", cable.DeclassifyOn{Exemption: "50X1-HUM", Date: date(2071, 2, 22)}, "50X1-HUM, 2071-02-22"},
		{"25X1,02/22/2021", cable.DeclassifyOn{Exemption: "25X1", Date: date(2021, 2, 22)}, "25X1, 2021-02-22"},
		{"End of the  occupation", cable.DeclassifyOn{Event: "End of the occupation"}, "End of the occupation"},
		{"OADR", cable.DeclassifyOn{Event: "OADR"}, "OADR"},
		{"after the treaty, if ratified", cable.DeclassifyOn{Event: "after the treaty, if ratified"}, "after the treaty, if ratified"},
	} {
		got, err := cable.ParseDeclassifyOn(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDeclassifyOn(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if s := got.String(); s != tc.String {
			t.Errorf("String() = %q, want %q", s, tc.String)
		}
		if back, err := cable.ParseDeclassifyOn(got.String()); err != nil || back != got {
			t.Errorf("ParseDeclassifyOn(%q) = %+v, %v; want %+v", got.String(), back, err, got)
		}
		if got.IsZero() != (tc.in == "" || tc.in == "   ") {
			t.Errorf("IsZero(%+v) = %v", got, got.IsZero())
		}
	}
	for _, bad := range []string{"1971-02-30", "13/01/1971", "1971/02/22", "22.02.1971", "25X1, soon", "25X1, 1971-02-30", "50X1-HUM, 2/30/2071"} {
		if got, err := cable.ParseDeclassifyOn(bad); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("ParseDeclassifyOn(%q) = %+v, %v; want EINVALID", bad, got, err)
		}
	}
}

func TestDeclassifyOnJSON(t *testing.T) {
	in := cable.Authority{ClassifiedBy: "K", Reason: "1.4 (D)", DeclassifyOn: cable.DeclassifyOn{Exemption: "25X1", Date: date(2001, 1, 2)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"classified_by":"K","reason":"1.4 (D)","declassify_on":"25X1, 2001-01-02"}`; string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
	var out cable.Authority
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("read back %+v, %v", out, err)
	}
}

func TestIsExemptionCode(t *testing.T) {
	for s, want := range map[string]bool{"25X1": true, "25X9": true, "50X1-HUM": true, "50X2-WMD": true, "75X3": true, "X1": true, "X8": true,
		"25X0": false, "25X10": false, "X9": false, "25x1": false, "50X1-HUMINT": false, "": false, "1.4(B)": false} {
		if cable.IsExemptionCode(s) != want {
			t.Errorf("IsExemptionCode(%q) = %v", s, !want)
		}
	}
}

func TestParseReason(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"1.4 (B) AND (D)", "bd"},
		{"1.4(b), (d)", "bd"},
		{"1.4 (A), (B) AND (D)", "abd"},
		{"1.4 b d", "bd"},
		{"1.4 (D) and (B)", "db"},
		{"1.4 (c) And (c)", "c"},
		{"1.4 (H)", "h"},
		{" 1.4(a)(b)", ""},
		{"1.4 (B) 1.4 (D)", "bd"},
	} {
		got, err := cable.ParseReason(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseReason(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("ParseReason(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "1.4", "1.4 ()", "1.5 (B)", "(B)", "1.4 (I)", "1.4 (BB)", "1.4 (B) OR (D)", "section 1.4 (b)", "1.4 (1)"} {
		if got, err := cable.ParseReason(bad); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("ParseReason(%q) = %q, %v; want EINVALID", bad, got, err)
		}
	}
}

func TestFormatReason(t *testing.T) {
	for _, tc := range []struct {
		letters, want string
	}{
		{"", ""},
		{"b", "1.4 (B)"},
		{"bd", "1.4 (B) AND (D)"},
		{"abd", "1.4 (A), (B) AND (D)"},
		{"abcdefgh", "1.4 (A), (B), (C), (D), (E), (F), (G) AND (H)"},
	} {
		got := cable.FormatReason([]byte(tc.letters))
		if got != tc.want {
			t.Errorf("FormatReason(%q) = %q, want %q", tc.letters, got, tc.want)
		}
		if tc.letters == "" {
			continue
		}
		back, err := cable.ParseReason(got)
		if err != nil || !slices.Equal(back, []byte(tc.letters)) {
			t.Errorf("ParseReason(%q) = %q, %v", got, back, err)
		}
	}
}

// BenchmarkParseDTG measures ParseDTG; its baseline is time.Parse of the
// same text with the equivalent layout.
func BenchmarkParseDTG(b *testing.B) {
	for b.Loop() {
		if _, err := cable.ParseDTG("221800Z FEB 46"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDTGBaselineTimeParse(b *testing.B) {
	for b.Loop() {
		if _, err := time.Parse("021504Z Jan 06", "221800Z Feb 46"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormatDTG measures FormatDTG; its baseline is time.Format.
func BenchmarkFormatDTG(b *testing.B) {
	for b.Loop() {
		_ = cable.FormatDTG(dtg1946)
	}
}

func BenchmarkFormatDTGBaselineTimeFormat(b *testing.B) {
	for b.Loop() {
		_ = dtg1946.Format("021504Z Jan 06")
	}
}
