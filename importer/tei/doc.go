package tei

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// docState gathers a document's parts while its tree is walked.
type docState struct {
	d        *Document
	page     *string
	para     int // the paragraph being written; 0 in head, source note, opener
	head     *node
	headTo   string
	headFrom string
	source   string
	markings []string
	place    string
	when     string
	signed   []string
	pageSeen map[string]bool
}

// textBuf builds the text of an element: XML white space becomes one
// space, line breaks inside a paragraph are kept as '\n'.
type textBuf struct {
	b          []byte
	join       bool // a page or line break inside a word: no space next
	glossEnd   bool
	afterLabel bool // the line holds only a list item's label so far
}

func (tb *textBuf) writeText(s string) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	if tb.join {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return
		}
		tb.join = false
	}
	if s == "" {
		return
	}
	if strings.TrimSpace(s) != "" {
		tb.afterLabel = false
	}
	if tb.glossEnd {
		// An abbreviation glossed by the editors and glued to a number:
		// "<gloss>Deptel</gloss>84" is "Deptel 84" in print.
		if len(tb.b) > 0 && isLetter(tb.b[len(tb.b)-1]) && s[0] >= '0' && s[0] <= '9' {
			tb.b = append(tb.b, ' ')
		}
		tb.glossEnd = false
	}
	tb.b = append(tb.b, s...)
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

func (tb *textBuf) newline() {
	tb.trimRight()
	if len(tb.b) > 0 && tb.b[len(tb.b)-1] != '\n' {
		tb.b = append(tb.b, '\n')
	}
}

func (tb *textBuf) trimRight() {
	for len(tb.b) > 0 && tb.b[len(tb.b)-1] == ' ' {
		tb.b = tb.b[:len(tb.b)-1]
	}
}

func (tb *textBuf) String() string { return collapseLines(string(tb.b)) }

