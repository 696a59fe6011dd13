package transcript

import (
	"strings"
	"unicode"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// itemKind says what a line, or a block of text lines, of a transcript's
// pages is.
type itemKind int

const (
	itText       itemKind = iota // text: paragraphs, catchwords, stray marks, signature
	itPageHeader                 // "-2- #511, February 22, 9 p.m. from Moscow via War"
	itBanner                     // SECRET, ~~SECRET~~
	itStamp                      // a line of a declassification stamp
	itSlip                       // a line of a repeated routing slip or a CORRECTED PAGE note
	itMark                       // clerks' marks and stray initials recognised by their shape
)

// role is what a block of text turns out to be.
type role int

const (
	roleText role = iota
	roleCatchword
	roleMark
	roleSignature
)

type item struct {
	kind   itemKind
	lines  []line
	stamp  stampPart
	role   role
	joined string // text(), once built
	words  []string
}

func (it *item) text() string {
	if len(it.lines) == 1 {
		return it.lines[0].text
	}
	if it.joined != "" {
		return it.joined
	}
	var b strings.Builder
	for i, l := range it.lines {
		if i > 0 {
			if paraMarkerRE.MatchString(l.text) {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l.text)
	}
	it.joined = b.String()
	return it.joined
}

// firstWords returns the first words of the block in the form catchwords
// are compared in.
func (it *item) firstWords() []string {
	if it.words == nil {
		t := it.text()
		if len(t) > 200 {
			t = t[:200]
		}
		it.words = wordsOf(t)
		if it.words == nil {
			it.words = []string{}
		}
	}
	return it.words
}

// short reports whether a text block is one short line: the shape of a
// catchword, a stray mark, a heading or a signature.
func (it *item) short() bool {
	return it.kind == itText && len(it.lines) == 1 && len(it.lines[0].text) <= 40 && len(strings.Fields(it.lines[0].text)) <= 5
}

// furniture reports whether an item is not text of the telegram.
func (it *item) furniture() bool { return it.kind != itText || it.role != roleText }

// body is what the pages give: the rebuilt text and the furniture taken out.
type body struct {
	paragraphs []string
	stamps     []Stamp
	pages      int
	signature  string
	catchwords []string
	marks      []string
	class      cable.Classification
	marking    string
	pageFrom   string // place named by the page headers ("from Moscow")
	pageVia    string
}

// classify sorts the body's lines into items.
func classify(ls []line) []item {
	var items []item
	slip := false
	inBlock := false
	for _, l := range ls {
		t := l.text
		if t == "" {
			inBlock = false
			if len(l.struck) > 0 {
				items = append(items, item{kind: itBanner, lines: []line{l}})
			}
			continue
		}
		kind, sp := classifyLine(t, &slip)
		if kind == itText {
			if inBlock {
				last := &items[len(items)-1]
				last.lines = append(last.lines, l)
			} else {
				items = append(items, item{kind: itText, lines: []line{l}})
				inBlock = true
			}
			continue
		}
		inBlock = false
		items = append(items, item{kind: kind, lines: []line{l}, stamp: sp})
	}
	return items
}

func classifyLine(t string, slip *bool) (itemKind, stampPart) {
	if pageHeaderRE.MatchString(t) {
		*slip = false
		return itPageHeader, notStamp
	}
	if len(t) > 120 {
		// Furniture is short; a long line is text.
		*slip = false
		return itText, notStamp
	}
	if _, _, ok := classWords(t); ok {
		return itBanner, notStamp
	}
	if sp := stampLine(t); sp != notStamp {
		return itStamp, sp
	}
	// A banner typed or stamped on the same line as a stamp: "SECRET DECLASSIFIED".
	if f := strings.Fields(t); len(f) > 1 {
		if _, _, ok := classWords(f[0]); ok {
			if sp := stampLine(strings.Join(f[1:], " ")); sp != notStamp {
				return itStamp, sp
			}
		}
	}
	switch {
	case departmentRE.MatchString(t), formTitleRE.MatchString(t), actionRE.MatchString(t), infoRE.MatchString(t):
		*slip = true
		return itSlip, notStamp
	case noParaphraseRE.MatchString(t), correctedPageRE.MatchString(t):
		return itSlip, notStamp
	case *slip && len(t) <= 40 && officeLineRE.MatchString(t):
		return itSlip, notStamp
	case starMarkRE.MatchString(t), initialsRE.MatchString(t), draftingRE.MatchString(t), numericRE.MatchString(t):
		return itMark, notStamp
	}
	*slip = false
	return itText, notStamp
}

// catchwordLookahead bounds how far a catchword is looked for, so that a
// page of nothing but short lines stays linear.
const catchwordLookahead = 48

// assignRoles finds catchwords, the signature and stray marks among the
// text blocks.
func assignRoles(items []item) {
	for i := range items {
		it := &items[i]
		if !it.short() {
			continue
		}
		want := wordsOf(it.lines[0].text)
		if len(want) == 0 {
			it.role = roleMark
			continue
		}
		furniture := false
		for j := i + 1; j < len(items) && j <= i+catchwordLookahead; j++ {
			nx := &items[j]
			if nx.kind != itText {
				furniture = true
				continue
			}
			if furniture && hasPrefixWords(nx.firstWords(), want) {
				it.role = roleCatchword
				break
			}
			if !nx.short() {
				break
			}
		}
	}

	// The signature is the last name standing alone after the text; clerks'
	// initials (two or three letters) around it are marks.
	last := len(items) - 1
	for last >= 0 && (items[last].kind != itText || items[last].role != roleText) {
		last--
	}
	for j := last; j >= 0; j-- {
		it := &items[j]
		if it.kind != itText || it.role != roleText {
			continue
		}
		if !it.short() {
			break
		}
		t := it.lines[0].text
		if signatureRE.MatchString(t) && countLetters(t) >= 4 && !headingRE.MatchString(t) {
			it.role = roleSignature
			break
		}
	}

	for i := range items {
		it := &items[i]
		if it.kind != itText || it.role != roleText || !it.short() {
			continue
		}
		t := it.lines[0].text
		if headingRE.MatchString(t) || terminalRE.MatchString(t) || paraMarkerRE.MatchString(t+" ") || hasLowerWord(t) {
			// Text cut by a page break reads as prose: a paragraph
			// marker, or a word in lower case. Marks are initials, names
			// and numbers: "JKL", "12 Ames", "Original Date".
			continue
		}
		prevFurn := i > 0 && items[i-1].furniture()
		nextFurn := i+1 < len(items) && items[i+1].furniture()
		if prevFurn || nextFurn || i == 0 || i == len(items)-1 {
			it.role = roleMark
		}
	}
}

// continues reports whether the text after a page break goes on with the
// paragraph before it. The transcript does not show indentation, so a
// page that starts a new paragraph is known only by what it starts with:
// a paragraph marker ("(E)", "Two.", "2."), a part heading, or text after
// a colon (a quotation or a list). Anything else, and anything starting in
// lower case, continues the paragraph.
//
// prevFirst and prevLast are the first and last pieces of the paragraph
// before, prevLen its length.
func continues(prevFirst, prevLast string, prevLen int, next string) bool {
	if next == "" || prevLast == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(next)
	if headingRE.MatchString(prevFirst) && prevLen <= 120 {
		return false
	}
	if first >= 'a' && first <= 'z' {
		return true
	}
	if strings.HasSuffix(prevLast, ":") {
		return false
	}
	if paraMarkerRE.MatchString(next) || headingRE.MatchString(next) {
		return false
	}
	return true
}

// rebuild takes the furniture out of the body's items and rebuilds the
// paragraphs, counting pages and reading the stamps.
func rebuild(items []item) *body {
	b := &body{pages: 1}
	// Paragraphs are built piece by piece: one continued over many pages
	// is not copied at every page.
	var paras []*strings.Builder
	lastFirst, lastPiece := "", "" // the first and the last piece of the last paragraph
	var cur *Stamp
	pendingBreak := false // furniture between the last paragraph and the next text
	runHeaders, runCatch := 0, false
	closeRun := func() {
		if runHeaders > 0 {
			b.pages += runHeaders
		} else if runCatch {
			b.pages++
		}
		runHeaders, runCatch = 0, false
	}
	for i := range items {
		it := &items[i]
		l := it.lines[0]
		for _, s := range l.struck {
			if c, m, ok := classWords(s); ok && c >= b.class {
				b.class, b.marking = c, m
			}
		}
		switch it.kind {
		case itPageHeader:
			if b.pageFrom == "" {
				if m := pageFromRE.FindStringSubmatch(l.text); m != nil {
					b.pageFrom, b.pageVia = m[2], m[3]
				}
			}
			runHeaders++
			pendingBreak = true
			cur = nil
			continue
		case itBanner:
			if c, m, ok := classWords(l.text); ok && c >= b.class {
				b.class, b.marking = c, m
			}
			pendingBreak = true
			continue
		case itStamp:
			sp := it.stamp
			if cur == nil || cur.has(sp) {
				b.stamps = append(b.stamps, Stamp{Page: b.pages + runHeaders})
				cur = &b.stamps[len(b.stamps)-1]
			}
			cur.add(sp, l)
			pendingBreak = true
			continue
		case itSlip:
			pendingBreak = true
			continue
		case itMark:
			if cur != nil && numericRE.MatchString(l.text) {
				cur.Text = append(cur.Text, l.raw)
			} else {
				b.marks = append(b.marks, l.raw)
			}
			continue
		}
		switch it.role {
		case roleCatchword:
			b.catchwords = append(b.catchwords, l.text)
			runCatch = true
			pendingBreak = true
			continue
		case roleMark:
			if cur != nil && originalRE.MatchString(l.text) {
				cur.Text = append(cur.Text, l.raw)
			} else {
				b.marks = append(b.marks, l.raw)
			}
			continue
		case roleSignature:
			closeRun()
			b.signature = strings.TrimSuffix(l.text, ".")
			continue
		}
		closeRun()
		cur = nil
		text := it.text()
		if n := len(paras); n > 0 && pendingBreak && continues(lastFirst, lastPiece, paras[n-1].Len(), text) {
			if strings.HasSuffix(lastPiece, "-") && !strings.HasSuffix(lastPiece, "--") {
				paras[n-1].WriteString(text)
			} else {
				paras[n-1].WriteByte(' ')
				paras[n-1].WriteString(text)
			}
		} else {
			paras = append(paras, &strings.Builder{})
			paras[len(paras)-1].WriteString(text)
			lastFirst = text
		}
		lastPiece = text
		pendingBreak = false
	}
	if runHeaders > 0 {
		b.pages += runHeaders
	}
	for _, p := range paras {
		b.paragraphs = append(b.paragraphs, p.String())
	}
	return b
}

// hasLowerWord reports whether a word of s is written in lower case.
func hasLowerWord(s string) bool {
	for _, w := range strings.Fields(s) {
		r := []rune(strings.TrimLeft(w, "(\"'“‘"))
		if len(r) > 0 && unicode.IsLower(r[0]) {
			return true
		}
	}
	return false
}
