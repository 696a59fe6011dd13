package textform

import (
	"testing"

	cable "github.com/cable-archive/cable"
	"pgregory.net/rapid"
)

// TestIsNormalText checks the fast path against the domain: isNormalText
// holds exactly when cable.Normalize leaves the text unchanged.
func TestIsNormalText(t *testing.T) {
	runes := []rune{'a', 'Z', '1', '.', ' ', ' ', '\n', '\n', '\r', '\t', '\v', '\f', 0x85, 0xA0, 0x2028, 0x3000, 'é', 0xFFFD}
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(rapid.SampledFrom(runes), 0, 12).Draw(t, "runes")
		s := string(rs)
		if rapid.Bool().Draw(t, "invalid utf-8") {
			s += "\xff"
		}
		c := &cable.Cable{Paragraphs: []cable.Paragraph{{Text: s}}}
		cable.Normalize(c)
		if got, want := isNormalText(s), c.Paragraphs[0].Text == s; got != want {
			t.Fatalf("isNormalText(%q) = %v, but Normalize gives %q", s, got, c.Paragraphs[0].Text)
		}
	})
}
