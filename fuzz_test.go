package cable

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for every parser of the domain. Each checks that the
// parser never panics, refuses with an EINVALID *Error, and that a value
// it accepts, written out again, parses back to the same value. They run
// their seed corpus under a plain `go test`.

func checkInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if ErrorCode(err) != EINVALID || ErrorMessage(err) == "" {
		t.Fatalf("%s: error %v is not an EINVALID *Error with a message", what, err)
	}
}

func FuzzParseDTG(f *testing.F) {
	for _, s := range []string{"221800Z FEB 46", "221800z feb 1946", " 010000Z  JAN 00 ", "290000Z FEB 2000", "290000Z FEB 1900",
		"312359Z DEC 2200", "010000Z JAN 0000", "010000Z JAN 0999", "300000Z FEB 46", "242400Z FEB 46", "",
		"999999Z XXX 99", "221800Z\tFEB\n46"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseDTG(s)
		if err != nil {
			checkInvalid(t, "ParseDTG", err)
			return
		}
		if tm.Location() != time.UTC || tm.Second() != 0 || tm.Nanosecond() != 0 {
			t.Fatalf("ParseDTG(%q) = %v: not UTC to the minute", s, tm)
		}
		out := FormatDTG(tm)
		back, err := ParseDTG(out)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("ParseDTG(%q) = %v; FormatDTG gives %q which parses to %v, %v", s, tm, out, back, err)
		}
		if again := FormatDTG(back); again != out {
			t.Fatalf("FormatDTG is not stable: %q then %q", out, again)
		}
	})
}

func FuzzParseDeclassifyOn(f *testing.F) {
	for _, s := range []string{"", "1971-02-22", "02/22/1971", "2/2/1971", "25X1", "25x1", "50X1-HUM", "50X1-HUM, 2071-02-22",
		"25X1,02/22/2021", "X8", "End of the occupation", "1971-02-30", "13/01/1971", "25X1, soon", "a, b", ",", " 25X1 , 1971-02-22 ",
		"0000-01-01", "12.12.12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeclassifyOn(s)
		if err != nil {
			checkInvalid(t, "ParseDeclassifyOn", err)
			return
		}
		kinds := 0
		if d.Event != "" {
			kinds++
		}
		if d.Exemption != "" || !d.Date.IsZero() {
			kinds++
		}
		if kinds > 1 || (d.Exemption != "" && !IsExemptionCode(d.Exemption)) {
			t.Fatalf("ParseDeclassifyOn(%q) = %+v mixes forms", s, d)
		}
		back, err := ParseDeclassifyOn(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDeclassifyOn(%q) = %+v; String %q parses to %+v, %v", s, d, d.String(), back, err)
		}
		b, _ := d.MarshalText()
		var u DeclassifyOn
		if err := u.UnmarshalText(b); err != nil || u != d {
			t.Fatalf("text round trip of %+v: %+v, %v", d, u, err)
		}
	})
}

func FuzzParseReason(f *testing.F) {
	for _, s := range []string{"1.4 (B) AND (D)", "1.4(b), (d)", "1.4 (A), (B) AND (D)", "1.4 b d", "1.4 (c) And (c)", "1.4", "1.4 ()",
		"1.5 (B)", "1.4 (I)", "1.4 (BB)", "1.4 (a)(b)", "1.4 (B) 1.4 (D)", "1.4 (K)", "", "1.4 ( e )"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		letters, err := ParseReason(s)
		if err != nil {
			checkInvalid(t, "ParseReason", err)
			return
		}
		if len(letters) == 0 || len(letters) > 8 {
			t.Fatalf("ParseReason(%q) = %q", s, letters)
		}
		seen := map[byte]bool{}
		for _, l := range letters {
			if l < 'a' || l > 'h' || seen[l] {
				t.Fatalf("ParseReason(%q) = %q: letter %q out of range or repeated", s, letters, l)
			}
			seen[l] = true
		}
		out := FormatReason(letters)
		back, err := ParseReason(out)
		if err != nil || !slices.Equal(back, letters) {
			t.Fatalf("ParseReason(%q) = %q; FormatReason gives %q which parses to %q, %v", s, letters, out, back, err)
		}
	})
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"STATE 284", "state 284", "MOSCOW 00511", "76 STATE 12345", "1946 STATE 284", "1946MOSCOW00511",
		"0000STATE00001", "STATE 0", "1946STATE00000", "S 1", "STATE 1234567", "", "29 AB 999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			checkInvalid(t, "ParseReference", err)
			return
		}
		if !ValidStationCode(r.Station) || r.Serial < 1 || r.Serial > 999999 || r.Year < 0 || r.Year > 9999 {
			t.Fatalf("ParseReference(%q) = %+v", s, r)
		}
		forms := []string{Identifier(r.Year, r.Station, r.Serial)}
		if r.Year == 0 {
			forms = append(forms, fmt.Sprintf("%s %d", r.Station, r.Serial))
		} else {
			forms = append(forms, fmt.Sprintf("%04d %s %d", r.Year, r.Station, r.Serial))
		}
		for _, out := range forms {
			if back, err := ParseReference(out); err != nil || back != r {
				t.Fatalf("ParseReference(%q) = %+v; %q parses to %+v, %v", s, r, out, back, err)
			}
		}
		c := r.Candidates(1946)
		if len(c) == 0 || (r.Year != 0) != (len(c) == 1) {
			t.Fatalf("Candidates of %+v = %q", r, c)
		}
		for _, id := range c {
			if _, _, n, err := ParseIdentifier(id); err != nil || n != r.Serial {
				t.Fatalf("candidate %q of %+v: %v", id, r, err)
			}
		}
	})
}

