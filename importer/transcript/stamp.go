package transcript

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stamp is a declassification stamp found on a page, read as far as it is
// legible. The stamps of the 1970s read, line by line:
//
//	DECLASSIFIED
//	E.O. 11652, Sec. 3(E) and 5(D) or (E)
//	State Dept. letter, Oct. 2, 1975
//	By RWK NARS Date 4-9-76
//
// The fields hold what could be read; Text keeps every line as transcribed.
type Stamp struct {
	// Page is the page of the transcript the stamp is on, from 1.
	Page int `json:"page"`
	// Declassified is set when the word DECLASSIFIED is legible.
	Declassified bool `json:"declassified"`
	// Authority is the executive order: "E.O. 11652".
	Authority string `json:"authority,omitempty"`
	// Section is the order's section as written: "3(E) and 5(D) or (E)".
	Section string `json:"section,omitempty"`
	// Letter is the authorising letter as written: "State Dept. letter, Oct. 2, 1975".
	Letter string `json:"letter,omitempty"`
	// LetterDate is the letter's date, when legible: "1975-10-02".
	LetterDate string `json:"letter_date,omitempty"`
	// Reviewer is the reviewer's initials as written: "RWK".
	Reviewer string `json:"reviewer,omitempty"`
	// Date is the date of review, when legible and plausible: "1976-04-09".
	Date string `json:"date,omitempty"`
	// DateWritten is the date of review as written: "4-9-76".
	DateWritten string `json:"date_as_written,omitempty"`
	// Text is the stamp's lines as transcribed.
	Text []string `json:"text"`
}

func (s *Stamp) has(p stampPart) bool {
	switch p {
	case stampDeclassified:
		return s.Declassified || s.Authority != "" || s.Letter != "" || s.Reviewer != "" || s.DateWritten != ""
	case stampAuthority:
		return s.Authority != ""
	case stampLetter:
		return s.Letter != ""
	case stampReviewer:
		return s.Reviewer != "" || s.DateWritten != ""
	}
	return false
}

var (
	reviewDateRE  = regexp.MustCompile(`\*?(\d{1,2})\s*-\s*(\d{1,2})(?:\s*-\s*(\d{2,4}))?\*?\s*$`)
	reviewStopRE  = regexp.MustCompile(`(?i)^(?:nars|hars|name|mar|date|dated|,)$`)
	letterDateRE  = regexp.MustCompile(`([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\.?$`)
	leadingBanner = regexp.MustCompile(`^(?:(?:TOP\s+)?SECRET|CONFIDENTIAL|RESTRICTED)\s+`)
)

// add reads one line of the stamp into its fields.
func (s *Stamp) add(p stampPart, l line) {
	s.Text = append(s.Text, l.raw)
	t := leadingBanner.ReplaceAllString(l.text, "")
	switch p {
	case stampDeclassified:
		s.Declassified = true
	case stampAuthority:
		if strings.HasPrefix(t, "(") {
			// "(E.O. 11652, Sec. 3(E)) or (S)": the stamp's own parenthesis.
			t = strings.TrimPrefix(t, "(")
			if i := strings.Index(t, ")"); i >= 0 && strings.Count(t[:i], "(") == 0 {
				t = t[:i] + t[i+1:]
			}
		}
		m := eoRE.FindStringSubmatch(t)
		if m == nil {
			return
		}
		s.Authority = "E.O. " + m[1]
		s.Section = strings.TrimSpace(strings.Join(strings.Fields(m[2]), " "))
	case stampLetter:
		s.Letter = t
		if m := letterDateRE.FindStringSubmatch(t); m != nil {
			if mon, ok := parseMonth(m[1]); ok {
				d, _ := strconv.Atoi(m[2])
				y, _ := strconv.Atoi(m[3])
				if tm := time.Date(y, mon, d, 0, 0, 0, 0, time.UTC); tm.Day() == d {
					s.LetterDate = tm.Format(time.DateOnly)
				}
			}
		}
	case stampReviewer:
		rest := reviewerRE.FindStringSubmatch(t)[1]
		if m := reviewDateRE.FindStringSubmatch(rest); m != nil {
			s.DateWritten = strings.Trim(strings.Join(strings.Fields(m[0]), ""), "*")
			rest = rest[:len(rest)-len(m[0])]
		}
		var initials []string
		for _, w := range strings.Fields(rest) {
			if reviewStopRE.MatchString(strings.Trim(w, ".,*")) || reviewStopRE.MatchString(w) {
				break
			}
			if i := strings.Index(w, ".."); i >= 0 {
				w = w[:i]
			}
			w = strings.Trim(w, "*,")
			w = strings.TrimRight(w, ".")
			if w != "" {
				initials = append(initials, w)
			}
			if len(initials) == 2 {
				break
			}
		}
		s.Reviewer = strings.Join(initials, " ")
		if s.Reviewer != "" && strings.Count(s.Reviewer, ".") > 0 && !strings.HasSuffix(s.Reviewer, ".") && strings.Contains(rest, s.Reviewer+".") {
			s.Reviewer += "."
		}
	}
}

// settle reads the review date as month-day-year, keeping it only when it
// is a real date between the cable's date and now: a stamp cannot
// declassify a cable before it was written.
func (s *Stamp) settle(cableDate time.Time, now time.Time) {
	if s.DateWritten == "" {
		return
	}
	m := reviewDateRE.FindStringSubmatch(s.DateWritten)
	if m == nil || m[3] == "" {
		return
	}
	mon, _ := strconv.Atoi(m[1])
	day, _ := strconv.Atoi(m[2])
	year, _ := strconv.Atoi(m[3])
	if len(m[3]) == 2 {
		year += 1900
	}
	if mon < 1 || mon > 12 || day < 1 || day > 31 {
		return
	}
	t := time.Date(year, time.Month(mon), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day || t.Before(cableDate.Truncate(24*time.Hour)) || t.After(now) {
		return
	}
	s.Date = t.Format(time.DateOnly)
}