// collapseLines collapses white space within each line and drops empty lines.
func collapseLines(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = collapse(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// plainText is the text of a node with nothing taken out.
func plainText(n *node) string {
	if n.name == "" {
		return n.text
	}
	var b strings.Builder
	for _, c := range n.children {
		b.WriteString(plainText(c))
	}
	return b.String()
}

func (st *docState) addPage(n string) {
	if n == "" {
		return
	}
	*st.page = n
	if st.pageSeen == nil {
		st.pageSeen = map[string]bool{}
		for _, p := range st.d.Pages {
			st.pageSeen[p] = true
		}
	}
	if !st.pageSeen[n] {
		st.pageSeen[n] = true
		st.d.Pages = append(st.d.Pages, n)
	}
}

func (st *docState) footnote(n *node) {
	var tb textBuf
	for _, c := range n.children {
		st.inline(c, &tb)
	}
	st.d.Footnotes = append(st.d.Footnotes, Footnote{
		N: n.attr("n"), ID: n.attr("id"), Type: n.attr("type"), Text: collapse(tb.String()), Paragraph: st.para,
	})
}

// inline writes the text of n into tb: notes become footnotes, page
// breaks record the page, nested lists and paragraphs start new lines.
func (st *docState) inline(n *node, tb *textBuf) {
	if n.name == "" {
		tb.writeText(n.text)
		return
	}
	switch n.name {
	case "note":
		st.footnote(n)
		return
	case "pb":
		st.addPage(n.attr("n"))
		if n.attr("break") == "no" {
			tb.trimRight()
			tb.join = true
		}
		return
	case "lb":
		if n.attr("break") == "no" {
			tb.trimRight()
			tb.join = true
		} else {
			tb.newline()
		}
		return
	case "del", "fw", "figure", "graphic", "milestone", "anchor", "index":
		return
	case "list":
		tb.newline()
		label := ""
		for _, c := range n.children {
			switch c.name {
			case "label":
				var lb textBuf
				for _, x := range c.children {
					st.inline(x, &lb)
				}
				label = collapse(lb.String())
			case "item":
				tb.newline()
				if label == "" {
					label = c.attr("n")
				}
				if label != "" {
					tb.writeText(label + " ")
					tb.afterLabel = true
				}
				for _, x := range c.children {
					st.inline(x, tb)
				}
				label = ""
			case "head":
				tb.newline()
				for _, x := range c.children {
					st.inline(x, tb)
				}
			case "pb", "note":
				st.inline(c, tb)
			}
		}
		tb.newline()
		return
	case "p", "ab", "head", "lg", "l", "item", "postscript", "div", "attachment", "closer", "opener", "dateline", "signed", "salute":
		if len(tb.b) > 0 && !tb.afterLabel {
			tb.newline()
		}
		for _, c := range n.children {
			st.inline(c, tb)
		}
		tb.newline()
		return
	case "table":
		tb.newline()
		for _, row := range n.children {
			if row.name != "row" {
				continue
			}
			var cells []string
			for _, cell := range row.children {
				if cell.name != "cell" {
					continue
				}
				var cb textBuf
				for _, x := range cell.children {
					st.inline(x, &cb)
				}
				cells = append(cells, collapse(cb.String()))
			}
			tb.writeText(strings.Join(cells, " | "))
			tb.newline()
		}
		return
	}
	for _, c := range n.children {
		st.inline(c, tb)
	}
	if n.name == "gloss" {
		tb.glossEnd = true
	}
}

// paragraph adds the text of n as the document's next paragraph.
func (st *docState) paragraph(n *node, label string) {
	st.para++
	var tb textBuf
	if n.name == "item" {
		for _, c := range n.children {
			st.inline(c, &tb)
		}
	} else {
		st.inline(n, &tb)
	}
	text := tb.String()
	if text == "" {
		st.para--
		return
	}
	st.d.Paragraphs = append(st.d.Paragraphs, Paragraph{Number: st.para, Label: label, Text: text})
}

// blocks reads the block-level children of a document or attachment.
func (st *docState) blocks(n *node, top bool) {
	for _, c := range n.children {
		switch c.name {
		case "":
			if t := collapse(c.text); t != "" {
				st.paragraph(c, "")
			}
		case "note":
			if c.attr("type") == "source" && st.source == "" {
				var tb textBuf
				for _, x := range c.children {
					st.inline(x, &tb)
				}
				st.source = collapse(tb.String())
			} else {
				st.footnote(c)
			}
		case "head":
			if top && st.head == nil {
				st.head = c
				st.readHead(c)
			} else {
				st.paragraph(c, "")
			}
		case "opener":
			st.opener(c)
		case "closer":
			st.closer(c)
		case "signed":
			st.signed = append(st.signed, st.text(c))
		case "dateline":
			st.dateline(c)
		case "pb":
			st.addPage(c.attr("n"))
		case "list":
			label := ""
			for _, x := range c.children {
				switch x.name {
				case "label":
					label = st.text(x)
				case "item":
					if label == "" {
						label = x.attr("n")
					}
					st.paragraph(x, label)
					label = ""
				case "head":
					st.paragraph(x, "")
				case "pb":
					st.addPage(x.attr("n"))
				case "note":
					st.footnote(x)
				}
			}
		case "div", "attachment", "postscript", "frus:attachment":
			st.blocks(c, false)
		case "fw", "figure", "graphic", "milestone", "anchor":
		default:
			st.paragraph(c, "")
		}
	}
}

// text is the text of n with its notes taken out as footnotes.
func (st *docState) text(n *node) string {
	var tb textBuf
	for _, c := range n.children {
		st.inline(c, &tb)
	}
	return collapse(tb.String())
}

func (st *docState) readHead(n *node) {
	st.d.Subject = st.text(n)
	var walk func(*node)
	walk = func(x *node) {
		for _, c := range x.children {
			if c.name == "" || c.name == "note" {
				continue
			}
			switch c.attr("type") {
			case "to":
				if st.headTo == "" {
					st.headTo = collapse(plainText(c))
				}
			case "from":
				if st.headFrom == "" && c.name != "persName" {
					st.headFrom = collapse(plainText(c))
				}
			}
			walk(c)
		}
	}
	walk(n)
}

func (st *docState) opener(n *node) {
	for _, c := range n.children {
		switch c.name {
		case "":
			if t := collapse(c.text); t != "" {
				st.markings = append(st.markings, t)
			}
		case "dateline":
			st.dateline(c)
		case "salute":
			st.paragraph(c, "")
		case "note":
			st.footnote(c)
		case "pb":
			st.addPage(c.attr("n"))
		default:
			if t := st.text(c); t != "" {
				st.markings = append(st.markings, t)
			}
		}
	}
}

func (st *docState) closer(n *node) {
	for _, c := range n.children {
		switch c.name {
		case "signed":
			if t := st.text(c); t != "" {
				st.signed = append(st.signed, t)
			}
		case "dateline":
			if st.place == "" && st.when == "" {
				st.dateline(c)
			}
		case "note":
			st.footnote(c)
		case "pb":
			st.addPage(c.attr("n"))
		case "list":
			st.closer(c)
		case "item":
			st.closer(c)
		}
	}
}

func (st *docState) dateline(n *node) {
	var find func(*node)
	find = func(x *node) {
		for _, c := range x.children {
			switch c.name {
			case "placeName":
				if st.place == "" {
					st.place = collapse(plainText(c))
				}
			case "date":
				if st.when == "" {
					st.when = c.attr("when")
					if st.when == "" {
						st.when = c.attr("notBefore")
					}
				}
			case "note":
				st.footnote(c)
				continue
			}
			find(c)
		}
	}
	find(n)
	if st.place == "" {
		// A dateline without a placeName: "Washington, February 3, 1949".
		t := collapse(st.text(n))
		if before, _, ok := strings.Cut(t, ","); ok && len(before) < 40 {
			st.place = before
		}
	}
}

var (
	fileCodeRE     = regexp.MustCompile(`\b(\d{3}(?:\.[0-9A-Za-z]+)*(?:\s+[A-Z][A-Za-z]+)*)\s*/\s*(\d{1,2}\s*[-–—]\s*\d{2,6})\b`)
	telegramNumRE  = regexp.MustCompile(`^(\d{1,6})\.\s*`)
	seriesRE       = regexp.MustCompile(`^([A-Z][A-Za-z]{2,11})\s+(\d{1,6})\.\s*`)
	headKindRE     = regexp.MustCompile(`(?i)^(telegram|circular telegram|memorandum(?: of conversation)?|letter|note|despatch|dispatch|airgram|instruction|aide-m[ée]moire|minutes|report|message|paper)\s+(?:from|by)\s+(?:the\s+)?`)
	parenRE        = regexp.MustCompile(`\s*\([^()]*\)`)
	repeatedRE     = regexp.MustCompile(`(?i)\brepeated\b(.*)`)
	sentenceEndRE  = regexp.MustCompile(`[.;]\s+[A-Z]`)
	andRE          = regexp.MustCompile(`(?i),\s*(?:and\s+)?|\s+and\s+`)
	repeatedPartRE = regexp.MustCompile(`(?i)^\s*(?:as\s+\d+\s+)?(?:to\s+)?(?:the\s+)?([A-Z][A-Za-z .'’-]*?)(?:\s+as\s+\d+)?\s*(?:\(|$|,|;|\.$)`)
)

var (
	bracketCleaner = strings.NewReplacer("[", "", "]", "")
	dashCleaner    = strings.NewReplacer("–", "-", "—", "-")
)

var seriesNotSeries = map[string]bool{"Deptel": true, "Embtel": true, "Urtel": true, "Mytel": true, "Reurtel": true, "Redeptel": true, "Legtel": true, "Contel": true, "Your": true, "My": true, "Our": true, "Paragraph": true, "Para": true, "Page": true, "See": true, "Re": true}

// interpret turns a document's tree into a Document, or says why it cannot.
func interpret(n *node, startPage string, page *string) (*Document, string) {
	d := &Document{SourceID: n.attr("id"), Number: n.attr("n")}
	st := &docState{d: d, page: page}
	if startPage != "" {
		d.Pages = append(d.Pages, startPage)
	}
	st.blocks(n, true)
	if st.head == nil {
		return nil, "no <head>: the document's sender, addressee and kind are unknown"
	}
	if d.SourceID == "" {
		return nil, "no xml:id"
	}

	// Date and time.
	minAttr, maxAttr := n.attr("doc-dateTime-min"), n.attr("doc-dateTime-max")
	var tmin, tmax time.Time
	if minAttr != "" {
		t, err := time.Parse(time.RFC3339, minAttr)
		if err != nil {
			return nil, fmt.Sprintf("frus:doc-dateTime-min %q is not a date-time with an offset", minAttr)
		}
		tmin = t
	}
	if maxAttr != "" {
		t, err := time.Parse(time.RFC3339, maxAttr)
		if err != nil {
			return nil, fmt.Sprintf("frus:doc-dateTime-max %q is not a date-time with an offset", maxAttr)
		}
		tmax = t
	}
	if !tmin.IsZero() && !tmax.IsZero() && tmax.Before(tmin) {
		return nil, fmt.Sprintf("frus:doc-dateTime-max %s is before frus:doc-dateTime-min %s", maxAttr, minAttr)
	}
	whenT, whenHasTime, whenOK := parseWhen(st.when)
	switch {
	case !tmin.IsZero() && (tmax.IsZero() || tmax.Equal(tmin)):
		d.DTG = tmin.UTC()
	case !tmin.IsZero():
		d.Date = tmin.Format(time.DateOnly)
	case whenOK && whenHasTime:
		d.DTG = whenT.UTC()
	case whenOK:
		d.Date = whenT.Format(time.DateOnly)
	}
	if !d.DTG.IsZero() && whenOK && whenHasTime && !whenT.Equal(d.DTG) {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the dateline's time %s differs from frus:doc-dateTime-min %s", st.when, minAttr))
	}
	if d.DTG.IsZero() && d.Date == "" {
		d.Warnings = append(d.Warnings, "no date")
	}

	// Source note: file number and kind. Only their opening is read:
	// source notes and heads are short, and regexps over a hostile
	// megabyte would not be.
	st.source = clip(st.source, 2000)
	if m := fileCodeRE.FindStringSubmatch(st.source); m != nil {
		d.FileCode = collapse(m[1]) + "/" + strings.Join(strings.Fields(dashCleaner.Replace(m[2])), "")
	}
	d.Kind = kindOf(n.attr("subtype"), st.source, d.Subject)

	// Head: sender and addressee.
	if d.Number != "" {
		d.Title = d.Number + ". " + d.Subject
	} else {
		d.Title = d.Subject
	}
	d.From, d.ToText = splitHead(clip(d.Subject, 1000), clip(st.headFrom, 200), clip(st.headTo, 200))

	// Place and station.
	dir := Stations()
	d.Place = strings.Trim(collapse(bracketCleaner.Replace(st.place)), " ,.")
	withheld := strings.Contains(strings.ToLower(st.place), "not declassified")
	if withheld {
		d.Place = ""
	}
	if d.Place != "" {
		if s, ok := lookupPlace(dir, d.Place); ok {
			d.Station = s.Code
		}
	}
	if d.Station == "" && !withheld && d.From != "" {
		d.Station = partyStation(dir, d.From)
	}
	if d.Station == "" && (d.Kind == KindTelegram) {
		if withheld {
			d.Warnings = append(d.Warnings, "the place of origin is not declassified")
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf("no station for the place %q or the sender %q", d.Place, d.From))
		}
	}
	if d.ToText != "" {
		if s := partyStation(dir, d.ToText); s != "" && s != d.Station {
			d.To = append(d.To, cable.Addressee{Station: s, Role: cable.RoleAction})
		}
	}

	// Markings: the opener's, else the source note's.
	for _, m := range st.markings {
		if m = clip(m, 500); readMarkings(d, m) {
			d.Marking = joinMarking(d.Marking, m)
		}
	}
	if d.Marking == "" && st.source != "" {
		for _, s := range strings.Split(st.source, ".") {
			if s = strings.TrimSpace(s); s != "" && allMarkingWords(s) && readMarkings(d, s) {
				d.Marking = joinMarking(d.Marking, s)
			}
		}
	}
	if d.Kind == KindTelegram && d.Precedence == 0 {
		// Nothing printed: the telegram went at routine precedence.
		d.Precedence = cable.Routine
	}

	// The telegram's number, and numbers in a series, open its text.
	if len(d.Paragraphs) > 0 && (d.Kind == KindTelegram || d.Kind == KindDocument) {
		p := &d.Paragraphs[0]
		if m := telegramNumRE.FindStringSubmatch(p.Text); m != nil && p.Label == "" {
			if d.Kind == KindDocument && !d.DTG.IsZero() {
				d.Kind = KindTelegram
				if d.Precedence == 0 {
					d.Precedence = cable.Routine
				}
			}
			if d.Kind == KindTelegram {
				d.Serial, _ = strconv.Atoi(m[1])
				rest := p.Text[len(m[0]):]
				for {
					sm := seriesRE.FindStringSubmatch(rest)
					if sm == nil || seriesNotSeries[sm[1]] {
						break
					}
					d.Series = append(d.Series, sm[1]+" "+sm[2])
					rest = rest[len(sm[0]):]
				}
				if strings.TrimSpace(rest) == "" {
					d.Paragraphs = d.Paragraphs[1:]
					for i := range d.Footnotes {
						if d.Footnotes[i].Paragraph > 0 {
							d.Footnotes[i].Paragraph--
						}
					}
				} else {
					p.Text = strings.TrimSpace(rest)
				}
			}
		}
	}
	for i := range d.Paragraphs {
		d.Paragraphs[i].Number = i + 1
	}
	if d.Kind == KindTelegram && d.Serial == 0 {
		d.Warnings = append(d.Warnings, "no telegram number")
	}
	d.Signature = strings.Join(st.signed, "; ")

	// Repeated to: information addressees, from the head's notes and the source note.
	var repeated []string
	for _, f := range d.Footnotes {
		if f.Paragraph == 0 {
			repeated = append(repeated, clip(f.Text, 1000))
		}
	}
	repeated = append(repeated, st.source)
	for _, s := range repeated {
		for _, code := range repeatedTo(dir, s) {
			if code == d.Station || hasAddressee(d.To, code) {
				continue
			}
			d.To = append(d.To, cable.Addressee{Station: code, Role: cable.RoleInfo})
		}
	}

	// References and withheld text.
	var all strings.Builder
	for _, p := range d.Paragraphs {
		all.WriteString(p.Text)
		all.WriteByte('\n')
	}
	action := ""
	if len(d.To) > 0 {
		action = d.To[0].Station
	}
	d.References = references(all.String(), d.Station, action)
	seen := map[string]bool{}
	for _, s := range []string{st.place, d.Subject, all.String()} {
		for _, m := range notDeclassified(s) {
			if !seen[m] {
				seen[m] = true
				d.NotDeclassified = append(d.NotDeclassified, m)
			}
		}
	}
	if len(d.Captions) > 0 {
		d.Captions = cable.SortCaptions(d.Captions)
	}
	if len(d.Handling) > 0 {
		d.Handling = cable.SortHandling(d.Handling)
	}
	return d, ""
}

func hasAddressee(to []cable.Addressee, code string) bool {
	for _, a := range to {
		if a.Station == code {
			return true
		}
	}
	return false
}

func joinMarking(a, b string) string {
	if a == "" {
		return collapse(b)
	}
	return a + "; " + collapse(b)
}

func parseWhen(s string) (time.Time, bool, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true, true
	}
	for _, layout := range []string{time.DateOnly, "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, true
		}
	}
	return time.Time{}, false, false
}

