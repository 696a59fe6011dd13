package textform

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// MaxSections is the largest number of sections a cable is cut into:
// the SECTION marker has two digits.
const MaxSections = 99

// DefaultMaxPending is the cap on the bytes a Reassembler holds when
// none is given: two cables of the largest size Parse accepts.
const DefaultMaxPending = 2 * MaxTextSize

// The words that begin a section which continues a paragraph cut by the
// section before it, after the paragraph's number and portion mark. See
// docs/format.md, "Sections".
const (
	contLine = "CONTINUED: "          // the cut fell between two lines
	contMid  = "CONTINUED MID-LINE: " // the cut fell inside a line
)

var closingBT = []byte("BT\n")

// Cut renders the released cable c and, when the text is larger than
// limit bytes, cuts it into numbered sections of at most limit bytes
// each, as traffic was sent: every section is the heading (precedence and
// date-time group, FM, TO, INFO, BT), the classification line with
// "SECTION 01 OF 05" and the caption and handling lines, then its share
// of the text, then BT. The header (E.O., TAGS, SUBJECT, REF, CLASSIFIED
// BY) is in section 1 only and the signature in the last section only.
// Paragraphs are cut at paragraph boundaries where possible; a paragraph
// larger than a section is cut between lines, else between words, else
// between two UTF-8 sequences, and the section after the cut begins with
// the paragraph's number and portion mark and CONTINUED. A text that fits
// is returned whole, as one part without SECTION marker.
//
// Cut fails with EINVALID when limit leaves no room for the heading,
// header and signature (naming the minimum) or when the cable would need
// more than 99 sections (naming its size).
func (f *Form) Cut(c *cable.Cable, limit int) ([][]byte, error) {
	text, err := f.Render(c)
	if err != nil {
		return nil, err
	}
	if len(text) <= limit {
		return [][]byte{text}, nil
	}
	if c.Serial == 0 || c.DTG.IsZero() {
		return nil, cable.Invalid("cable cannot be cut into sections", []cable.Problem{{
			Field: "serial", Message: "only a released cable (serial and date-time group) is cut into sections"}})
	}

	whole, err := f.sectionHead(c, 0, 0)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(text, whole) || !bytes.HasSuffix(text, closingBT) {
		return nil, cable.Errorf(cable.EINTERNAL, "cut %s: the rendering does not begin with its heading", c.ID)
	}
	// The text after the heading is the header lines, then blocks each
	// beginning with the blank line before a paragraph or the signature;
	// normalized text holds no other blank line.
	end := len(text) - len(closingBT)
	bodyStart := end
	if i := bytes.Index(text[len(whole)-1:end], []byte("\n\n")); i >= 0 {
		bodyStart = len(whole) + i
	}
	header := text[len(whole):bodyStart]
	var blocks [][]byte
	for at := bodyStart; at < end; {
		next := end
		if i := bytes.Index(text[at+1:end], []byte("\n\n")); i >= 0 {
			next = at + 1 + i + 1
		}
		blocks = append(blocks, text[at:next])
		at = next
	}
	paras := blocks
	var sig []byte
	if strings.Join(strings.Fields(c.Signature), " ") != "" {
		if len(blocks) == 0 {
			return nil, cable.Errorf(cable.EINTERNAL, "cut %s: no signature in the rendering", c.ID)
		}
		paras, sig = blocks[:len(blocks)-1], blocks[len(blocks)-1]
	}
	if len(paras) != len(c.Paragraphs) {
		return nil, cable.Errorf(cable.EINTERNAL, "cut %s: %d paragraphs rendered as %d blocks", c.ID, len(c.Paragraphs), len(paras))
	}

	head1, err := f.sectionHead(c, 1, 1)
	if err != nil {
		return nil, err
	}
	overhead := len(head1) + len(closingBT)
	leads := make([]int, len(paras))
	need := overhead + len(header)
	if len(paras) == 0 {
		need += len(sig)
	}
	for i, p := range paras {
		leads[i] = paragraphLead(p)
		if leads[i] == 0 {
			return nil, cable.Errorf(cable.EINTERNAL, "cut %s: paragraph %d is not rendered as N. (M)", c.ID, i+1)
		}
		// Room for the longest continuation prefix, one UTF-8 sequence,
		// a line break and the signature.
		need = max(need, overhead+leads[i]-1+len(contMid)+utf8.UTFMax+1+len(sig))
	}
	if limit < need {
		return nil, cable.Invalid("cable cannot be cut into sections", []cable.Problem{{
			Field:   "limit",
			Message: fmt.Sprintf("a section of this cable needs at least %d bytes (heading, caption lines, header and signature), not %d", need, limit),
		}})
	}

	pk := &packer{budget: limit - overhead, id: c.ID, size: len(text), limit: limit}
	pk.add(header)
	for i, p := range paras {
		reserve := 0
		if i == len(paras)-1 {
			reserve = len(sig)
		}
		if err := pk.paragraph(p, leads[i], reserve); err != nil {
			return nil, err
		}
	}
	if len(sig) > 0 {
		// The last paragraph was placed with room for the signature.
		pk.add(sig)
	}
	pk.secs = append(pk.secs, pk.cur)
	if len(pk.secs) > MaxSections {
		return nil, pk.tooMany()
	}

	n := len(pk.secs)
	out := make([][]byte, n)
	for i, segs := range pk.secs {
		head, err := f.sectionHead(c, i+1, n)
		if err != nil {
			return nil, err
		}
		size := len(head) + len(closingBT)
		for _, s := range segs {
			size += len(s)
		}
		b := make([]byte, 0, size)
		b = append(b, head...)
		for _, s := range segs {
			b = append(b, s...)
		}
		out[i] = append(b, closingBT...)
	}
	return out, nil
}

