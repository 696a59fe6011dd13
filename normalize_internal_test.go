package cable

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestIsNormalParagraph checks the fast path of Normalize against the slow
// one: isNormalParagraph holds exactly when collapseParagraph leaves the
// text unchanged.
func TestIsNormalParagraph(t *testing.T) {
	runes := []rune{'a', 'Z', '1', '.', ' ', ' ', '\n', '\n', '\r', '\t', '\v', '\f', 0x85, 0xA0, 0x2028, 0x3000, 'é', 0xFFFD}
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(rapid.SampledFrom(runes), 0, 12).Draw(t, "runes")
		s := string(rs)
		if rapid.Bool().Draw(t, "invalid utf-8") {
			s += "\xff"
		}
		if got, want := isNormalParagraph(s), collapseParagraph(s) == s; got != want {
			t.Fatalf("isNormalParagraph(%q) = %v, but collapseParagraph gives %q", s, got, collapseParagraph(s))
		}
	})
}

// benchParagraphs is about 4 KB of paragraph text in the normal form, as
// drafted text mostly is.
func benchParagraphs() *Cable {
	words := strings.Fields("the embassy reports that the ministry of foreign affairs has taken note of the proposal and will reply in writing after consultation with the council")
	c := &Cable{Subject: "Normalize", Authority: &Authority{Order: "13526", Reason: "1.4 (B) AND (D)"}}
	for p := range 8 {
		var b strings.Builder
		for i := range 80 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[(p*7+i)%len(words)])
		}
		c.Paragraphs = append(c.Paragraphs, Paragraph{Number: p + 1, Classification: Confidential, Text: b.String()})
	}
	return c
}

func BenchmarkNormalize(b *testing.B) {
	c := benchParagraphs()
	for b.Loop() {
		Normalize(c.Clone())
	}
}

// BenchmarkNormalizeBaselineCollapse rebuilds every paragraph as Normalize
// did before its fast path, on the same cable.
func BenchmarkNormalizeBaselineCollapse(b *testing.B) {
	c := benchParagraphs()
	for b.Loop() {
		d := c.Clone()
		for i := range d.Paragraphs {
			d.Paragraphs[i].Text = collapseParagraph(d.Paragraphs[i].Text)
		}
	}
}
