package textform

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// line is one line of the input.
type line struct {
	n int    // line number in the input, from 1
	s string // the line without leading and trailing white space
}

// parser holds the state of one Parse.
type parser struct {
	form  *Form
	draft bool
	lines []line
	ps    cable.Problems
	c     *cable.Cable

	line1      int  // line number of the precedence line, 0 if none
	line1OK    bool // the precedence line names a precedence
	hasDTG     bool
	fmStation  string
	classLine  int // line number of the classification line, 0 if none
	classCode  string
	serialText string
	badSerial  bool
	section    int
	sections   int
	hasTo      bool
	dropped    int // problems not listed beyond maxProblems
}

// maxProblems bounds the problems listed for one text, so that hostile
// input (a million unknown lines) cannot build a huge error.
const maxProblems = 100

func (p *parser) addf(n int, format string, args ...any) {
	if len(p.ps) >= maxProblems {
		p.dropped++
		return
	}
	p.ps.Add(fmt.Sprintf("line %d", n), format, args...)
}

func (p *parser) parse(text []byte) (*Message, error) {
	p.lines = splitLines(text)
	p.c = &cable.Cable{}
	empty := true
	for _, l := range p.lines {
		if l.s != "" {
			empty = false
			break
		}
	}
	if empty {
		p.ps.Add("text", "the text is empty")
		return nil, p.ps.Err("invalid cable text")
	}
	i := p.parseHead()
	i = p.parseClassification(i)
	end := p.findEnd(i)
	i = p.parseHeader(i, end)
	p.parseBody(i, end)
	p.finish()
	sortProblems(p.ps)
	if p.dropped > 0 {
		p.ps.Add("text", "%d more problems are not listed", p.dropped)
	}
	if err := p.ps.Err("invalid cable text"); err != nil {
		return nil, err
	}
	cable.Normalize(p.c)
	return &Message{Cable: p.c, Section: p.section, Sections: p.sections}, nil
}

var bom = []byte("\uFEFF")

// splitLines cuts text at LF, CRLF or CR, trims every line and drops the
// page headers of archive printouts.
func splitLines(text []byte) []line {
	text = bytes.TrimPrefix(text, bom)
	lines := make([]line, 0, bytes.Count(text, []byte{'\n'})+1)
	n := 0
	for len(text) > 0 {
		var raw []byte
		i := bytes.IndexAny(text, "\r\n")
		if i < 0 {
			raw, text = text, nil
		} else {
			raw = text[:i]
			if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
				text = text[i+2:]
			} else {
				text = text[i+1:]
			}
		}
		n++
		s := string(bytes.TrimSpace(raw))
		if isPageHeader(s) {
			continue
		}
		lines = append(lines, line{n: n, s: s})
	}
	return lines
}

var rePageHeader = regexp.MustCompile(`^PAGE \d{1,3} [A-Z][A-Z ]* \d{3,6}(?: \d{1,2} OF \d{1,2})? \d{6}Z$`)

// isPageHeader reports whether s is the page header of an archive
// printout: "PAGE 02 MOSCOW 00511 221800Z". The test is made on the line
// with its spacing collapsed, as cable.Normalize would leave it, so that a
// line kept as text is never taken for a page header later.
func isPageHeader(s string) bool {
	if !strings.HasPrefix(s, "PAGE") {
		return false
	}
	return rePageHeader.MatchString(strings.Join(strings.Fields(s), " "))
}

// rePreamble matches the lines that may come before the precedence line:
// the 2000s transmission header (VZCZC..., OO RUEHWEB, DE RUEHMO #0511/01
// 0531800, ZNY SSSSS ZZH) and the distribution block of 1970s archive
// printouts (ACTION EUR-12, INFO OCT-01 ..., dashed lines).
var rePreamble = regexp.MustCompile(`^(?:VZCZC\S*|[ZOPR]{2}(?:\s+R[A-Z0-9]{2,})+|DE\s+R[A-Z0-9]+(?:\s.*)?|ZN[YR](?:\s.*)?|ACTION\s+[A-Z0-9/]+-\d+.*|INFO(?:\s+[A-Z0-9/]+-\d+)+.*|-{3,}.*|(?:[A-Z0-9/]+-\d+\s*)+(?:/\d+\s*[A-Z]?)?)$`)

// reTrailer matches what may follow the closing BT: "#0511", "NNNN",
// "<< END OF DOCUMENT >>".
var reTrailer = regexp.MustCompile(`^(?:#\d+|NNNN|<<\s*END OF DOCUMENT\s*>>)$`)

// reOpSignal matches operating signals written after the date-time group
// in 1970s traffic: ZFF4, ZFF-4, ZEX.
var reOpSignal = regexp.MustCompile(`^Z[A-Z]{2}(?:-?\d)?$`)