// sectionHead renders the heading of c: the lines up to the
// classification line with the SECTION marker of section of sections (none
// when both are 0), then the caption and handling lines.
func (f *Form) sectionHead(c *cable.Cable, section, sections int) ([]byte, error) {
	h := &cable.Cable{
		ID: c.ID, Station: c.Station, Serial: c.Serial, DTG: c.DTG,
		Precedence: c.Precedence, Classification: c.Classification,
		Captions: c.Captions, Handling: c.Handling, To: c.To,
	}
	b, err := f.render(h, section, sections)
	if err != nil {
		return nil, err
	}
	// A cable without header fields still has its SUBJECT line.
	const tail = "SUBJECT:\nBT\n"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return nil, cable.Errorf(cable.EINTERNAL, "heading of %s does not end with %q", c.ID, tail)
	}
	return b[:len(b)-len(tail)], nil
}

// paragraphLead returns the length of "\nN. (M) " at the start of a
// rendered paragraph block (of "\nN. (M)" when the paragraph is empty),
// or 0 when block is not one.
func paragraphLead(block []byte) int {
	if len(block) < 2 || block[0] != '\n' {
		return 0
	}
	n := markLen(block[1:])
	if n == 0 {
		return 0
	}
	n++
	if n < len(block) && block[n] == ' ' {
		n++
	}
	return n
}

// markLen returns the length of "N. (M)" at the start of b, 0 if none.
func markLen(b []byte) int {
	i := 0
	for i < len(b) && i < 9 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || !bytes.HasPrefix(b[i:], []byte(". (")) {
		return 0
	}
	i += 3
	j := bytes.IndexByte(b[i:], ')')
	if j < 1 || j > 3 {
		return 0
	}
	if _, ok := portionMarks[string(b[i:i+j])]; !ok {
		return 0
	}
	return i + j + 1
}

// continuation returns the length of the prefix "N. (M) CONTINUED: " or
// "N. (M) CONTINUED MID-LINE: " at the start of a section's text, and
// whether it is the mid-line form; n is 0 when there is none.
func continuation(body []byte) (n int, mid bool) {
	m := markLen(body)
	if m == 0 || m >= len(body) || body[m] != ' ' {
		return 0, false
	}
	switch rest := body[m+1:]; {
	case bytes.HasPrefix(rest, []byte(contLine)):
		return m + 1 + len(contLine), false
	case bytes.HasPrefix(rest, []byte(contMid)):
		return m + 1 + len(contMid), true
	}
	return 0, false
}

// packer fills sections with slices of the rendered text.
type packer struct {
	budget int // bytes of a section left after heading and closing BT
	secs   [][][]byte
	cur    [][]byte
	used   int

	id          string
	size, limit int
}

func (p *packer) add(b []byte) {
	p.cur = append(p.cur, b)
	p.used += len(b)
}

func (p *packer) next() error {
	p.secs = append(p.secs, p.cur)
	p.cur, p.used = nil, 0
	if len(p.secs) >= MaxSections {
		return p.tooMany()
	}
	return nil
}

func (p *packer) tooMany() error {
	return cable.Invalid("cable cannot be cut into sections", []cable.Problem{{
		Field: "limit",
		Message: fmt.Sprintf("cable %s of %d bytes needs more than %d sections of at most %d bytes; raise the limit",
			p.id, p.size, MaxSections, p.limit),
	}})
}

