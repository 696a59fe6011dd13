package cable

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Paragraph spans: where in a cable's text each paragraph's text is, so
// that a store need not keep it a second time in the cable it stores
// beside the text. Spans are one span per paragraph, in order, separated
// by commas: "off+len" when the paragraph's text is the text's bytes
// [off, off+len), "-" when it is not found there and stays in the stored
// cable. "" (what a store wrote before it kept spans) pastes nothing: every
// paragraph is in the stored cable.

// CutParagraphs returns the cable to store beside text, with each
// paragraph's text that text holds word for word left out, and the spans
// that put them back (PasteParagraphs). c is not changed: a cable with
// paragraphs comes back as a copy, one without as c itself.
func CutParagraphs(c *Cable, text []byte) (*Cable, string) {
	if len(c.Paragraphs) == 0 {
		return c, ""
	}
	cut := *c
	cut.Paragraphs = make([]Paragraph, len(c.Paragraphs))
	var b strings.Builder
	from := 0
	for i, p := range c.Paragraphs {
		cut.Paragraphs[i] = p
		if i > 0 {
			b.WriteByte(',')
		}
		if p.Text == "" {
			b.WriteByte('-')
			continue
		}
		// The text form writes the paragraphs in order after the
		// heading: look from the end of the last one first.
		want := []byte(p.Text)
		off := -1
		if j := bytes.Index(text[from:], want); j >= 0 {
			off = from + j
		} else if j := bytes.Index(text, want); j >= 0 {
			off = j
		}
		if off < 0 {
			b.WriteByte('-')
			continue
		}
		cut.Paragraphs[i].Text = ""
		from = off + len(p.Text)
		b.WriteString(strconv.Itoa(off))
		b.WriteByte('+')
		b.WriteString(strconv.Itoa(len(p.Text)))
	}
	return &cut, b.String()
}

// PasteParagraphs puts back into c the paragraph texts that spans finds in
// text. It refuses spans that do not fit c's paragraphs or the text: the
// stored row is damaged.
func PasteParagraphs(c *Cable, text []byte, spans string) error {
	if spans == "" {
		return nil
	}
	parts := strings.Split(spans, ",")
	if len(parts) != len(c.Paragraphs) {
		return fmt.Errorf("%d paragraph spans for %d paragraphs", len(parts), len(c.Paragraphs))
	}
	for i, s := range parts {
		if s == "-" {
			continue
		}
		o, l, ok := strings.Cut(s, "+")
		off, err1 := strconv.Atoi(o)
		n, err2 := strconv.Atoi(l)
		if !ok || err1 != nil || err2 != nil || off < 0 || n < 0 || off > len(text) || n > len(text)-off {
			return fmt.Errorf("paragraph %d: span %q does not fit a text of %d bytes", i+1, s, len(text))
		}
		if c.Paragraphs[i].Text != "" {
			return fmt.Errorf("paragraph %d: both a span and a text", i+1)
		}
		c.Paragraphs[i].Text = string(text[off : off+n])
	}
	return nil
}