// kindOf says what a document is: an editorial note by its subtype; else
// by the kind its source note gives after the file number
// ("...: Telegram"); else by its head ("Memorandum of Conversation, by",
// "Telegram From the Embassy in France to the Department of State").
func kindOf(subtype, source, head string) string {
	if subtype == "editorial-note" || strings.HasPrefix(strings.ToLower(head), "editorial note") {
		return KindEditorial
	}
	if i := strings.LastIndex(source, ":"); i >= 0 {
		if k := kindWord(source[i+1:]); k != "" {
			return k
		}
	}
	if m := headKindRE.FindStringSubmatch(head); m != nil {
		if k := kindWord(m[1]); k != "" {
			return k
		}
	}
	lh := strings.ToLower(head)
	switch {
	case strings.HasPrefix(lh, "memorandum"):
		return KindMemorandum
	case strings.HasPrefix(lh, "minutes"):
		return KindMinutes
	case strings.HasPrefix(lh, "report"):
		return KindReport
	case strings.HasPrefix(lh, "aide-m"):
		return KindAideMemoire
	}
	return KindDocument
}

func kindWord(s string) string {
	w := strings.ToLower(collapse(strings.Trim(strings.TrimSpace(s), ".;,")))
	switch {
	case strings.Contains(w, "telegram"), w == "cable", w == "circular":
		return KindTelegram
	case strings.HasPrefix(w, "memorandum"):
		return KindMemorandum
	case strings.HasPrefix(w, "letter"):
		return KindLetter
	case strings.HasPrefix(w, "note"):
		return KindNote
	case strings.HasPrefix(w, "despatch"), strings.HasPrefix(w, "dispatch"):
		return KindDespatch
	case strings.HasPrefix(w, "airgram"):
		return KindAirgram
	case strings.HasPrefix(w, "instruction"):
		return KindInstruction
	case strings.HasPrefix(w, "aide-m"):
		return KindAideMemoire
	case strings.HasPrefix(w, "minutes"):
		return KindMinutes
	case strings.HasPrefix(w, "report"):
		return KindReport
	case strings.HasPrefix(w, "message"):
		return KindMessage
	}
	return ""
}

