// Package transcript rebuilds a cable from the page-by-page transcript of
// a scanned telegram, as a digital archive gives it: the telegram form's
// header (DEPARTMENT OF STATE / INCOMING TELEGRAM, control number, "Moscow
// via War", "Dated ...", "Rec'd ...", ACTION and INFO offices, handling,
// addressee, "511, February 22, 9 p.m."), then the pages with their
// furniture: page headers, classification banners, declassification
// stamps, repeated routing slips, CORRECTED PAGE notes, clerks' marks and
// catchwords.
//
// Parse finds the first telegram form in the text, reads its header into
// the cable's fields (the date-time group in UTC from the local time of
// the sending station on that date, by the IANA time zone database's
// historical rules; the time of receipt in Washington time likewise),
// takes the furniture out of the pages while keeping the stamps as data,
// rejoins the paragraphs split by page breaks and stops at the end of the
// first transcript (the signature, then a second copy or the end of the
// text). See docs/importers.md for the rules and how they were measured.
package transcript

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// Result is a telegram rebuilt from its transcript: the cable, and what
// the pages showed beside it.
type Result struct {
	// Cable holds the telegram's fields. Its precedence is ROUTINE unless
	// the form writes one (telegrams of the 1940s rarely do); its subject
	// is empty, as the telegrams of the 1940s had none.
	Cable *cable.Cable
	// Form is the kind of telegram form.
	Form Form
	// Via is the relay the telegram came over ("WAR" for "Moscow via War").
	Via string
	// Pages is the number of pages of the transcript.
	Pages int
	// Declassification lists the declassification stamps, in page order.
	Declassification []Stamp
	// Garbles counts the transcriber's marks for garbled groups, "(*)",
	// which are kept in the text.
	Garbles int
	// Marking is the classification as the telegram writes it, when it is
	// not a word of the domain ("RESTRICTED" is filed as CONFIDENTIAL).
	Marking string
	// FileCode is the decimal file number the archive's citation gives
	// ("861.00/2-2246"), when the text holds one above the form.
	FileCode string
	// Title is the archive's title of the document, when the text holds
	// one above the form. It is not the cable's subject.
	Title string
	// Catchwords are the words at the foot of a page repeated at the head
	// of the next, taken out.
	Catchwords []string
	// Marks are the clerks' marks, stray initials and illegible lines taken out.
	Marks []string
	// Warnings name what could not be read and what was assumed.
	Warnings []string
	// FirstLine and LastLine delimit the transcript read, as 1-based line
	// numbers of the input.
	FirstLine, LastLine int
}

// MarshalJSON writes the cable's JSON (the field names of DESIGN.md) with
// the transcript's own fields beside them: via, pages, declassification,
// garbles, form, marking, file_code, title, catchwords, marks, warnings
// and source_lines.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.Cable == nil {
		return nil, fmt.Errorf("transcript: result without a cable")
	}
	cb, err := json.Marshal(r.Cable)
	if err != nil {
		return nil, fmt.Errorf("transcript: marshal cable: %w", err)
	}
	extra := struct {
		Via              string   `json:"via,omitempty"`
		Pages            int      `json:"pages"`
		Declassification []Stamp  `json:"declassification"`
		Garbles          int      `json:"garbles"`
		Form             Form     `json:"form"`
		Marking          string   `json:"marking,omitempty"`
		FileCode         string   `json:"file_code,omitempty"`
		Title            string   `json:"title,omitempty"`
		Catchwords       []string `json:"catchwords,omitempty"`
		Marks            []string `json:"marks,omitempty"`
		Warnings         []string `json:"warnings,omitempty"`
		SourceLines      [2]int   `json:"source_lines"`
	}{r.Via, r.Pages, r.Declassification, r.Garbles, r.Form, r.Marking, r.FileCode, r.Title,
		r.Catchwords, r.Marks, r.Warnings, [2]int{r.FirstLine, r.LastLine}}
	if extra.Declassification == nil {
		extra.Declassification = []Stamp{}
	}
	eb, err := json.Marshal(extra)
	if err != nil {
		return nil, fmt.Errorf("transcript: marshal result: %w", err)
	}
	out := make([]byte, 0, len(cb)+len(eb))
	out = append(out, cb[:len(cb)-1]...)
	out = append(out, ',')
	return append(out, eb[1:]...), nil
}