func isKeyword(s, kw string) bool {
	return s == kw || (len(s) > len(kw) && strings.HasPrefix(s, kw) && (s[len(kw)] == ' ' || s[len(kw)] == '\t'))
}

func afterKeyword(s, kw string) string { return strings.TrimSpace(s[len(kw):]) }

// parseHead reads the transmission header, the precedence line and the
// FM, TO and INFO lines, and returns the index of the line after the
// opening BT (or of the classification line when there is no BT).
func (p *parser) parseHead() int {
	fm := -1
	for k, l := range p.lines {
		if isKeyword(l.s, "FM") {
			fm = k
			break
		}
	}
	first := -1 // index of the precedence line
	start := 0  // index where the addressees begin
	limit := fm
	if fm < 0 {
		limit = len(p.lines)
	}
	for k := 0; k < limit; k++ {
		s := p.lines[k].s
		if s == "" || rePreamble.MatchString(s) {
			start = k + 1
			continue
		}
		if fm < 0 {
			if !isKeyword(s, "TO") && !isKeyword(s, "INFO") && s != "BT" {
				first = k
			} else {
				start = k
			}
			break
		}
		if first >= 0 {
			p.addf(p.lines[first].n, "unexpected text before the precedence line")
		}
		first = k
	}
	if first >= 0 {
		p.parseLine1(p.lines[first])
		start = first + 1
	} else {
		p.ps.Add("precedence", "no precedence line (O 221800Z FEB 46, or O alone in a draft) before the FM line")
	}
	if fm >= 0 {
		l := p.lines[fm]
		if addr := afterKeyword(l.s, "FM"); addr == "" {
			p.addf(l.n, "the FM line names no station")
		} else if code, _, ok := p.resolveAddress(addr); ok {
			p.fmStation = code
		} else {
			p.addf(l.n, "unknown address %q", addr)
		}
		start = fm + 1
	} else {
		p.ps.Add("station", "no FM line naming the originating station")
	}
	return p.parseAddressees(start)
}

func (p *parser) parseLine1(l line) {
	p.line1 = l.n
	f := strings.Fields(l.s)
	k := 0
	if k < len(f) && strings.EqualFold(f[k], "NIACT") {
		p.c.Handling = append(p.c.Handling, cable.NIACT)
		k++
	}
	if k >= len(f) {
		p.addf(l.n, "NIACT must be followed by the precedence: NIACT IMMEDIATE")
		return
	}
	prec, err := cable.ParsePrecedence(f[k])
	if err != nil {
		p.addf(l.n, "want the precedence (Z, O, P, R or FLASH, IMMEDIATE, PRIORITY, ROUTINE) and the date-time group, not %q", l.s)
		return
	}
	p.c.Precedence = prec
	p.line1OK = true
	k++
	// A second prosign is the precedence for information addressees, as
	// in "O R 221800Z FEB 76"; the cable has one precedence.
	if k < len(f) && len(f[k]) == 1 {
		if _, err := cable.ParsePrecedence(f[k]); err == nil {
			k++
		}
	}
	if k == len(f) {
		return
	}
	if k+3 > len(f) {
		p.addf(l.n, "malformed date-time group %q (want DDHHMMZ MON YY: 221800Z FEB 46)", strings.Join(f[k:], " "))
		return
	}
	t, err := cable.ParseDTG(f[k] + " " + f[k+1] + " " + f[k+2])
	if err != nil {
		p.addf(l.n, "%s", cable.ErrorMessage(err))
		return
	}
	if t.Year() < 1000 {
		p.addf(l.n, "date-time group year %d is before 1000", t.Year())
		return
	}
	p.c.DTG = t
	p.hasDTG = true
	for _, w := range f[k+3:] {
		if !reOpSignal.MatchString(w) {
			p.addf(l.n, "unexpected %q after the date-time group", w)
		}
	}
}

// parseAddressees reads TO, INFO and continuation lines from index i up
// to the opening BT.
func (p *parser) parseAddressees(i int) int {
	role := cable.Role("")
	xmt := false
	add := func(l line, addr string) {
		code, niact, ok := p.resolveAddress(addr)
		if !ok {
			p.addf(l.n, "unknown address %q", addr)
			return
		}
		if niact {
			p.c.Handling = append(p.c.Handling, cable.NIACT)
		}
		p.c.To = append(p.c.To, cable.Addressee{Station: code, Role: role})
	}
	for ; i < len(p.lines); i++ {
		l := p.lines[i]
		s := l.s
		switch {
		case s == "":
		case s == "BT":
			p.checkTo()
			return i + 1
		case isKeyword(s, "FM"):
			p.addf(l.n, "a second FM line")
		case isKeyword(s, "TO"):
			role, xmt = cable.RoleAction, false
			p.hasTo = true
			if a := afterKeyword(s, "TO"); a != "" {
				add(l, a)
			}
		case isKeyword(s, "INFO"):
			role, xmt = cable.RoleInfo, false
			p.hasTo = true
			if a := afterKeyword(s, "INFO"); a != "" {
				add(l, a)
			}
		case isKeyword(s, "XMT"):
			// XMT names stations a collective address is not sent to.
			xmt = true
		case xmt:
		default:
			if _, _, ok := p.resolveAddress(s); !ok {
				if _, isClass := parseClassLine(s); isClass {
					// No opening BT: the text begins here.
					p.checkTo()
					return i
				}
			}
			if role == "" {
				p.addf(l.n, "unexpected text before the TO line")
				continue
			}
			add(l, s)
		}
	}
	p.checkTo()
	p.ps.Add("classification", "no BT and classification line after the addressees")
	return i
}