// splitHead finds the sender and addressee in a head: "The Consul General
// at Batavia (Livengood) to the Secretary of State". The editors'
// gloss type="from"/"to" annotations win when present.
func splitHead(head, from, to string) (string, string) {
	h := head
	if m := headKindRE.FindStringSubmatch(h); m != nil {
		h = h[len(m[0]):]
	}
	if strings.HasPrefix(strings.ToLower(h), "memorandum") || strings.HasPrefix(strings.ToLower(h), "editorial note") {
		return from, to
	}
	// The head's " to " that separates sender and addressee: the first one
	// after which the addressee names a station, else the last one.
	idx := -1
	for i := 0; ; {
		j := strings.Index(h[i:], " to ")
		if j < 0 {
			break
		}
		j += i
		if partyStation(Stations(), h[j+4:]) != "" && partyStation(Stations(), h[:j]) != "" {
			idx = j
			break
		}
		idx = j
		i = j + 4
	}
	f, t := "", ""
	if idx >= 0 {
		f, t = strings.TrimSpace(h[:idx]), strings.TrimSpace(h[idx+4:])
	}
	if from != "" {
		f = from
	}
	if to != "" {
		t = to
	}
	return f, strings.TrimPrefix(strings.TrimPrefix(t, "the "), "The ")
}