func FuzzParseIdentifier(f *testing.F) {
	for _, s := range []string{"1946MOSCOW00511", "2026STATE123456", "1946MOSCOW000511", "1946moscow00511", "1946A00001", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, st, n, err := ParseIdentifier(s)
		if err != nil {
			checkInvalid(t, "ParseIdentifier", err)
			return
		}
		if !ValidStationCode(st) {
			t.Fatalf("ParseIdentifier(%q) gives station %q", s, st)
		}
		y2, st2, n2, err := ParseIdentifier(Identifier(y, st, n))
		if err != nil || y2 != y || st2 != st || n2 != n {
			t.Fatalf("ParseIdentifier(%q) = %d %s %d; Identifier parses to %d %s %d, %v", s, y, st, n, y2, st2, n2, err)
		}
	})
}

func FuzzParseClassification(f *testing.F) {
	for _, s := range []string{"SECRET", "Top Secret", "LOU", "SBU", "U", "UNCLAS", "limited  official use", "UNCLASSIFIED//SBU",
		"", "SECRETS", "ſecret", "(S)", "(TS)", "(lou)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := ParseClassification(s); err != nil {
			checkInvalid(t, "ParseClassification", err)
		} else {
			if !c.Valid() {
				t.Fatalf("ParseClassification(%q) = invalid %d", s, int(c))
			}
			if back, err := ParseClassification(c.String()); err != nil || back != c {
				t.Fatalf("ParseClassification(%q) = %v; String parses to %v, %v", s, c, back, err)
			}
			b, err := c.MarshalText()
			var u Classification
			if err != nil || u.UnmarshalText(b) != nil || u != c {
				t.Fatalf("text round trip of %v: %q, %v", c, b, u)
			}
			if back, err := ParsePortionMark("(" + c.PortionMark() + ")"); err != nil || back != c {
				t.Fatalf("portion mark of %v parses to %v, %v", c, back, err)
			}
		}
		if c, err := ParsePortionMark(s); err != nil {
			checkInvalid(t, "ParsePortionMark", err)
		} else if back, err := ParsePortionMark(c.PortionMark()); err != nil || back != c {
			t.Fatalf("ParsePortionMark(%q) = %v; %q parses to %v, %v", s, c, c.PortionMark(), back, err)
		}
	})
}

// FuzzParseMarkings covers the other marking parsers: precedence,
// caption and handling instruction.
func FuzzParseMarkings(f *testing.F) {
	for _, s := range []string{"FLASH", "z", "IMMED", "o", "NODIS", "exdis", "NIACT", "no paraphrase", "No Paraphrase  Necessary",
		"NOFORN", "", "ROUTINE ", "P"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePrecedence(s); err != nil {
			checkInvalid(t, "ParsePrecedence", err)
		} else {
			for _, out := range []string{p.String(), p.Prosign()} {
				if back, err := ParsePrecedence(out); err != nil || back != p {
					t.Fatalf("ParsePrecedence(%q) = %v; %q parses to %v, %v", s, p, out, back, err)
				}
			}
		}
		if c, err := ParseCaption(s); err != nil {
			checkInvalid(t, "ParseCaption", err)
		} else if back, err := ParseCaption(string(c)); err != nil || back != c || !c.Valid() {
			t.Fatalf("ParseCaption(%q) = %q; parses back to %q, %v", s, c, back, err)
		}
		if h, err := ParseHandling(s); err != nil {
			checkInvalid(t, "ParseHandling", err)
		} else if back, err := ParseHandling(string(h)); err != nil || back != h || !h.Valid() {
			t.Fatalf("ParseHandling(%q) = %q; parses back to %q, %v", s, h, back, err)
		}
	})
}