// paragraph places one rendered paragraph block whose first lead bytes
// are "\nN. (M) ", leaving reserve bytes free after its last piece.
func (p *packer) paragraph(block []byte, lead, reserve int) error {
	if len(block)+reserve <= p.budget-p.used {
		p.add(block)
		return nil
	}
	if len(block)+reserve <= p.budget {
		// It fits a section of its own: cut at the paragraph boundary.
		if err := p.next(); err != nil {
			return err
		}
		p.add(block)
		return nil
	}
	head := block[:lead]
	rest := block[lead:]
	for {
		space := p.budget - p.used
		if len(head)+len(rest)+reserve <= space {
			p.add(head)
			p.add(rest)
			return nil
		}
		n, mid := cutPoint(rest, space-len(head))
		if n == 0 {
			if p.used == 0 {
				return cable.Errorf(cable.EINTERNAL, "cut %s: no progress in an empty section", p.id)
			}
			if err := p.next(); err != nil {
				return err
			}
			continue
		}
		p.add(head)
		p.add(rest[:n])
		word := contLine
		if mid {
			p.add([]byte{'\n'})
			word = contMid
		}
		rest = rest[n:]
		mark := block[1 : 1+markLen(block[1:])]
		head = append(append(bytes.Clone(mark), ' '), word...)
		if err := p.next(); err != nil {
			return err
		}
	}
}

// cutPoint chooses how many bytes of rest (the remaining text of a
// paragraph, ending with its line break) go in a section with room for
// capacity bytes, leaving at least one byte for the next. It prefers a
// line boundary, then a word boundary (the space stays before the cut),
// then the last UTF-8 sequence boundary. mid reports a cut inside a line,
// after which the section needs a line break of its own.
func cutPoint(rest []byte, capacity int) (n int, mid bool) {
	maxN := len(rest) - 1
	lw := min(capacity, maxN)
	if lw <= 0 {
		return 0, false
	}
	line := bytes.LastIndexByte(rest[:lw], '\n') + 1
	if line > 0 && line*2 >= lw {
		return line, false
	}
	mw := min(capacity-1, maxN)
	if mw <= 0 {
		return line, false
	}
	if word := bytes.LastIndexByte(rest[:mw], ' ') + 1; word > line {
		return word, true
	}
	if line > 0 {
		return line, false
	}
	n = mw
	for n > 0 && !utf8.RuneStart(rest[n]) {
		n--
	}
	return n, n > 0
}

// Reassembler collects the sections of many cables, keyed by cable
// identifier, and gives back each cable's whole text once all its
// sections are in. Sections may come in any order and more than once. It
// holds at most a configured number of bytes of incomplete cables. It is
// safe for concurrent use.
type Reassembler struct {
	form       *Form
	maxPending int

	mu      sync.Mutex
	cables  map[string]*partial
	pending int
}

// partial is a cable whose sections are not all in.
type partial struct {
	head   []byte // the whole cable's heading, without SECTION marker
	bodies [][]byte
	have   []bool
	count  int
	size   int // bytes counted in Reassembler.pending
}

// NewReassembler returns a Reassembler that reads sections with f and
// holds at most maxPending bytes of incomplete cables (DefaultMaxPending
// when maxPending <= 0).
func NewReassembler(f *Form, maxPending int) *Reassembler {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	return &Reassembler{form: f, maxPending: maxPending, cables: map[string]*partial{}}
}

// Pending returns the bytes held for cables whose sections are not all in.
func (r *Reassembler) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}

// Forget drops the sections held for cable id and reports whether there
// were any.
func (r *Reassembler) Forget(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.cables[id]
	if ok {
		r.pending -= p.size
		delete(r.cables, id)
	}
	return ok
}