var headquartersRE = regexp.MustCompile(`(?i)\b(secretary of state|department of state|the department|under secretary of state|acting secretary)\b`)
var atInRE = regexp.MustCompile(`(?i)\b(?:at|in)\s+(.+)$`)

// partyStation returns the station of a sender or addressee as a head
// names it: the Department's officers are STATE; an officer or mission
// "at" or "in" a place is that place's post.
func partyStation(dir *cable.Directory, party string) string {
	p := strings.TrimSpace(parenRE.ReplaceAllString(party, ""))
	if p == "" {
		return ""
	}
	if s, ok := lookupPlace(dir, p); ok {
		return s.Code
	}
	if m := atInRE.FindStringSubmatch(p); m != nil {
		if s, ok := lookupPlace(dir, m[1]); ok {
			return s.Code
		}
	}
	if headquartersRE.MatchString(p) && !strings.Contains(strings.ToLower(p), " at ") {
		return "STATE"
	}
	return ""
}

// repeatedTo reads "Repeated as 54 to New York (for Jessup) and as 55 to
// Batavia (for Lisle)" and "Sent to Department; repeated to The Hague
// and London" into station codes.
func repeatedTo(dir *cable.Directory, s string) []string {
	m := repeatedRE.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	rest := m[1]
	if loc := sentenceEndRE.FindStringIndex(rest); loc != nil {
		rest = rest[:loc[0]+1]
	}
	var out []string
	for _, part := range andRE.Split(rest, -1) {
		pm := repeatedPartRE.FindStringSubmatch(part)
		if pm == nil {
			continue
		}
		if st, ok := lookupPlace(dir, pm[1]); ok {
			out = append(out, st.Code)
		}
	}
	return out
}