const fuzzDirectory = `# seed
station STATE headquarters America/New_York SECSTATE WASHDC
alias STATE SECRETARY OF STATE WASHINGTON
office STATE EUR Office of European Affairs
office STATE DC/R
station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW
office MOSCOW POL
station WAR relay UTC WARDEPT WASHDC
`

// formatDirectory writes d in the form ParseDirectory reads.
func formatDirectory(d *Directory) string {
	var b strings.Builder
	for _, s := range d.Stations() {
		fmt.Fprintf(&b, "station %s %s %s %s\n", s.Code, s.Kind, s.TimeZone, s.Address)
		for _, a := range s.Aliases {
			fmt.Fprintf(&b, "alias %s %s\n", s.Code, a)
		}
		for _, o := range s.Offices {
			fmt.Fprintf(&b, "office %s %s %s\n", s.Code, o.Symbol, o.Name)
		}
	}
	return b.String()
}

// exported returns the stations of d without their loaded time zones.
func exported(d *Directory) []Station {
	var out []Station
	for _, s := range d.Stations() {
		c := *s
		c.loc = nil
		out = append(out, c)
	}
	return out
}

func FuzzParseDirectory(f *testing.F) {
	f.Add([]byte(fuzzDirectory))
	f.Add([]byte("station STATE headquarters America/New_York\nalias MOSCOW\noffice KABUL POL\nstations X\n"))
	f.Add([]byte("station moscow embassy Europe/Roma AMEMB MOSCOW\noffice moscow pol\noffice moscow pol\n"))
	f.Add([]byte("station AB post UTC X\nstation CD post Local AMEMB X\nalias AB CD\n"))
	f.Add([]byte("station STATE headquarters UTC A\r\n  # comment\r\n\r\noffice STATE S\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := ParseDirectory(src)
		if err != nil {
			checkInvalid(t, "ParseDirectory", err)
			for _, p := range ErrorProblems(err) {
				if p.Field != "" && !strings.HasPrefix(p.Field, "line ") {
					t.Fatalf("problem %q does not name its line", p)
				}
			}
			return
		}
		for _, s := range d.Stations() {
			for _, a := range append([]string{s.Code, s.Address}, s.Aliases...) {
				if NormalizeAddress(a) == "" {
					continue
				}
				if got, err := d.StationByAddress(a); err != nil || got.Code != s.Code {
					t.Fatalf("address %q of %s finds %v, %v", a, s.Code, got, err)
				}
			}
		}
		out := formatDirectory(d)
		back, err := ParseDirectory([]byte(out))
		if err != nil {
			t.Fatalf("formatted directory does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(exported(back), exported(d)) {
			t.Fatalf("directory round trip differs:\n%+v\n%+v\n%s", exported(d), exported(back), out)
		}
	})
}

const fuzzRules = `# seed
at STATE
when caption NODIS and from MOSCOW -> action S
when tag UR -> action EUR info INR, S
when subject "arms control", budget -> action PM info EUR
when subject "war, peace" and precedence o, FLASH -> action S/S
when addressee PARIS and role info -> action EUR/WE
default -> action DC/R
at MOSCOW
default -> action POL info ECON ECON
`

// phrase is a subject value as containsWords sees it.
func phrase(v string) string {
	return strings.Join(strings.Fields(nonWord.ReplaceAllString(v, " ")), " ")
}

func formatThen(d Distribution) string {
	s := "action " + d.Action
	if len(d.Info) > 0 {
		s += " info " + strings.Join(d.Info, ", ")
	}
	return s
}

// formatRules writes rr in the form ParseRoutingRules reads, subject
// values as the quoted phrases containsWords matches. It reports false
// when a subject value has no word, which no text can write.
func formatRules(rr *RoutingRules) (string, bool) {
	var b strings.Builder
	for _, code := range rr.Stations() {
		sr := rr.stations[code]
		fmt.Fprintf(&b, "at %s\n", code)
		for _, r := range sr.rules {
			var conds []string
			for _, c := range r.Conditions {
				values := c.Values
				if c.Kind == "subject" {
					values = nil
					for _, v := range c.Values {
						p := phrase(v)
						if p == "" {
							return "", false
						}
						values = append(values, `"`+p+`"`)
					}
				}
				conds = append(conds, c.Kind+" "+strings.Join(values, ", "))
			}
			fmt.Fprintf(&b, "when %s -> %s\n", strings.Join(conds, " and "), formatThen(r.Then))
		}
		fmt.Fprintf(&b, "default -> %s\n", formatThen(*sr.def))
	}
	return b.String(), true
}

// sameRules compares two rule sets, subject values as phrases.
func sameRules(a, b *RoutingRules) bool {
	if !slices.Equal(a.Stations(), b.Stations()) {
		return false
	}
	for code, sa := range a.stations {
		sb := b.stations[code]
		if len(sa.rules) != len(sb.rules) || !reflect.DeepEqual(cloneDistribution(*sa.def), cloneDistribution(*sb.def)) {
			return false
		}
		for i, ra := range sa.rules {
			rb := sb.rules[i]
			if len(ra.Conditions) != len(rb.Conditions) || !reflect.DeepEqual(cloneDistribution(ra.Then), cloneDistribution(rb.Then)) {
				return false
			}
			for j, ca := range ra.Conditions {
				cb := rb.Conditions[j]
				va := slices.Clone(ca.Values)
				if ca.Kind == "subject" {
					for k := range va {
						va[k] = phrase(va[k])
					}
				}
				if ca.Kind != cb.Kind || !slices.Equal(va, cb.Values) {
					return false
				}
			}
		}
	}
	return true
}

func fuzzCables() []*Cable {
	return []*Cable{
		{Station: "MOSCOW", Precedence: Flash, Captions: []Caption{NODIS}, Tags: []string{"UR"}, Subject: "War, peace",
			To: []Addressee{{Station: "STATE", Role: RoleAction}, {Station: "PARIS", Role: RoleInfo}}},
		{Station: "ROME", Precedence: Routine, Tags: []string{"PGOV"}, Subject: "Arms control budget",
			To: []Addressee{{Station: "PARIS", Role: RoleAction}, {Station: "STATE", Role: RoleInfo}}},
		{Station: "LONDON", Precedence: Immediate, Subject: "x"},
	}
}

func FuzzParseRoutingRules(f *testing.F) {
	dir, err := ParseDirectory([]byte(fuzzDirectory))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(fuzzRules))
	f.Add([]byte("when tag UR -> action EUR\nat state\nat STATE\nwhen tag UR action EUR\nwhen tag UR -> EUR\nwhen tag -> action X\n" +
		"when color RED -> action EUR\nif x -> action EUR\ndefault -> action S\ndefault -> action S\nat LONDON\n"))
	f.Add([]byte("at STATE\nwhen tag \"a and b\", c and subject \"x\"y\" -> action EUR info S\ndefault -> action DC/R\n"))
	f.Add([]byte("at STATE\nwhen subject !!! -> action EUR\ndefault -> action DC/R\n"))
	f.Add([]byte("at AB\r\ndefault -> action A-B info C/D, E\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := ParseRoutingRules(src, dir); err != nil {
			checkInvalid(t, "ParseRoutingRules with directory", err)
		}
		rr, err := ParseRoutingRules(src, nil)
		if err != nil {
			checkInvalid(t, "ParseRoutingRules", err)
			for _, p := range ErrorProblems(err) {
				if p.Field != "" && !strings.HasPrefix(p.Field, "line ") && !strings.HasPrefix(p.Field, "at ") {
					t.Fatalf("problem %q names no line", p)
				}
			}
			return
		}
		out, ok := formatRules(rr)
		if !ok {
			return
		}
		back, err := ParseRoutingRules([]byte(out), nil)
		if err != nil {
			t.Fatalf("formatted rules do not parse: %v\n%s", err, out)
		}
		if !sameRules(rr, back) {
			t.Fatalf("rules round trip differs:\n%s", out)
		}
		for _, c := range fuzzCables() {
			for _, st := range append(rr.Stations(), "NOWHERE") {
				d1, ok1 := rr.Distribute(c, st)
				d2, ok2 := back.Distribute(c, st)
				if ok1 != ok2 || !reflect.DeepEqual(d1, d2) {
					t.Fatalf("at %s the round trip distributes %+v, %v instead of %+v, %v\n%s", st, d2, ok2, d1, ok1, out)
				}
				if ok1 && !ValidOfficeCode(d1.Action) {
					t.Fatalf("distributed to malformed office %q", d1.Action)
				}
			}
		}
	})
}