func (p *parser) checkTo() {
	if !p.hasTo {
		p.ps.Add("to", "no TO line naming the action addressees")
	}
}

var reRoutingIndicator = regexp.MustCompile(`^R[A-Z0-9]{2,7}/`)

// resolveAddress maps an address as written in an FM, TO or INFO line to
// a station code. It accepts a routing indicator prefix (RUEHC/SECSTATE
// WASHDC) and a trailing precedence and number (IMMEDIATE 1234, 0567,
// NIACT IMMEDIATE 1234), which it reports through niact.
func (p *parser) resolveAddress(addr string) (code string, niact bool, ok bool) {
	addr = strings.TrimSpace(strings.TrimRight(addr, "."))
	if code, ok := p.lookup(addr); ok {
		return code, false, true
	}
	if loc := reRoutingIndicator.FindStringIndex(addr); loc != nil {
		addr = strings.TrimSpace(addr[loc[1]:])
		if code, ok := p.lookup(addr); ok {
			return code, false, true
		}
	}
	f := strings.Fields(addr)
	n := len(f)
	if n > 1 && allDigits(f[n-1]) && len(f[n-1]) <= 6 {
		n--
	}
	if n > 1 {
		if _, err := cable.ParsePrecedence(f[n-1]); err == nil && len(f[n-1]) > 1 {
			n--
			if n > 1 && strings.EqualFold(f[n-1], "NIACT") {
				n--
				niact = true
			}
		}
	}
	if n == len(f) {
		return "", false, false
	}
	code, ok = p.lookup(strings.Join(f[:n], " "))
	return code, niact && ok, ok
}

func (p *parser) lookup(addr string) (string, bool) {
	if addr == "" {
		return "", false
	}
	if p.form.Directory == nil {
		if cable.ValidStationCode(addr) {
			return addr, true
		}
		return "", false
	}
	st, err := p.form.Directory.StationByAddress(addr)
	if err != nil {
		return "", false
	}
	return st.Code, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// classLine is what a classification line holds.
type classLine struct {
	cls               cable.Classification
	section, sections int
	station           []string // the station's words, if any
	serial            string   // the serial as written, if any
	badSerial         bool
	captions          []cable.Caption
	handling          []cable.Handling
	problems          []string
}

var spacedBanners = map[string]cable.Classification{
	"UNCLAS":             cable.Unclassified,
	"UNCLASSIFIED":       cable.Unclassified,
	"UNCLASEFTO":         cable.Unclassified,
	"LIMITEDOFFICIALUSE": cable.LimitedOfficialUse,
	"CONFIDENTIAL":       cable.Confidential,
	"SECRET":             cable.Secret,
	"TOPSECRET":          cable.TopSecret,
}

// parseClassLine reads "S E C R E T SECTION 01 OF 05 MOSCOW 00511" and
// its variations. ok is false when the line does not begin with a
// classification.
func parseClassLine(s string) (cl classLine, ok bool) {
	f := strings.Fields(s)
	k := 0
	for k < len(f) && len(f[k]) == 1 {
		k++
	}
	switch {
	case k >= 2:
		cl.cls, ok = spacedBanners[strings.Join(f[:k], "")]
	case len(f) >= 3 && f[0] == "LIMITED" && f[1] == "OFFICIAL" && f[2] == "USE":
		cl.cls, ok, k = cable.LimitedOfficialUse, true, 3
	case len(f) >= 2 && f[0] == "TOP" && f[1] == "SECRET":
		cl.cls, ok, k = cable.TopSecret, true, 2
	case len(f) >= 1:
		switch f[0] {
		case "SECRET":
			cl.cls, ok = cable.Secret, true
		case "CONFIDENTIAL":
			cl.cls, ok = cable.Confidential, true
		case "UNCLASSIFIED", "UNCLAS":
			cl.cls, ok = cable.Unclassified, true
		}
		k = 1
	}
	if !ok {
		return classLine{}, false
	}
	rest := f[k:]
	// "UNCLAS E F T O": encrypted for transmission only.
	if cl.cls == cable.Unclassified {
		if len(rest) >= 1 && rest[0] == "EFTO" {
			rest = rest[1:]
		} else if len(rest) >= 4 && strings.Join(rest[:4], "") == "EFTO" {
			rest = rest[4:]
		}
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] != "SECTION" {
			continue
		}
		if i+3 < len(rest) && rest[i+2] == "OF" {
			a, errA := strconv.Atoi(rest[i+1])
			b, errB := strconv.Atoi(rest[i+3])
			if errA != nil || errB != nil || len(rest[i+1]) > 3 || len(rest[i+3]) > 3 || a < 1 || b < 1 || a > b {
				cl.problems = append(cl.problems, fmt.Sprintf("malformed %q (want SECTION 01 OF 05)", strings.Join(rest[i:i+4], " ")))
			} else {
				cl.section, cl.sections = a, b
			}
			rest = append(rest[:i:i], rest[i+4:]...)
		} else {
			cl.problems = append(cl.problems, "SECTION must be written SECTION nn OF nn")
			rest = append(rest[:i:i], rest[i+1:]...)
		}
		break
	}
	// Captions written after the serial, as some 1970s cables do.
	for len(rest) > 0 {
		w := rest[len(rest)-1]
		if c, h, ign := markingWord(w); c != "" || h != "" || ign {
			if c != "" {
				cl.captions = append(cl.captions, c)
			}
			if h != "" {
				cl.handling = append(cl.handling, h)
			}
			rest = rest[:len(rest)-1]
			continue
		}
		break
	}
	if n := len(rest); n > 0 && strings.IndexFunc(rest[n-1], unicode.IsDigit) >= 0 {
		cl.serial = rest[n-1]
		rest = rest[:n-1]
		if !allDigits(cl.serial) || len(cl.serial) < 4 || len(cl.serial) > 6 {
			cl.problems = append(cl.problems, fmt.Sprintf("serial %q must be written with four to six digits: 00511", cl.serial))
			cl.serial, cl.badSerial = "", true
		}
	}
	cl.station = rest
	return cl, true
}