// Parser rebuilds telegrams from transcripts. The zero value uses the
// built-in gazetteer.
type Parser struct {
	// Gazetteer maps place names to stations and time zones;
	// DefaultGazetteer() when nil.
	Gazetteer *Gazetteer
	// Now is the present, used to tell a legible review date from a
	// misread one; time.Now when nil.
	Now func() time.Time
}

// Parse rebuilds the first telegram of a transcript with the built-in
// gazetteer. See Parser.Parse.
func Parse(text []byte) (*Result, error) {
	var p Parser
	return p.Parse(text)
}

// Parse rebuilds the first telegram of a transcript. It returns an
// EINVALID error naming every problem when the text holds no telegram
// form or a field the cable cannot do without (origin, number, date and
// time of sending, text) cannot be read; what it can read but had to
// assume is listed in the result's Warnings.
func (p *Parser) Parse(text []byte) (*Result, error) {
	g := p.Gazetteer
	if g == nil {
		g = DefaultGazetteer()
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	ls := splitLines(text)
	start, form, ok := findForm(ls, g)
	if !ok {
		return nil, cable.Invalid("cannot import the transcript", []cable.Problem{{
			Field:   "form",
			Message: `no telegram found: no DEPARTMENT OF STATE / INCOMING TELEGRAM (or OUTGOING TELEGRAM, TELEGRAM SENT) heading and no line giving the telegram's number, date and time ("511, February 22, 9 p.m.")`,
		}})
	}
	h, ok := parseHeader(ls, start, form, g)
	if !ok {
		return nil, cable.Invalid("cannot import the transcript", []cable.Problem{{
			Field:   "serial",
			Message: fmt.Sprintf(`the telegram form at line %d has no line giving the telegram's number, date and time of sending ("511, February 22, 9 p.m.")`, ls[start].n),
		}})
	}
	end := findEnd(ls, h, g)
	items := classify(ls[h.end:end])
	assignRoles(items)
	b := rebuild(items)

	r := &Result{Form: h.form, Pages: b.pages, Catchwords: b.catchwords, FirstLine: ls[start].n}
	r.LastLine = r.FirstLine
	for i := end - 1; i >= start; i-- {
		if ls[i].raw != "" {
			r.LastLine = ls[i].n
			break
		}
	}
	r.Marks = append(append(r.Marks, h.marks...), b.marks...)
	r.Title, r.FileCode = preamble(ls[:start], g)

	var ps cable.Problems
	c := &cable.Cable{}
	r.Cable = c

	// Direction, origin and addressee.
	addr := ""
	addrVia := ""
	if len(h.addressee) > 0 {
		a := strings.Join(h.addressee, " ")
		if before, after, ok := cutFold(a, " via "); ok {
			a, addrVia = before, after
		}
		if st, ok := lookupAddressee(g, a); ok {
			addr = st.Code
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("addressee %q is not in the gazetteer", a))
		}
	}
	outgoing := h.form == FormOutgoing || (h.form == FormPlain && addr != "" && addr != "STATE")
	if outgoing {
		r.Form = FormOutgoing
	}
	place, via := h.place, h.via
	if place == "" && !outgoing {
		place, via = b.pageFrom, b.pageVia
	}
	if place == "" && outgoing {
		place = "Washington"
	}
	if via == "" {
		via = addrVia
	}
	var origin *cable.Station
	if place == "" {
		ps.Add("station", "the form names no place of origin (a line such as \"Moscow via War\")")
	} else if st, ok := g.Lookup(place); ok {
		origin = st
		c.Station = st.Code
	} else {
		ps.Add("station", "place of origin %q is not in the gazetteer; add it with its station code and IANA time zone", place)
	}
	if via != "" {
		if st, ok := g.Lookup(via); ok {
			r.Via = st.Code
		} else {
			r.Via = strings.ToUpper(strings.Join(strings.Fields(placeKey(via)), ""))
			r.Warnings = append(r.Warnings, fmt.Sprintf("relay %q is not in the gazetteer", via))
		}
	}
	if addr == "" && !outgoing {
		addr = "STATE"
		if len(h.addressee) == 0 {
			r.Warnings = append(r.Warnings, "no addressee written; an incoming telegram is addressed to STATE")
		}
	}
	if addr != "" {
		c.To = []cable.Addressee{{Station: addr, Role: cable.RoleAction}}
	} else {
		ps.Add("to", "the addressee %q is not in the gazetteer", strings.Join(h.addressee, " "))
	}

	// Number, date and time of sending.
	c.Serial = h.serial
	sent := h.sent
	if sent.month == 0 {
		sent = h.dated
	}
	year := sent.year
	if year == 0 {
		year = h.dated.year
		if year != 0 && h.dated.month == time.January && sent.month == time.December {
			year--
		}
	}
	if year == 0 {
		year = preambleYear(ls[:start])
	}
	switch {
	case sent.month == 0:
		ps.Add("dtg", "no date of sending")
	case year == 0:
		ps.Add("dtg", "no year: the form has no \"Dated ...\" line")
	case !h.hasClock:
		ps.Add("dtg", "no time of sending")
	case origin != nil:
		c.DTG = h.sentClock.at(year, sent.month, sent.day, origin.Location()).UTC()
	}
	if !c.DTG.IsZero() && c.Station != "" {
		c.ID = cable.Identifier(c.DTG.Year(), c.Station, c.Serial)
	}

	// Markings.
	c.Classification, r.Marking = h.class, h.marking
	if b.class > c.Classification {
		c.Classification, r.Marking = b.class, b.marking
	}
	if c.Classification == 0 {
		c.Classification = cable.Unclassified
		r.Warnings = append(r.Warnings, "no classification marked; filed as UNCLASSIFIED")
	}
	if r.Marking == c.Classification.String() {
		r.Marking = ""
	}
	c.Precedence = h.precedence
	if c.Precedence == 0 {
		c.Precedence = cable.Routine
	}
	if len(h.handling) > 0 {
		c.Handling = cable.SortHandling(h.handling)
	}
	if r.FileCode != "" {
		tag, _, _ := strings.Cut(r.FileCode, "/")
		c.Tags = []string{strings.ToUpper(tag)}
	}

	// Receipt and distribution.
	if !outgoing {
		// A receipt is recorded when the form shows one: a time of receipt
		// or a control number. Its time is zero when it is not legible.
		if h.received != "" || h.control != "" {
			c.Received = &cable.Receipt{Station: addr, ControlNumber: h.control}
		}
		if h.received == "" {
			r.Warnings = append(r.Warnings, "no time of receipt")
		} else if at, ok := receivedAt(h.received, c.DTG, year, g, addr); ok {
			c.Received.At = at
		} else {
			r.Warnings = append(r.Warnings, fmt.Sprintf("time of receipt %q is not legible", h.received))
		}
		if h.control == "" {
			r.Warnings = append(r.Warnings, "no control number")
		}
		if h.action != "" || len(h.info) > 0 {
			c.Distribution = &cable.Distribution{Action: h.action, Info: append([]string{}, h.info...)}
		}
	}

	// Text.
	for i, t := range b.paragraphs {
		r.Garbles += len(garbleRE.FindAllStringIndex(t, -1))
		t = garbleStarRE.ReplaceAllString(t, "(*)")
		c.Paragraphs = append(c.Paragraphs, cable.Paragraph{Number: i + 1, Classification: c.Classification, Text: t})
	}
	if len(c.Paragraphs) == 0 {
		ps.Add("paragraphs", "no text after the telegram's header")
	}
	c.Signature = b.signature
	if c.Signature == "" {
		r.Warnings = append(r.Warnings, "no signature found")
	}
	var all strings.Builder
	for _, p := range c.Paragraphs {
		all.WriteString(p.Text)
		all.WriteByte('\n')
	}
	c.References = References(all.String(), c.Station, addr)
	cable.Normalize(c)

	nowT := now()
	for i := range b.stamps {
		b.stamps[i].settle(c.DTG, nowT)
	}
	r.Declassification = b.stamps
	// On failure the partial result goes back with the error, for an
	// archivist to see what was read.
	if err := ps.Err("cannot import the transcript"); err != nil {
		return r, err
	}
	return r, nil
}