// Marking words of the 1940s and 1950s. Precedence: TRIPLE PRIORITY and
// FLASH are FLASH; URGENT (also "US URGENT"), NIACT, IMMEDIATE and
// OPERATIONAL IMMEDIATE are IMMEDIATE; PRIORITY is PRIORITY; ROUTINE is
// ROUTINE. RESTRICTED is filed as CONFIDENTIAL (see the transcript
// importer: the domain has no lower classified level). NIACT is also a
// handling instruction; NODIS, EXDIS, LIMDIS are captions.
var markingPhrases = []struct {
	words string
	apply func(*Document)
}{
	{"top secret", func(d *Document) { d.raise(cable.TopSecret) }},
	{"limited official use", func(d *Document) { d.raise(cable.LimitedOfficialUse) }},
	{"secret", func(d *Document) { d.raise(cable.Secret) }},
	{"confidential", func(d *Document) { d.raise(cable.Confidential) }},
	{"restricted", func(d *Document) { d.raise(cable.Confidential) }},
	{"unclassified", func(d *Document) { d.raise(cable.Unclassified) }},
	{"triple priority", func(d *Document) { d.urge(cable.Flash) }},
	{"flash", func(d *Document) { d.urge(cable.Flash) }},
	{"operational immediate", func(d *Document) { d.urge(cable.Immediate) }},
	{"us urgent", func(d *Document) { d.urge(cable.Immediate) }},
	{"urgent", func(d *Document) { d.urge(cable.Immediate) }},
	{"immediate", func(d *Document) { d.urge(cable.Immediate) }},
	{"niact", func(d *Document) { d.urge(cable.Immediate); d.Handling = append(d.Handling, cable.NIACT) }},
	{"priority", func(d *Document) { d.urge(cable.Priority) }},
	{"routine", func(d *Document) { d.urge(cable.Routine) }},
	{"nodis", func(d *Document) { d.Captions = append(d.Captions, cable.NODIS) }},
	{"exdis", func(d *Document) { d.Captions = append(d.Captions, cable.EXDIS) }},
	{"limdis", func(d *Document) { d.Captions = append(d.Captions, cable.LIMDIS) }},
	{"noforn", func(d *Document) { d.Handling = append(d.Handling, cable.NOFORN) }},
}