// markingWord reads one word of a caption line: a caption, a handling
// instruction, or a marker the text form ignores (SIPDIS, SENSITIVE,
// NOCONTRACT).
func markingWord(w string) (cable.Caption, cable.Handling, bool) {
	switch strings.ToUpper(strings.TrimRight(w, "/.")) {
	case "NODIS":
		return cable.NODIS, "", false
	case "EXDIS":
		return cable.EXDIS, "", false
	case "LIMDIS":
		return cable.LIMDIS, "", false
	case "STADIS":
		return cable.STADIS, "", false
	case "NOFORN":
		return "", cable.NOFORN, false
	case "NIACT":
		return "", cable.NIACT, false
	case "SIPDIS", "SENSITIVE", "NOCONTRACT":
		return "", "", true
	}
	return "", "", false
}

// captionLine reads a line of captions and handling instructions,
// separated by spaces or commas. ok is false when the line does not begin
// with one; unknown lists words that are neither.
func captionLine(s string) (caps []cable.Caption, hs []cable.Handling, unknown []string, ok bool) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
	for i := 0; i < len(f); i++ {
		w := strings.ToUpper(strings.TrimRight(f[i], "/."))
		if w == "NO" && i+1 < len(f) && strings.ToUpper(strings.TrimRight(f[i+1], "/.")) == "PARAPHRASE" {
			hs = append(hs, cable.NoParaphraseNecessary)
			if i == 0 {
				ok = true
			}
			i++
			if i+1 < len(f) && strings.ToUpper(strings.TrimRight(f[i+1], "/.")) == "NECESSARY" {
				i++
			}
			continue
		}
		c, h, ign := markingWord(w)
		switch {
		case c != "":
			caps = append(caps, c)
		case h != "":
			hs = append(hs, h)
		case ign:
		default:
			if i == 0 {
				return nil, nil, nil, false
			}
			unknown = append(unknown, f[i])
			continue
		}
		if i == 0 {
			ok = true
		}
	}
	return caps, hs, unknown, ok
}

// parseClassification reads the classification line at or after index i.
func (p *parser) parseClassification(i int) int {
	for i < len(p.lines) && p.lines[i].s == "" {
		i++
	}
	if i >= len(p.lines) {
		p.ps.Add("classification", "no classification line (S E C R E T MOSCOW 00511)")
		return i
	}
	l := p.lines[i]
	cl, ok := parseClassLine(l.s)
	if !ok {
		p.ps.Add("classification", "no classification line (S E C R E T MOSCOW 00511) after BT")
		if headerStart(l.s) {
			return i
		}
		p.addf(l.n, "want the classification line (S E C R E T MOSCOW 00511, UNCLAS STATE 012345), not %q", l.s)
		return i + 1
	}
	p.classLine = l.n
	p.c.Classification = cl.cls
	p.c.Captions = append(p.c.Captions, cl.captions...)
	p.c.Handling = append(p.c.Handling, cl.handling...)
	for _, m := range cl.problems {
		p.addf(l.n, "%s", m)
	}
	p.section, p.sections = cl.section, cl.sections
	p.serialText = cl.serial
	p.badSerial = cl.badSerial
	if len(cl.station) > 0 {
		if code, ok := p.classStation(cl.station); ok {
			p.classCode = code
		} else {
			p.addf(l.n, "unknown station %q on the classification line", strings.Join(cl.station, " "))
		}
	}
	return i + 1
}

