package cable

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var months = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}

// FormatDTG writes a date-time group: day, hour, minute, Z, month, year,
// "221800Z FEB 46". Years from 1930 to 2029 are written with two digits as
// the field writes them; other years with four, so that ParseDTG always
// gives back the same instant (to the minute).
func FormatDTG(t time.Time) string {
	t = t.UTC()
	y := t.Year()
	year := fmt.Sprintf("%04d", y)
	if y >= 1930 && y <= 2029 {
		year = fmt.Sprintf("%02d", y%100)
	}
	return fmt.Sprintf("%02d%02d%02dZ %s %s", t.Day(), t.Hour(), t.Minute(), months[t.Month()-1], year)
}

var dtgPattern = regexp.MustCompile(`^(\d{2})(\d{2})(\d{2})Z\s+([A-Z]{3})\s+(\d{2}|\d{4})$`)

// ParseDTG reads a date-time group written by FormatDTG. A two-digit year
// is taken to be 1930-2029.
func ParseDTG(s string) (time.Time, error) {
	m := dtgPattern.FindStringSubmatch(strings.ToUpper(strings.Join(strings.Fields(s), " ")))
	if m == nil {
		return time.Time{}, Errorf(EINVALID, "malformed date-time group %q (want DDHHMMZ MON YY: 221800Z FEB 46)", s)
	}
	day, _ := strconv.Atoi(m[1])
	hour, _ := strconv.Atoi(m[2])
	min, _ := strconv.Atoi(m[3])
	mon := 0
	for i, name := range months {
		if name == m[4] {
			mon = i + 1
		}
	}
	year, _ := strconv.Atoi(m[5])
	if len(m[5]) == 2 {
		if year >= 30 {
			year += 1900
		} else {
			year += 2000
		}
	}
	if mon == 0 || hour > 23 || min > 59 || day < 1 || day > 31 {
		return time.Time{}, Errorf(EINVALID, "date-time group %q is out of range", s)
	}
	t := time.Date(year, time.Month(mon), day, hour, min, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, Errorf(EINVALID, "date-time group %q names a day the month does not have", s)
	}
	return t, nil
}

// DeclassifyOn is when a cable declassifies: on a date, on an event, or
// under an exemption code (25X1, 50X1-HUM ...) with an optional date.
type DeclassifyOn struct {
	Date      time.Time
	Event     string
	Exemption string
}

var exemptionPattern = regexp.MustCompile(`^(?:25X[1-9]|50X[1-9](?:-HUM|-WMD)?|75X[1-9]|X[1-8])$`)

// IsExemptionCode reports whether s is an exemption code such as 25X1 or 50X1-HUM.
func IsExemptionCode(s string) bool { return exemptionPattern.MatchString(s) }

// IsZero reports whether no instruction is given.
func (d DeclassifyOn) IsZero() bool { return d.Date.IsZero() && d.Event == "" && d.Exemption == "" }

// String writes the instruction as in JSON: "2051-02-22", "25X1",
// "50X1-HUM, 2071-02-22", or the event's words.
func (d DeclassifyOn) String() string {
	switch {
	case d.Exemption != "" && !d.Date.IsZero():
		return d.Exemption + ", " + d.Date.Format(time.DateOnly)
	case d.Exemption != "":
		return d.Exemption
	case !d.Date.IsZero():
		return d.Date.Format(time.DateOnly)
	}
	return d.Event
}

// ParseDeclassifyOn reads the forms String writes, and dates written
// MM/DD/YYYY as on the E.O. line.
func ParseDeclassifyOn(s string) (DeclassifyOn, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return DeclassifyOn{}, nil
	}
	code, rest, hasDate := strings.Cut(s, ",")
	code = strings.ToUpper(strings.TrimSpace(code))
	if IsExemptionCode(code) {
		d := DeclassifyOn{Exemption: code}
		if hasDate {
			t, err := parseDeclassDate(strings.TrimSpace(rest))
			if err != nil {
				return DeclassifyOn{}, err
			}
			d.Date = t
		}
		return d, nil
	}
	if t, err := parseDeclassDate(s); err == nil {
		return DeclassifyOn{Date: t}, nil
	}
	if looksLikeDate(s) {
		return DeclassifyOn{}, Errorf(EINVALID, "declassify-on date %q is not a real date (want YYYY-MM-DD or MM/DD/YYYY)", s)
	}
	return DeclassifyOn{Event: s}, nil
}

var dateLike = regexp.MustCompile(`^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$`)

func looksLikeDate(s string) bool { return dateLike.MatchString(s) }

func parseDeclassDate(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, "01/02/2006", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Errorf(EINVALID, "malformed date %q", s)
}

// MarshalText writes String's form.
func (d DeclassifyOn) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads ParseDeclassifyOn's forms.
func (d *DeclassifyOn) UnmarshalText(b []byte) error {
	v, err := ParseDeclassifyOn(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var reasonPattern = regexp.MustCompile(`(?i)^1\.4\s*(.*)$`)
var reasonLetter = regexp.MustCompile(`(?i)\(?\s*([a-z])\s*\)?`)

// reasonSeparators turns what may stand between a reason's letters into
// spaces. Made once: a replacer builds its lookup table on first use.
var reasonSeparators = strings.NewReplacer(",", " ", "AND", " ", "and", " ", "And", " ", "1.4", " ")

// ParseReason reads a classification reason such as "1.4 (B) AND (D)" or
// "1.4(b), (d)" and returns its letters, each from a to h, in order.
func ParseReason(s string) ([]byte, error) {
	m := reasonPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, Errorf(EINVALID, "reason %q must cite E.O. 13526 section 1.4 (a)-(h)", s)
	}
	rest := reasonSeparators.Replace(m[1])
	var letters []byte
	seen := map[byte]bool{}
	for _, f := range strings.Fields(rest) {
		lm := reasonLetter.FindStringSubmatch(f)
		if lm == nil || len(lm[0]) != len(f) {
			return nil, Errorf(EINVALID, "reason %q: %q is not a letter (a)-(h)", s, f)
		}
		l := strings.ToLower(lm[1])[0]
		if l < 'a' || l > 'h' {
			return nil, Errorf(EINVALID, "reason %q: (%c) is not one of 1.4 (a)-(h)", s, l)
		}
		if !seen[l] {
			seen[l] = true
			letters = append(letters, l)
		}
	}
	if len(letters) == 0 {
		return nil, Errorf(EINVALID, "reason %q names no letter of 1.4 (a)-(h)", s)
	}
	return letters, nil
}

// FormatReason writes reason letters as the field does: "1.4 (B) AND (D)",
// "1.4 (A), (B) AND (D)".
func FormatReason(letters []byte) string {
	parts := make([]string, len(letters))
	for i, l := range letters {
		parts[i] = "(" + strings.ToUpper(string(l)) + ")"
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return "1.4 " + parts[0]
	}
	return "1.4 " + strings.Join(parts[:len(parts)-1], ", ") + " AND " + parts[len(parts)-1]
}
