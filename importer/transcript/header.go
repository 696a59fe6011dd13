package transcript

import (
	"regexp"
	"strconv"
	"strings"

	cable "github.com/cable-archive/cable"
)

// Form is the kind of telegram form a transcript shows.
type Form string

// Forms.
const (
	// FormIncoming is the Department's INCOMING TELEGRAM form: a telegram
	// from a post, with its time of receipt, control number and offices.
	FormIncoming Form = "incoming"
	// FormOutgoing is an OUTGOING TELEGRAM or TELEGRAM SENT form: a
	// telegram of the Department to a post.
	FormOutgoing Form = "outgoing"
	// FormPlain is a telegram without a form heading, opening with its
	// addressee ("Secretary of State, Washington.") or its origin.
	FormPlain Form = "plain"
)

// header holds the fields of a telegram form as written.
type header struct {
	form       Form
	control    string
	place, via string
	dated      date
	received   string
	action     string
	info       []string
	handling   []cable.Handling
	class      cable.Classification
	marking    string
	precedence cable.Precedence
	addressee  []string
	serial     int
	sent       date
	sentClock  clock
	hasClock   bool
	marks      []string
	start, end int // index of the form's first line and of the first body line
}

var (
	serialLineRE = regexp.MustCompile(`^(?:No\.?\s*)?(\d{1,6})\s*[,.]\s*(.+?)\.?$`)
	datedRE      = regexp.MustCompile(`(?i)^dated\s*:?\s*(.+)$`)
	receivedRE   = regexp.MustCompile(`(?i)^(?:rec'?d|rec’d|recd\.?|received)\s*:?\s*(.+)$`)
	controlRE    = regexp.MustCompile(`^\d{1,6}$`)
	addresseeRE  = regexp.MustCompile(`(?i)^(?:(?:acting\s+)?secretary\s+of\s+state|secstate|amemb\w*|american\s+(?:embassy|legation|consul\w*|mission)|amleg\w*|amcon\w*|ammission|uspolad|ampolad|(?:war|navy)\s+department)\b`)
	stationLnRE  = regexp.MustCompile(`(?i)^([A-Za-z][A-Za-z .'’-]*?)(?:\s*,?\s+via\s+([A-Za-z][A-Za-z .'’-]*?))?\.?$`)
	placeDateRE  = regexp.MustCompile(`^(?:([A-Za-z][A-Za-z .'’-]*?)\s*,\s*)?([A-Za-z]{3,9}\.?\s+\d{1,2}\s*,\s*\d{4})\.?$`)
)

// serialLine reads the line that opens a telegram's text: its number, the
// date and the local time of sending, "511, February 22, 9 p.m.".
func serialLine(t string) (int, date, clock, bool) {
	if pageHeaderRE.MatchString(t) {
		return 0, date{}, clock{}, false
	}
	m := serialLineRE.FindStringSubmatch(t)
	if m == nil {
		return 0, date{}, clock{}, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return 0, date{}, clock{}, false
	}
	d, c, ok := parseDateClock(m[2])
	if !ok {
		return 0, date{}, clock{}, false
	}
	return n, d, c, true
}

// markingLine reads a line of markings: classification words, precedence
// words and NIACT, in any order ("SECRET", "URGENT", "SECRET US URGENT").
func markingLine(t string) (cl cable.Classification, marking string, prec cable.Precedence, niact, ok bool) {
	f := strings.Fields(strings.ToUpper(strings.Trim(t, " .-")))
	if len(f) == 0 {
		return 0, "", 0, false, false
	}
	for i := 0; i < len(f); i++ {
		w := strings.Trim(f[i], ".,:;-")
		if i+1 < len(f) {
			two := w + " " + strings.Trim(f[i+1], ".,:;-")
			if c, m, ok := classWords(two); ok && two == "TOP SECRET" {
				if c > cl {
					cl, marking = c, m
				}
				i++
				continue
			}
			if p, ok := precedenceWords[two]; ok {
				prec = morePrecedent(prec, p)
				i++
				continue
			}
		}
		if c, m, ok := classWords(w); ok {
			if c > cl || (c == cl && m == "RESTRICTED") {
				cl, marking = c, m
			}
			continue
		}
		if w == "NIACT" {
			niact = true
			prec = morePrecedent(prec, cable.Immediate)
			continue
		}
		if p, ok := precedenceWords[w]; ok {
			prec = morePrecedent(prec, p)
			continue
		}
		if w == "US" || w == "PLAIN" || w == "GRAY" || w == "GREY" {
			// "US URGENT"; "PLAIN" and "GRAY" name the code the telegram
			// was sent in, not a marking of the cable.
			continue
		}
		return 0, "", 0, false, false
	}
	return cl, marking, prec, niact, true
}