func (p *parser) classStation(words []string) (string, bool) {
	if len(words) == 1 {
		if p.form.Directory == nil {
			return words[0], cable.ValidStationCode(words[0])
		}
		if st, err := p.form.Directory.Station(words[0]); err == nil {
			return st.Code, true
		}
	}
	return p.lookup(strings.Join(words, " "))
}

// headerStart reports whether s begins the part of the text after the
// classification line: a header keyword, a caption line or a paragraph.
func headerStart(s string) bool {
	if kind, _ := headerKeyword(s); kind != fieldNone {
		return true
	}
	if _, _, _, ok := captionLine(s); ok {
		return true
	}
	if _, _, _, ok := numberedStart(s); ok {
		return true
	}
	_, _, ok := markStart(s)
	return ok
}

// findEnd returns the index of the closing BT at or after i, or the end
// of the text when there is none, and checks what follows it.
func (p *parser) findEnd(i int) int {
	end := -1
	for k := len(p.lines) - 1; k >= i; k-- {
		if p.lines[k].s == "BT" {
			end = k
			break
		}
	}
	if end >= 0 {
		for _, l := range p.lines[end+1:] {
			if l.s != "" && !reTrailer.MatchString(l.s) {
				p.addf(l.n, "unexpected text after the closing BT")
			}
		}
		return end
	}
	end = len(p.lines)
	for end > i && (p.lines[end-1].s == "" || reTrailer.MatchString(p.lines[end-1].s)) {
		end--
	}
	return end
}

// Header fields.
const (
	fieldNone = iota
	fieldEO
	fieldTags
	fieldSubject
	fieldRef
	fieldAuthority
)

var fieldNames = map[int]string{
	fieldEO:        "E.O.",
	fieldTags:      "TAGS",
	fieldSubject:   "SUBJECT",
	fieldRef:       "REF",
	fieldAuthority: "CLASSIFIED BY",
}

var (
	reEO         = regexp.MustCompile(`(?i)^E\.?\s?O\.?\s*(\d{4,6})\b\s*[:.,;]?\s*(.*)$`)
	reTags       = regexp.MustCompile(`(?i)^TAGS?\s*:\s*(.*)$`)
	reSubject    = regexp.MustCompile(`(?i)^SUBJ(?:ECT)?\s*[:.]\s*(.*)$`)
	reRef        = regexp.MustCompile(`(?i)^REFS?\s*:\s*(.*)$`)
	reRefLabel   = regexp.MustCompile(`^(?i:REFS?)\s+(?:\(([A-Z])\)|([A-Z])\s*[.:)/])\s*:?\s*(.*)$`)
	reAuthority  = regexp.MustCompile(`(?i)^CLASSIFIED\s+BY\b\s*:?\s*(.*)$`)
	reNA         = regexp.MustCompile(`(?i)^N/?A\.?$`)
	reDecl       = regexp.MustCompile(`(?i)^DECL\b\s*[:.]?\s*(.*)$`)
	rePassing    = regexp.MustCompile(`^(?:PASS\s+TO\s|FOR\s|\S+(?:\s+\S+){0,2}\s+(?:FOR|PASS\s+TO)\s)`)
	reReasonWord = regexp.MustCompile(`(?i)\breasons?\s*:?$`)
	reReasonAny  = regexp.MustCompile(`(?i)\breasons?\b`)
)

// headerKeyword reports which header field line s begins, and the rest
// of the line.
func headerKeyword(s string) (field int, rest string) {
	if len(s) < 3 {
		return fieldNone, ""
	}
	switch unicode.ToUpper(rune(s[0])) {
	case 'E':
		if m := reEO.FindStringSubmatch(s); m != nil {
			return fieldEO, m[1] + "\x00" + m[2]
		}
	case 'T':
		if m := reTags.FindStringSubmatch(s); m != nil {
			return fieldTags, m[1]
		}
	case 'S':
		if m := reSubject.FindStringSubmatch(s); m != nil {
			return fieldSubject, m[1]
		}
	case 'R':
		if m := reRef.FindStringSubmatch(s); m != nil {
			return fieldRef, m[1]
		}
		if m := reRefLabel.FindStringSubmatch(s); m != nil {
			return fieldRef, m[1] + m[2] + ". " + m[3]
		}
	case 'C':
		if m := reAuthority.FindStringSubmatch(s); m != nil {
			return fieldAuthority, m[1]
		}
	}
	return fieldNone, ""
}

