package textform

import (
	"unicode"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// normalize applies cable.Normalize to c. Paragraph text that is already
// in the form Normalize gives it (most text, by far) is left alone, which
// saves most of the time Normalize spends on a cable; the rest goes
// through cable.Normalize itself, so that the domain stays the one
// definition of the normal form.
func normalize(c *cable.Cable) {
	paras := c.Paragraphs
	c.Paragraphs = nil
	cable.Normalize(c)
	c.Paragraphs = paras
	var one cable.Cable
	for i := range paras {
		if !isNormalText(paras[i].Text) {
			one.Paragraphs = paras[i : i+1]
			cable.Normalize(&one)
		}
	}
}

// isNormalText reports whether cable.Normalize leaves paragraph text s
// as it is: lines without leading, trailing or repeated white space, no
// white space but single spaces within them, and no blank lines.
func isNormalText(s string) bool {
	for i := 0; i < len(s); {
		b := s[i]
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				return false
			}
			i += size
			continue
		}
		switch b {
		case ' ':
			if i == 0 || s[i-1] == ' ' || s[i-1] == '\n' || i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n' {
				return false
			}
		case '\n':
			if i == 0 || s[i-1] == '\n' || i+1 == len(s) {
				return false
			}
		case '\t', '\v', '\f', '\r':
			return false
		}
		i++
	}
	return true
}