func FuzzParseRoutes(f *testing.F) {
	dir, err := ParseDirectory([]byte(fuzzDirectory))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("STATE via WAR\n* via WAR\n"))
	f.Add([]byte("MOSCOW WAR\n* via * \nx via y via z\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		r, err := ParseRoutes(src, dir)
		if err != nil {
			checkInvalid(t, "ParseRoutes", err)
			return
		}
		back, err := ParseRoutes([]byte(strings.Join(r.Lines(), "\n")), dir)
		if err != nil {
			t.Fatalf("routes written back do not parse: %v", err)
		}
		for _, s := range dir.Stations() {
			if r.NextHop(s.Code) != back.NextHop(s.Code) {
				t.Fatalf("NextHop(%s) changed on the round trip", s.Code)
			}
		}
	})
}

func FuzzParseReceipt(f *testing.F) {
	r := &DeliveryReceipt{CableID: "1946MOSCOW00511", Origin: "MOSCOW", Station: "STATE", ReceivedAt: time.Unix(0, 0).UTC(), ControlNumber: "1"}
	f.Add(MarshalReceipt(r, []byte{1, 2, 3}))
	f.Add([]byte("cable-receipt-v1\nsignature: AA==\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, sig, err := ParseReceipt(b)
		if err != nil {
			checkInvalid(t, "ParseReceipt", err)
			return
		}
		again, signed, sig2, err := ParseReceipt(MarshalReceipt(got, sig))
		if err != nil {
			t.Fatalf("receipt written back does not parse: %v", err)
		}
		if !again.ReceivedAt.Equal(got.ReceivedAt) || again.CableID != got.CableID || again.Station != got.Station ||
			again.Origin != got.Origin || again.ControlNumber != got.ControlNumber || !bytes.Equal(sig, sig2) ||
			!bytes.Equal(signed, again.SignedBytes()) {
			t.Fatalf("round trip changed the receipt: %+v / %+v", got, again)
		}
	})
}