// Words printed among the markings that mark nothing the domain keeps.
var markingNoise = map[string]bool{"plain": true, "gray": true, "grey": true, "personal": true, "and": true, "eyes": true, "only": true, "for": true, "the": true, "us": true, "of": true, "official": true, "use": true, "most": true}

func (d *Document) raise(c cable.Classification) {
	if c > d.Classification {
		d.Classification = c
	}
}

func (d *Document) urge(p cable.Precedence) {
	if d.Precedence == 0 || p < d.Precedence {
		d.Precedence = p
	}
}

func markingTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
}

// readMarkings applies the marking words of s to d and reports whether
// there were any.
func readMarkings(d *Document, s string) bool {
	toks := markingTokens(s)
	found := false
	for i := 0; i < len(toks); {
		matched := false
		for _, mp := range markingPhrases {
			w := strings.Fields(mp.words)
			if i+len(w) > len(toks) {
				continue
			}
			ok := true
			for j := range w {
				if toks[i+j] != w[j] {
					ok = false
					break
				}
			}
			if ok {
				mp.apply(d)
				i += len(w)
				matched, found = true, true
				break
			}
		}
		if !matched {
			i++
		}
	}
	return found
}

// allMarkingWords reports whether s holds only marking words: a sentence
// of a source note such as "Secret; Niact" and not prose that happens to
// hold one.
func allMarkingWords(s string) bool {
	toks := markingTokens(s)
	if len(toks) == 0 || len(toks) > 8 {
		return false
	}
	for _, t := range toks {
		if markingNoise[t] {
			continue
		}
		known := false
		for _, mp := range markingPhrases {
			for _, w := range strings.Fields(mp.words) {
				if w == t {
					known = true
				}
			}
		}
		if !known {
			return false
		}
	}
	return true
}

// clip returns s cut to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// notDeclassified finds the edition's markers of withheld text:
// "[place not declassified]", "[1 paragraph (3 lines of source text) not
// declassified]".
func notDeclassified(s string) []string {
	var out []string
	for from := 0; ; {
		i := strings.Index(s[from:], "not declassified")
		if i < 0 {
			return out
		}
		i += from
		from = i + len("not declassified")
		open := strings.LastIndexByte(s[max(0, i-120):i], '[')
		if open < 0 {
			continue
		}
		open += max(0, i-120)
		end := strings.IndexByte(s[from:min(len(s), from+40)], ']')
		if end < 0 || strings.ContainsAny(s[open+1:i], "[]") || strings.ContainsRune(s[from:from+end], '[') {
			continue
		}
		out = append(out, collapse(s[open:from+end+1]))
		from += end + 1
	}
}