// lookupAddressee finds the station an addressee names: the whole
// ("AmEmbassy, London"), or its parts in order ("Secretary of State,"
// then "Washington.").
func lookupAddressee(g *Gazetteer, a string) (*cable.Station, bool) {
	if st, ok := g.Lookup(a); ok {
		return st, true
	}
	for _, part := range strings.Split(a, ",") {
		if st, ok := g.Lookup(part); ok {
			return st, true
		}
	}
	return nil, false
}

func cutFold(s, sep string) (string, string, bool) {
	i := strings.Index(strings.ToLower(s), strings.ToLower(sep))
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// receivedAt reads the time of receipt at the receiving station. A time
// without a date is on the day the telegram was sent, as that day was in
// the receiving station's time; if that is before the telegram was sent,
// it is the next day.
func receivedAt(s string, sent time.Time, year int, g *Gazetteer, receiver string) (time.Time, bool) {
	st, ok := g.Lookup(receiver)
	if !ok {
		st, _ = g.Lookup("STATE")
	}
	loc := time.UTC
	if st != nil {
		loc = st.Location()
	}
	s = strings.TrimSpace(s)
	if d, c, ok := parseDateClock(s); ok {
		y := d.year
		if y == 0 {
			y = year
			if !sent.IsZero() && d.month == time.January && sent.In(loc).Month() == time.December {
				y++
			}
		}
		return c.at(y, d.month, d.day, loc), y != 0
	}
	c, ok := parseClock(s)
	if !ok || sent.IsZero() {
		return time.Time{}, false
	}
	local := sent.In(loc)
	at := c.at(local.Year(), local.Month(), local.Day(), loc)
	if at.Before(local) {
		at = c.at(local.Year(), local.Month(), local.Day()+1, loc)
	}
	return at, true
}

// findEnd returns the index of the line after the first transcript: the
// start of a second copy of the telegram (another form with its own
// header, or the serial line again), or the end of the text.
func findEnd(ls []line, h *header, g *Gazetteer) int {
	for i := h.end; i < len(ls); i++ {
		t := ls[i].text
		if formTitleRE.MatchString(t) && confirmsForm(ls, i+1) {
			start := i
			for j, seen := i-1, 0; j >= h.end && seen < 3; j-- {
				if ls[j].text == "" {
					continue
				}
				seen++
				if departmentRE.MatchString(ls[j].text) {
					start = j
					break
				}
			}
			return start
		}
		if n, _, _, ok := serialLine(t); ok && n == h.serial {
			return backOverHeader(ls, i, h.end, g)
		}
	}
	return len(ls)
}

// confirmsForm reports whether the lines from i hold a form's header (a
// "Dated" or "Rec'd" line or a serial line) before any prose: a routing
// slip repeated on a page has a form title but no header.
func confirmsForm(ls []line, i int) bool {
	for j := i; j < len(ls) && j < i+40; j++ {
		t := ls[j].text
		if len(t) > 100 || formTitleRE.MatchString(t) {
			return false
		}
		if datedRE.MatchString(t) || receivedRE.MatchString(t) {
			return true
		}
		if _, _, _, ok := serialLine(t); ok {
			return true
		}
	}
	return false
}

var (
	fileCodeRE = regexp.MustCompile(`\b(\d{3}(?:\.[0-9A-Za-z]+)?(?:\s[A-Z][A-Za-z]+)?)/(\d{1,2}[-–]\d{3,6})\b`)
	yearRE     = regexp.MustCompile(`\b(1[89]\d\d)\b`)
)

// preamble reads what an archive page shows above the transcript: its
// title (the first line that is neither a date nor a label) and the
// decimal file number of its citation.
func preamble(ls []line, g *Gazetteer) (title, fileCode string) {
	for _, l := range ls {
		t := l.text
		if fileCode == "" {
			if m := fileCodeRE.FindStringSubmatch(t); m != nil {
				fileCode = m[1] + "/" + strings.ReplaceAll(m[2], "–", "-")
			}
		}
		if title != "" || t == "" || strings.HasSuffix(t, ":") || len(t) > 200 {
			continue
		}
		if _, ok := parseDate(t); ok {
			continue
		}
		if headerish(t, g) {
			continue
		}
		title = t
	}
	return title, fileCode
}

// preambleYear returns the first year written above the form: an archive
// page dates its document there.
func preambleYear(ls []line) int {
	for _, l := range ls {
		if d, ok := parseDate(l.text); ok && d.year != 0 {
			return d.year
		}
	}
	for _, l := range ls {
		if m := yearRE.FindStringSubmatch(l.text); m != nil {
			var y int
			fmt.Sscanf(m[1], "%d", &y)
			return y
		}
	}
	return 0
}