func FuzzParseReceipts(f *testing.F) {
	r := &DeliveryReceipt{CableID: "1946MOSCOW00511", Origin: "MOSCOW", Station: "STATE", ReceivedAt: time.Unix(0, 0).UTC(), ControlNumber: "1"}
	r2 := *r
	r2.CableID = "1946MOSCOW00512"
	one := MarshalReceipt(r, []byte{1, 2, 3})
	f.Add(append(append([]byte(nil), one...), one...))
	f.Add([]byte("cable-receipt-v1\ncable-receipt-v1\n"))
	f.Add(MarshalReceipts(ReceiptsSignedBytes("STATE", "MOSCOW", []*DeliveryReceipt{r, &r2}), []byte{1, 2, 3}))
	f.Add([]byte("cable-receipts-v1\nstation: STATE\norigin: MOSCOW\ncount: 1\nsignature: AQID\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		srs, err := ParseReceipts(b)
		if err != nil {
			checkInvalid(t, "ParseReceipts", err)
			return
		}
		// A bundle is read only in the form a station writes it.
		if bytes.HasPrefix(b, []byte(receiptsHeader+"\n")) {
			first := srs[0].Receipts[0]
			if !bytes.Equal(srs[0].Signed, ReceiptsSignedBytes(first.Station, first.Origin, srs[0].Receipts)) {
				t.Fatalf("bundle read though not in its written form: %q", srs[0].Signed)
			}
		}
		// Each signed group written back as a bundle reads the same, and
		// what is read is what a records store takes.
		for _, sr := range srs {
			if err := CheckReceipts(sr.Receipts); err != nil {
				t.Fatalf("receipts read that a store refuses: %v", err)
			}
			if len(sr.Receipts) == 0 {
				t.Fatal("a signed group of no receipts")
			}
			first := sr.Receipts[0]
			back, err := ParseReceipts(MarshalReceipts(ReceiptsSignedBytes(first.Station, first.Origin, sr.Receipts), sr.Signature))
			if err != nil || len(back) != 1 || len(back[0].Receipts) != len(sr.Receipts) || !bytes.Equal(back[0].Signature, sr.Signature) {
				t.Fatalf("receipts written back: %+v, %v (had %d)", back, err, len(sr.Receipts))
			}
			for i, r := range back[0].Receipts {
				want := sr.Receipts[i]
				if r.CableID != want.CableID || r.Station != want.Station || r.Origin != want.Origin ||
					!r.ReceivedAt.Equal(want.ReceivedAt) || r.ControlNumber != want.ControlNumber {
					t.Fatalf("receipt %d written back: %+v, had %+v", i, r, want)
				}
			}
		}
	})
}