// headerField is one field of the header with its continuation lines.
type headerField struct {
	line  int
	parts []string
}

func (h *headerField) value() string { return strings.Join(h.parts, " ") }

// parseHeader reads captions, handling, the E.O. line, TAGS, SUBJECT,
// REF and the authority line, from index i, and returns the index where
// the paragraphs begin.
func (p *parser) parseHeader(i, end int) int {
	fields := map[int]*headerField{}
	var refs []*headerField
	cur := (*headerField)(nil)
	curKind := fieldNone
	main := false // E.O., TAGS or SUBJECT seen: no passing instructions after them
	for ; i < end; i++ {
		l := p.lines[i]
		s := l.s
		if s == "" {
			cur, curKind = nil, fieldNone
			continue
		}
		if _, _, _, ok := numberedStart(s); ok {
			break
		}
		if curKind == fieldRef && isRefLabel(firstWord(s)) {
			cur.parts = append(cur.parts, s)
			continue
		}
		if _, _, ok := markStart(s); ok {
			break
		}
		if kind, rest := headerKeyword(s); kind != fieldNone {
			h := &headerField{line: l.n, parts: []string{rest}}
			if kind == fieldRef {
				refs = append(refs, h)
			} else if prev, dup := fields[kind]; dup {
				p.addf(l.n, "a second %s line (the first is line %d)", fieldNames[kind], prev.line)
			} else {
				fields[kind] = h
			}
			cur, curKind = h, kind
			if kind != fieldAuthority && kind != fieldRef {
				main = true
			}
			continue
		}
		if cur != nil {
			cur.parts = append(cur.parts, s)
			continue
		}
		if caps, hs, unknown, ok := captionLine(s); ok {
			p.c.Captions = append(p.c.Captions, caps...)
			p.c.Handling = append(p.c.Handling, hs...)
			for _, w := range unknown {
				p.addf(l.n, "unknown caption or handling instruction %q (want NODIS, EXDIS, LIMDIS, STADIS, NOFORN, NIACT, NO PARAPHRASE NECESSARY)", w)
			}
			continue
		}
		if !main && rePassing.MatchString(s) {
			// A passing instruction ("DEPT FOR EUR/RUS"): the domain has no field for it.
			continue
		}
		break
	}

	if h := fields[fieldEO]; h != nil {
		p.parseEO(h)
	}
	if h := fields[fieldTags]; h != nil {
		p.c.Tags = splitTags(h.value())
	}
	if h := fields[fieldSubject]; h != nil {
		p.c.Subject = h.value()
	}
	for _, h := range refs {
		for _, t := range splitRefs(h.value()) {
			p.c.References = append(p.c.References, cable.Reference{Text: t})
		}
	}
	if h := fields[fieldAuthority]; h != nil {
		a := p.authority()
		a.ClassifiedBy, a.Reason = splitAuthority(h.value())
		if letters, err := cable.ParseReason(a.Reason); err == nil {
			a.Reason = cable.FormatReason(letters)
		}
	}
	return i
}

func (p *parser) authority() *cable.Authority {
	if p.c.Authority == nil {
		p.c.Authority = &cable.Authority{}
	}
	return p.c.Authority
}

// parseEO reads "E.O. 13526: DECL: 02/22/1971", "E.O. 13526: N/A" and
// the older orders' forms ("E.O. 11652: GDS").
func (p *parser) parseEO(h *headerField) {
	order, rest, _ := strings.Cut(h.value(), "\x00")
	a := p.authority()
	a.Order = order
	rest = strings.TrimSpace(rest)
	if reNA.MatchString(rest) {
		return
	}
	if m := reDecl.FindStringSubmatch(rest); m != nil {
		rest = m[1]
	}
	d, err := cable.ParseDeclassifyOn(rest)
	if err != nil {
		p.addf(h.line, "%s", cable.ErrorMessage(err))
		return
	}
	a.DeclassifyOn = d
}

func firstWord(s string) string {
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return s[:i]
	}
	return s
}

// isRefLabel reports whether w is the letter of a reference in a list:
// A. B) (C) D/ E: and the doubled letters AA. BB. of long lists.
func isRefLabel(w string) bool {
	if len(w) >= 3 && w[0] == '(' && w[len(w)-1] == ')' {
		return sameLetters(w[1 : len(w)-1])
	}
	if len(w) >= 2 && strings.IndexByte(".):/", w[len(w)-1]) >= 0 {
		return sameLetters(w[:len(w)-1])
	}
	return false
}

func sameLetters(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' || s[i] != s[0] {
			return false
		}
	}
	return true
}

