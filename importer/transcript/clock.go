package transcript

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

// parseMonth reads a month name or its abbreviation: "February", "Feb.", "Sept".
func parseMonth(s string) (time.Month, bool) {
	s = strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "."))
	if len(s) < 3 {
		return 0, false
	}
	for i, m := range monthNames {
		if strings.HasPrefix(m, s) {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// clock is a time of day as a telegram writes it. Midnight is the end of
// the day it is written with (24:00), as the telegraph offices used it.
type clock struct {
	hour, min int
}

var clockRE = regexp.MustCompile(`(?i)^(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\b\.?$`)

// parseClock reads "9 p.m.", "3:52 p.m.", "10.15 a.m.", "noon", "midnight".
func parseClock(s string) (clock, bool) {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ",;"))
	switch strings.ToLower(strings.TrimRight(s, ".")) {
	case "noon", "12 noon":
		return clock{12, 0}, true
	case "midnight", "12 midnight":
		return clock{24, 0}, true
	}
	m := clockRE.FindStringSubmatch(s)
	if m == nil {
		return clock{}, false
	}
	h, _ := strconv.Atoi(m[1])
	min := 0
	if m[2] != "" {
		min, _ = strconv.Atoi(m[2])
	}
	if h < 1 || h > 12 || min > 59 {
		return clock{}, false
	}
	pm := strings.EqualFold(m[3], "p")
	switch {
	case pm && h != 12:
		h += 12
	case !pm && h == 12:
		h = 0
	}
	return clock{h, min}, true
}

// at returns the instant of the clock on a date in loc.
func (c clock) at(y int, m time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, m, d, c.hour, c.min, 0, 0, loc)
}

// date is a calendar date as written, the year possibly unknown (0).
type date struct {
	year  int
	month time.Month
	day   int
}

func (d date) valid() bool {
	if d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 {
		return false
	}
	if d.year == 0 {
		return time.Date(2000, d.month, d.day, 0, 0, 0, 0, time.UTC).Day() == d.day // 2000 is a leap year
	}
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Day() == d.day
}

var dateRE = regexp.MustCompile(`^([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{4}))?$`)

// parseDate reads "February 22, 1946", "Feb. 22", "Sept 3 1947".
func parseDate(s string) (date, bool) {
	m := dateRE.FindStringSubmatch(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ".,")))
	if m == nil {
		return date{}, false
	}
	mon, ok := parseMonth(m[1])
	if !ok {
		return date{}, false
	}
	d := date{month: mon}
	d.day, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		d.year, _ = strconv.Atoi(m[3])
	}
	return d, d.valid()
}

var dateClockRE = regexp.MustCompile(`^([A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:\s*,?\s*\d{4})?)\s*[,;]?\s*(.*)$`)

// parseDateClock reads "February 22, 9 p.m.", "February 22, 1946, 9 p.m."
// and "Feb. 23 10:15 a.m.". The clock is required.
func parseDateClock(s string) (date, clock, bool) {
	m := dateClockRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return date{}, clock{}, false
	}
	d, ok := parseDate(m[1])
	if !ok {
		return date{}, clock{}, false
	}
	c, ok := parseClock(m[2])
	if !ok {
		return date{}, clock{}, false
	}
	return d, c, true
}