// Add takes one transmitted text. A text without SECTION marker is a
// whole cable: Add returns its canonical text at once. A section is kept
// until all sections of its cable are in; then Add returns the whole
// cable's text, done true, and forgets the sections. For the sections Cut
// writes, that text is byte for byte Render of the cable; the caller
// parses and validates it as any received cable.
//
// A section Parse refuses, or not in the form Cut writes, is EINVALID. A
// second copy of a section held is ignored, but a section that differs
// from the one held, or disagrees with the others on the heading or the
// number of sections, is ECONFLICT, and so is a section that would take
// the bytes held beyond the cap.
func (r *Reassembler) Add(part []byte) (complete []byte, done bool, err error) {
	m, err := r.form.ParseMessage(part, false)
	if err != nil {
		return nil, false, err
	}
	if m.Sections == 0 {
		out, err := r.form.Render(m.Cable)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	}
	c := m.Cable
	if c.ID == "" {
		return nil, false, cable.Errorf(cable.EINVALID, "section %d of %d names no cable (station, serial and date-time group)", m.Section, m.Sections)
	}
	name := fmt.Sprintf("section %d of %d of %s", m.Section, m.Sections, c.ID)
	head, err := r.form.sectionHead(c, m.Section, m.Sections)
	if err != nil {
		return nil, false, err
	}
	if len(part) < len(head)+len(closingBT) || !bytes.HasPrefix(part, head) || !bytes.HasSuffix(part, closingBT) {
		return nil, false, cable.Errorf(cable.EINVALID, "%s is not in the form of a section: canonical heading, text, closing BT", name)
	}
	body := part[len(head) : len(part)-len(closingBT)]
	if m.Section > 1 {
		if n, _ := continuation(body); n == 0 && paragraphLead(body) == 0 {
			return nil, false, cable.Errorf(cable.EINVALID, "%s begins neither a paragraph nor with N. (M) CONTINUED", name)
		}
	} else if len(body) == 0 || body[0] == '\n' {
		return nil, false, cable.Errorf(cable.EINVALID, "%s does not begin with the header lines", name)
	}
	whole, err := r.form.sectionHead(c, 0, 0)
	if err != nil {
		return nil, false, err
	}

	r.mu.Lock()
	p := r.cables[c.ID]
	grow := len(body)
	if p == nil {
		grow += len(whole)
	} else {
		if len(p.bodies) != m.Sections {
			r.mu.Unlock()
			return nil, false, cable.Errorf(cable.ECONFLICT, "%s: the sections held say %d sections", name, len(p.bodies))
		}
		if !bytes.Equal(p.head, whole) {
			r.mu.Unlock()
			return nil, false, cable.Errorf(cable.ECONFLICT, "%s: its heading differs from the sections held (precedence, date-time group, addressees, classification, captions)", name)
		}
		if i := m.Section - 1; p.have[i] {
			same := bytes.Equal(p.bodies[i], body)
			r.mu.Unlock()
			if same {
				return nil, false, nil
			}
			return nil, false, cable.Errorf(cable.ECONFLICT, "%s differs from the copy held", name)
		}
	}
	if r.pending+grow > r.maxPending {
		held := r.pending
		r.mu.Unlock()
		return nil, false, cable.Errorf(cable.ECONFLICT, "%s: holding its %d bytes would take the incomplete cables to %d bytes, over the cap of %d", name, grow, held+grow, r.maxPending)
	}
	if p == nil {
		p = &partial{head: whole, bodies: make([][]byte, m.Sections), have: make([]bool, m.Sections)}
		r.cables[c.ID] = p
	}
	p.bodies[m.Section-1] = bytes.Clone(body)
	p.have[m.Section-1] = true
	p.count++
	p.size += grow
	r.pending += grow
	if p.count < len(p.bodies) {
		r.mu.Unlock()
		return nil, false, nil
	}
	delete(r.cables, c.ID)
	r.pending -= p.size
	r.mu.Unlock()

	out, err := p.join()
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", c.ID, err)
	}
	return out, true, nil
}

// join puts the sections of a cable back together, removing the
// continuation prefixes and the line breaks that mid-line cuts added.
func (p *partial) join() ([]byte, error) {
	size := len(p.head) + len(closingBT)
	for _, b := range p.bodies {
		size += len(b)
	}
	out := make([]byte, 0, size)
	out = append(out, p.head...)
	for i, b := range p.bodies {
		if i > 0 {
			if n, mid := continuation(b); n > 0 {
				if mid {
					if len(out) == 0 || out[len(out)-1] != '\n' {
						return nil, cable.Errorf(cable.EINVALID, "section %d continues a line section %d does not end", i+1, i)
					}
					out = out[:len(out)-1]
				}
				b = b[n:]
			}
		}
		out = append(out, b...)
	}
	return append(out, closingBT...), nil
}

// Join puts back together the sections of one cable, given all of them
// (in any order; a repeated identical section is ignored), and returns the
// whole cable's canonical text. A single part without SECTION marker is a
// whole cable. Fewer sections than the cable has is EINVALID naming the
// missing ones; parts of different cables are ECONFLICT.
func (f *Form) Join(parts [][]byte) ([]byte, error) {
	r := NewReassembler(f, 0)
	for i, p := range parts {
		out, done, err := r.Add(p)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		if done {
			for j, q := range parts[i+1:] {
				if !slices.ContainsFunc(parts[:i+1], func(b []byte) bool { return bytes.Equal(b, q) }) {
					return nil, cable.Errorf(cable.ECONFLICT, "part %d completes a cable but part %d is not one of its sections", i+1, i+j+2)
				}
			}
			return out, nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range r.cables {
		var missing []string
		for i, have := range p.have {
			if !have {
				missing = append(missing, fmt.Sprint(i+1))
			}
		}
		return nil, cable.Errorf(cable.EINVALID, "%s: sections %s of %d missing", id, strings.Join(missing, ", "), len(p.have))
	}
	return nil, cable.Errorf(cable.EINVALID, "no sections")
}