// splitRefs cuts a REF field into references: a lettered list ("A.
// STATE 284 B. MOSCOW 500", "(A) ... (B) ..."), or references separated
// by semicolons or commas, or one reference.
func splitRefs(v string) []string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return nil
	}
	var out []string
	add := func(s string) {
		s = strings.TrimRight(strings.TrimSpace(s), ".,;: ")
		if s != "" {
			out = append(out, s)
		}
	}
	if isRefLabel(f[0]) {
		start := 1
		for k := 1; k <= len(f); k++ {
			if k == len(f) || isRefLabel(f[k]) {
				add(strings.Join(f[start:k], " "))
				start = k + 1
			}
		}
		return out
	}
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
		add(part)
	}
	return out
}

// splitTags cuts a TAGS field: at commas, or at spaces when the field
// has no comma and every word is a subject tag (TAGS: PREL PGOV RS).
func splitTags(v string) []string {
	var out []string
	if !strings.Contains(v, ",") {
		f := strings.Fields(v)
		words := true
		for _, w := range f {
			if !isWordTag(w) {
				words = false
				break
			}
		}
		if words {
			return f
		}
		if t := strings.TrimSpace(v); t != "" {
			return []string{t}
		}
		return nil
	}
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func isWordTag(w string) bool {
	if len(w) < 2 || len(w) > 12 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// splitAuthority cuts the authority line after "CLASSIFIED BY:" into who
// classified and the reason, in every form found: "NAME, TITLE. REASON:
// 1.4 (B) AND (D)", "Name. Reason 1.4 (b) and (d).", "Name for reasons
// 1.4 (b) and (d)", "Name: 1.4 (b, d).".
func splitAuthority(v string) (by, reason string) {
	v = strings.TrimSpace(v)
	at := -1
	for k := len(v) - 3; k >= 0; k-- {
		if v[k] == '1' && v[k+1] == '.' && v[k+2] >= '0' && v[k+2] <= '9' &&
			(k == 0 || !isAlnum(v[k-1]) && v[k-1] != '.') {
			at = k
			break
		}
	}
	prefix := ""
	switch {
	case at >= 0:
		prefix, reason = v[:at], v[at:]
	default:
		locs := reReasonAny.FindAllStringIndex(v, -1)
		if locs == nil {
			return v, ""
		}
		last := locs[len(locs)-1]
		prefix, reason = v[:last[1]], strings.TrimLeft(v[last[1]:], ": ")
	}
	reason = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(reason), "."))
	t := strings.TrimSpace(prefix)
	if m := reReasonWord.FindStringIndex(t); m != nil {
		t = strings.TrimSpace(t[:m[0]])
		if lt := strings.ToLower(t); lt == "for" || strings.HasSuffix(lt, " for") {
			t = strings.TrimSpace(t[:len(t)-3])
		}
	}
	if t != "" && strings.IndexByte(".,;:", t[len(t)-1]) >= 0 {
		t = strings.TrimSpace(t[:len(t)-1])
	}
	return t, reason
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

var portionMarks = map[string]cable.Classification{
	"U": cable.Unclassified, "SBU": cable.LimitedOfficialUse, "LOU": cable.LimitedOfficialUse,
	"C": cable.Confidential, "S": cable.Secret, "TS": cable.TopSecret,
}

// mark reads a portion mark "(S)" at the start of s and returns it with
// the text after it.
func mark(s string) (cable.Classification, string, bool) {
	if len(s) < 3 || s[0] != '(' {
		return 0, "", false
	}
	j := strings.IndexByte(s, ')')
	if j < 0 || j > 5 {
		return 0, "", false
	}
	c, ok := portionMarks[s[1:j]]
	if !ok {
		return 0, "", false
	}
	return c, strings.TrimSpace(s[j+1:]), true
}

// numberedStart reads the start of a numbered paragraph: "12. (S) text",
// "12.(S) text" or, unmarked, "12. text".
func numberedStart(s string) (num int, cls cable.Classification, rest string, ok bool) {
	d := 0
	for d < len(s) && d < 5 && s[d] >= '0' && s[d] <= '9' {
		d++
	}
	if d == 0 || d > 4 || d >= len(s) || s[d] != '.' {
		return 0, 0, "", false
	}
	num, _ = strconv.Atoi(s[:d])
	after := s[d+1:]
	if after != "" {
		if r, _ := utf8.DecodeRuneInString(after); r != '(' && !unicode.IsSpace(r) {
			return 0, 0, "", false
		}
	}
	after = strings.TrimSpace(after)
	if c, text, ok := mark(after); ok {
		return num, c, text, true
	}
	return num, 0, after, true
}

// markStart reads the start of an unnumbered paragraph with a portion
// mark: "(SBU) text".
func markStart(s string) (cable.Classification, string, bool) {
	c, rest, ok := mark(s)
	if !ok {
		return 0, "", false
	}
	j := strings.IndexByte(s, ')')
	if j+1 < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j+1:]); !unicode.IsSpace(r) {
			return 0, "", false
		}
	}
	return c, rest, true
}

// Paragraph numbering styles, settled by the first paragraph.
const (
	styleNone = iota
	styleNumbered
	styleMarked // unnumbered, each paragraph begins with its portion mark
	stylePlain  // unnumbered and unmarked: every block is a paragraph
)