// precedenceWords map the precedence words of the 1940s and 1950s to the
// domain's precedence: TRIPLE PRIORITY and FLASH to FLASH; URGENT (also
// "US URGENT"), NIACT, IMMEDIATE and RUSH to IMMEDIATE; PRIORITY to
// PRIORITY; ROUTINE to ROUTINE.
var precedenceWords = map[string]cable.Precedence{
	"FLASH":           cable.Flash,
	"TRIPLE PRIORITY": cable.Flash,
	"MOST IMMEDIATE":  cable.Flash,
	"URGENT":          cable.Immediate,
	"IMMEDIATE":       cable.Immediate,
	"RUSH":            cable.Immediate,
	"PRIORITY":        cable.Priority,
	"DOUBLE PRIORITY": cable.Immediate,
	"ROUTINE":         cable.Routine,
}

func morePrecedent(a, b cable.Precedence) cable.Precedence {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func (h *header) noteClass(c cable.Classification, m string) {
	if c > h.class || (c == h.class && m == "RESTRICTED") {
		h.class, h.marking = c, m
	}
}

// findForm returns the index of the first line of the first telegram
// form: the DEPARTMENT OF STATE heading above its form title, or for a
// form without a title the header lines above its serial line.
func findForm(ls []line, g *Gazetteer) (int, Form, bool) {
	for i := range ls {
		m := formTitleRE.FindStringSubmatch(ls[i].text)
		if m == nil {
			continue
		}
		form := FormIncoming
		if strings.EqualFold(m[1], "outgoing") || strings.EqualFold(m[2], "sent") {
			form = FormOutgoing
		}
		start := i
		for j, seen := i-1, 0; j >= 0 && seen < 3; j-- {
			if ls[j].text == "" {
				continue
			}
			seen++
			if departmentRE.MatchString(ls[j].text) {
				start = j
				break
			}
		}
		return start, form, true
	}
	for i := range ls {
		if _, _, _, ok := serialLine(ls[i].text); ok {
			return backOverHeader(ls, i, 0, g), FormPlain, true
		}
	}
	return 0, "", false
}

// backOverHeader returns the first of the header lines that stand
// directly above line i, not going above floor.
func backOverHeader(ls []line, i, floor int, g *Gazetteer) int {
	start := i
	for j := i - 1; j >= floor; j-- {
		t := ls[j].text
		if t == "" {
			continue
		}
		if !headerish(t, g) {
			break
		}
		start = j
	}
	return start
}

// headerish reports whether t is a line a telegram form's header holds.
func headerish(t string, g *Gazetteer) bool {
	if _, _, _, _, ok := markingLine(t); ok {
		return true
	}
	switch {
	case departmentRE.MatchString(t), formTitleRE.MatchString(t), noParaphraseRE.MatchString(t),
		datedRE.MatchString(t), receivedRE.MatchString(t), controlRE.MatchString(t),
		addresseeRE.MatchString(t), actionRE.MatchString(t), infoRE.MatchString(t),
		placeDateRE.MatchString(t), initialsRE.MatchString(t), starMarkRE.MatchString(t):
		return true
	}
	if m := stationLnRE.FindStringSubmatch(t); m != nil && len(t) <= 60 && hasPlace(g, m[1]) {
		return true
	}
	// Office symbols, but not a name standing alone: that is a signature.
	return len(t) <= 40 && officeLineRE.MatchString(t) && !(signatureRE.MatchString(t) && countLetters(t) >= 4)
}

func hasPlace(g *Gazetteer, s string) bool { _, ok := g.Lookup(s); return ok }

// parseHeader reads the form's header from ls[start:] up to and including
// the serial line.
func parseHeader(ls []line, start int, form Form, g *Gazetteer) (*header, bool) {
	h := &header{form: form, start: start}
	mode := ""
	for i := start; i < len(ls); i++ {
		l := ls[i]
		for _, s := range l.struck {
			if c, m, ok := classWords(s); ok {
				h.noteClass(c, m)
			}
		}
		t := l.text
		if t == "" {
			continue
		}
		if n, d, c, ok := serialLine(t); ok {
			h.serial, h.sent, h.sentClock, h.hasClock = n, d, c, true
			h.end = i + 1
			return h, true
		}
		if mode == "addressee" && controlRE.MatchString(t) {
			// A TELEGRAM SENT form writes the telegram's number alone
			// below the addressee; date and time stand above.
			h.serial, _ = strconv.Atoi(t)
			h.end = i + 1
			return h, h.serial > 0
		}
		if mode == "info" && !(len(t) <= 40 && officeLineRE.MatchString(t)) {
			mode = ""
		}
		if cl, m, p, niact, ok := markingLine(t); ok {
			if cl != 0 {
				h.noteClass(cl, m)
			}
			h.precedence = morePrecedent(h.precedence, p)
			if niact {
				h.handling = append(h.handling, cable.NIACT)
			}
			continue
		}
		if mode == "addressee" && !addresseeContinues(h.addressee, t, g) {
			mode = ""
		}
		switch {
		case departmentRE.MatchString(t):
		case formTitleRE.MatchString(t):
		case noParaphraseRE.MatchString(t):
			h.handling = append(h.handling, cable.NoParaphraseNecessary)
		case controlRE.MatchString(t):
			if h.control == "" {
				h.control = t
			} else {
				h.marks = append(h.marks, t)
			}
		case datedRE.MatchString(t):
			s := datedRE.FindStringSubmatch(t)[1]
			if m := placeDateRE.FindStringSubmatch(s); m != nil {
				s = m[2]
			}
			if d, ok := parseDate(s); ok {
				h.dated = d
			}
		case receivedRE.MatchString(t):
			h.received = receivedRE.FindStringSubmatch(t)[1]
		case actionRE.MatchString(t):
			if os := offices(actionRE.FindStringSubmatch(t)[1]); len(os) > 0 {
				h.action = os[0]
			}
			mode = "info"
		case infoRE.MatchString(t):
			h.info = append(h.info, offices(infoRE.FindStringSubmatch(t)[1])...)
			mode = "info"
		case mode == "info":
			os := offices(t)
			if h.action == "" && len(h.info) == 0 && len(os) > 0 {
				h.action, os = os[0], os[1:]
			}
			h.info = append(h.info, os...)
		case addresseeRE.MatchString(t):
			h.addressee = append(h.addressee, t)
			mode = "addressee"
		case mode == "addressee":
			h.addressee = append(h.addressee, t)
		case placeDateRE.MatchString(t):
			m := placeDateRE.FindStringSubmatch(t)
			if d, ok := parseDate(m[2]); ok && h.dated.year == 0 {
				h.dated = d
			}
			if m[1] != "" && h.place == "" {
				h.place = m[1]
			}
		case stationLn(t, g) && h.place == "":
			m := stationLnRE.FindStringSubmatch(t)
			h.place, h.via = m[1], m[2]
		default:
			if c, ok := parseClock(t); ok {
				h.sentClock, h.hasClock = c, true
				continue
			}
			if len(t) > 120 || len(strings.Fields(t)) > 16 {
				// Prose before any serial line: not a telegram header.
				return h, false
			}
			h.marks = append(h.marks, t)
		}
	}
	return h, false
}

// addresseeContinues reports whether t goes on with an addressee written
// over more lines: "Secretary of State," then "Washington.".
func addresseeContinues(addr []string, t string, g *Gazetteer) bool {
	if len(addr) == 0 || len(addr) > 2 || len(t) > 40 || !strings.HasSuffix(addr[len(addr)-1], ",") {
		return false
	}
	before, _, _ := cutFold(t, " via ")
	return hasPlace(g, before)
}

func stationLn(t string, g *Gazetteer) bool {
	if len(t) > 60 {
		return false
	}
	m := stationLnRE.FindStringSubmatch(t)
	return m != nil && hasPlace(g, m[1])
}

// offices splits a line of office symbols ("S", "S DCG", "A-B, A-C").
func offices(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		f = strings.Trim(f, ".")
		if cable.ValidOfficeCode(f) {
			out = append(out, f)
		}
	}
	return out
}
