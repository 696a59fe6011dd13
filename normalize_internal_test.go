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

// collapseByFields is collapseParagraph as it was first written, line by
// line with strings.Fields: the definition the one-pass version keeps to.
func collapseByFields(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// TestCollapseParagraph checks the one-pass collapse against the line by
// line definition, on texts made of the characters where they could part.
func TestCollapseParagraph(t *testing.T) {
	runes := []rune{'a', 'Z', '1', '.', ' ', ' ', '\n', '\n', '\r', '\r', '\t', '\v', '\f', 0x85, 0xA0, 0x2028, 0x3000, 'é', 0xFFFD}
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(rapid.SampledFrom(runes), 0, 16).Draw(t, "runes")
		s := string(rs)
		if rapid.Bool().Draw(t, "invalid utf-8") {
			i := rapid.IntRange(0, len(s)).Draw(t, "at")
			s = s[:i] + "\xff" + s[i:]
		}
		if got, want := collapseParagraph(s), collapseByFields(s); got != want {
			t.Fatalf("collapseParagraph(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestNormalizeParagraph checks normalizeParagraph, with its fast paths,
// against the line by line definition.
func TestNormalizeParagraph(t *testing.T) {
	runes := []rune{'a', 'Z', '.', ' ', ' ', '\n', '\n', '\r', '\t', 0x85, 0xA0, 0x2028, 'é', 0xFFFD}
	rapid.Check(t, func(t *rapid.T) {
		s := string(rapid.SliceOfN(rapid.SampledFrom(runes), 0, 12).Draw(t, "runes"))
		if rapid.Bool().Draw(t, "invalid utf-8") {
			i := rapid.IntRange(0, len(s)).Draw(t, "at")
			s = s[:i] + "\xff" + s[i:]
		}
		if got, want := normalizeParagraph(s), collapseByFields(s); got != want {
			t.Fatalf("normalizeParagraph(%q) = %q, want %q", s, got, want)
		}
	})
	// The trimmed fast path, on text a form sends.
	for s, want := range map[string]string{
		"Text ends with a space. ":     "Text ends with a space.",
		"\r\n  Line one\nline two\r\n": "Line one\nline two",
		"\u00a0word\u2028":             "word",
	} {
		if got := normalizeParagraph(s); got != want {
			t.Errorf("normalizeParagraph(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzCollapseParagraph(f *testing.F) {
	for _, s := range []string{"", " a  b ", "a\r\n\r\nb", "\xff \u2028x\u00a0", "a\rb\n\n c \n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := collapseParagraph(s), collapseByFields(s); got != want {
			t.Fatalf("collapseParagraph(%q) = %q, want %q", s, got, want)
		}
		if got, want := normalizeParagraph(s), collapseByFields(s); got != want {
			t.Fatalf("normalizeParagraph(%q) = %q, want %q", s, got, want)
		}
	})
}

// untidyParagraph is about 4 KB of paragraph text as pasted from elsewhere:
// lines broken with CRLF, doubled spaces, indentation.
func untidyParagraph() string {
	var b strings.Builder
	for i := 0; b.Len() < 4096; i++ {
		b.WriteString("  the embassy  reports that the ministry of foreign affairs has taken note\r\n")
		if i%5 == 4 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

func BenchmarkCollapseParagraph(b *testing.B) {
	s := untidyParagraph()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		collapseParagraph(s)
	}
}

// BenchmarkCollapseParagraphBaselineFields is the line by line version on
// the same text.
func BenchmarkCollapseParagraphBaselineFields(b *testing.B) {
	s := untidyParagraph()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		collapseByFields(s)
	}
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

// BenchmarkNormalizeTrailingSpace is Normalize on paragraphs each ending
// in a space, as text joined sentence by sentence often does; the
// baseline below is the same rebuilt.
func BenchmarkNormalizeTrailingSpace(b *testing.B) {
	c := benchParagraphs()
	for i := range c.Paragraphs {
		c.Paragraphs[i].Text += " "
	}
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

// BenchmarkIsNormalParagraph checks about 4 KB of paragraph text in the
// normal form, the fast path of Normalize; the baseline is the same bytes
// scanned for a newline, the least a check can do.
func BenchmarkIsNormalParagraph(b *testing.B) {
	s := normalParagraph()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if !isNormalParagraph(s) {
			b.Fatal("not normal")
		}
	}
}

func BenchmarkIsNormalParagraphBaselineIndexByte(b *testing.B) {
	s := normalParagraph()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if strings.IndexByte(s, 0) >= 0 {
			b.Fatal("a NUL")
		}
	}
}

func normalParagraph() string {
	s := strings.Repeat("the embassy reports that the ministry of foreign affairs has taken note of the proposal\n", 48)
	return s[:len(s)-1]
}