// parseBody reads the paragraphs and the signature between index i and end.
func (p *parser) parseBody(i, end int) {
	// The signature is the last block of the text when it is one line
	// and other blocks come before it.
	for end > i && p.lines[end-1].s == "" {
		end--
	}
	if end-1 > i && p.lines[end-2].s == "" {
		k := end - 2
		for k >= i && p.lines[k].s == "" {
			k--
		}
		if k >= i {
			p.c.Signature = p.lines[end-1].s
			end--
		}
	}

	// Unmarked paragraphs take the cable's classification: (U) in an
	// UNCLASSIFIED cable, the banner's level otherwise.
	unmarkedAs := p.c.Classification
	style := styleNone
	var text strings.Builder
	flush := func() {
		if n := len(p.c.Paragraphs); n > 0 {
			p.c.Paragraphs[n-1].Text = text.String()
			text.Reset()
		}
	}
	var unmarked []int // line numbers of unmarked paragraphs
	marked := 0
	for k := i; k < end; {
		if p.lines[k].s == "" {
			k++
			continue
		}
		first := p.lines[k]
		num, cls, rest, isNumbered := numberedStart(first.s)
		lastNum := 0
		if n := len(p.c.Paragraphs); n > 0 {
			lastNum = p.c.Paragraphs[n-1].Number
		}
		newPara := true
		switch {
		case isNumbered && (cls != 0 || len(p.c.Paragraphs) == 0 || num == lastNum+1):
			style = styleNumbered
		default:
			if c, t, ok := markStart(first.s); ok && (style == styleNone || style == styleMarked) {
				style = styleMarked
				num, cls, rest = len(p.c.Paragraphs)+1, c, t
			} else if style == styleNone || style == stylePlain {
				style = stylePlain
				num, cls, rest = len(p.c.Paragraphs)+1, 0, first.s
			} else {
				newPara = false
			}
		}
		if newPara {
			flush()
			if cls == 0 {
				cls = unmarkedAs
				if len(unmarked) < maxProblems {
					unmarked = append(unmarked, first.n)
				}
			} else {
				marked++
			}
			p.c.Paragraphs = append(p.c.Paragraphs, cable.Paragraph{Number: num, Classification: cls})
			text.WriteString(rest)
		} else {
			// A block that begins no paragraph continues the one before:
			// subparagraphs, lists, tables.
			text.WriteByte('\n')
			text.WriteString(first.s)
		}
		for k++; k < end && p.lines[k].s != ""; k++ {
			text.WriteByte('\n')
			text.WriteString(p.lines[k].s)
		}
	}
	flush()
	if marked > 0 {
		for _, n := range unmarked {
			p.addf(n, "paragraph has no portion mark ((U), (SBU), (C), (S) or (TS)) while the others have one")
		}
	}
}

// finish checks what needs the whole text: the origin, and the serial and
// date-time group of a released cable (and their absence in a draft).
func (p *parser) finish() {
	c := p.c
	c.Station = p.fmStation
	if c.Station == "" {
		c.Station = p.classCode
	} else if p.classCode != "" && p.classCode != c.Station {
		p.addf(p.classLine, "the classification line names %s but the FM line %s", p.classCode, c.Station)
	}
	if p.serialText != "" {
		c.Serial, _ = strconv.Atoi(p.serialText)
		if c.Serial == 0 {
			p.addf(p.classLine, "serial 0 is not a telegram number")
		}
	}
	if p.draft {
		if p.hasDTG {
			p.addf(p.line1, "a draft has no date-time group; release assigns it (write the precedence alone: IMMEDIATE)")
			c.DTG = time.Time{}
		}
		if p.serialText != "" {
			p.addf(p.classLine, "a draft has no serial; release assigns it")
			c.Serial = 0
		}
		return
	}
	if p.line1OK && !p.hasDTG {
		p.addf(p.line1, "a released cable has the date-time group after the precedence: O 221800Z FEB 46")
	}
	if p.classLine != 0 && p.serialText == "" && !p.badSerial {
		p.addf(p.classLine, "a released cable has station and serial on the classification line: S E C R E T MOSCOW 00511")
	}
	if p.hasDTG && c.Serial > 0 && c.Station != "" {
		c.ID = cable.Identifier(c.DTG.Year(), c.Station, c.Serial)
	}
}

// sortProblems puts the problems of missing parts first, then the
// problems of lines in line order.
func sortProblems(ps cable.Problems) {
	key := func(p cable.Problem) int {
		n, err := strconv.Atoi(strings.TrimPrefix(p.Field, "line "))
		if err != nil || !strings.HasPrefix(p.Field, "line ") {
			return 0
		}
		return n
	}
	slices.SortStableFunc(ps, func(a, b cable.Problem) int { return key(a) - key(b) })
}
