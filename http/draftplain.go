package http

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	cable "github.com/cable-archive/cable"
)

// readPlainDraft reads a draft as DecodeDraftJSON does, in one pass over
// the body, when the draft is plain: valid JSON, every field one a drafter
// may set, given once and not null, every marking known, every string
// valid UTF-8. It reports false at anything else, without saying why;
// DecodeDraftJSON then reads the body through encoding/json, which names
// every problem. (encoding/json reads the body about five times over: the
// object whole, then each field checked and decoded.)
func readPlainDraft(data []byte) (*cable.Cable, bool) {
	r := plainReader{data: data}
	c := &cable.Cable{}
	seen := make(map[string]bool, len(draftFields))
	ok := r.object(func(key string) bool {
		if seen[key] {
			return false
		}
		seen[key] = true
		return r.draftField(c, key)
	})
	r.space()
	if !ok || r.i != len(r.data) {
		return nil, false
	}
	return c, true
}

// The members of the objects inside a draft, in the order fields takes
// their destinations.
var (
	addresseeMembers = []string{"station", "role"}
	referenceMembers = []string{"text", "id"}
	authorityMembers = []string{"order", "classified_by", "reason", "declassify_on"}
)

// draftField reads the value of the draft's field key into c.
func (r *plainReader) draftField(c *cable.Cable, key string) bool {
	switch key {
	case "station":
		return r.strInto(&c.Station)
	case "subject":
		return r.strInto(&c.Subject)
	case "signature":
		return r.strInto(&c.Signature)
	case "precedence":
		return marking(r, &c.Precedence, cable.ParsePrecedence)
	case "classification":
		return marking(r, &c.Classification, cable.ParseClassification)
	case "captions":
		return r.array(func() bool { return markingOnto(r, &c.Captions, cable.ParseCaption) })
	case "handling":
		return r.array(func() bool { return markingOnto(r, &c.Handling, cable.ParseHandling) })
	case "tags":
		c.Tags = []string{} // as encoding/json fills an empty array
		return r.array(func() bool {
			s, ok := r.str()
			c.Tags = append(c.Tags, s)
			return ok
		})
	case "to":
		return r.array(func() bool {
			var station, role string
			ok := r.fields(addresseeMembers, &station, &role)
			c.To = append(c.To, cable.Addressee{
				Station: strings.ToUpper(strings.TrimSpace(station)),
				Role:    cable.Role(strings.ToLower(strings.TrimSpace(role))),
			})
			return ok
		})
	case "references":
		return r.array(func() bool {
			// A reference is its text alone: the ID a cable's JSON
			// carries is resolved again when the cable is stored.
			var text, id string
			var ok bool
			if r.peek() == '"' {
				text, ok = r.str()
			} else {
				ok = r.fields(referenceMembers, &text, &id)
			}
			c.References = append(c.References, cable.Reference{Text: text})
			return ok
		})
	case "paragraphs":
		return r.array(func() bool {
			p, ok := r.paragraph(len(c.Paragraphs))
			c.Paragraphs = append(c.Paragraphs, p)
			return ok
		})
	case "authority":
		a := &cable.Authority{}
		var declassifyOn string
		if !r.fields(authorityMembers, &a.Order, &a.ClassifiedBy, &a.Reason, &declassifyOn) {
			return false
		}
		var err error
		a.DeclassifyOn, err = cable.ParseDeclassifyOn(declassifyOn)
		c.Authority = a
		return err == nil
	}
	return false
}

// marking reads a string that parse knows into dst.
func marking[T any](r *plainReader, dst *T, parse func(string) (T, error)) bool {
	s, ok := r.str()
	if !ok {
		return false
	}
	v, err := parse(s)
	*dst = v
	return err == nil
}

// markingOnto reads a string that parse knows onto the end of list.
func markingOnto[T any](r *plainReader, list *[]T, parse func(string) (T, error)) bool {
	var v T
	ok := marking(r, &v, parse)
	*list = append(*list, v)
	return ok
}

// paragraph reads the paragraph at index i of the draft's paragraphs. A
// member given twice counts as encoding/json counts it: the last wins.
func (r *plainReader) paragraph(i int) (cable.Paragraph, bool) {
	var p cable.Paragraph
	var class string
	read := r.object(func(key string) bool {
		switch key {
		case "number":
			n, ok := r.integer()
			p.Number = n
			return ok
		case "classification":
			return r.strInto(&class)
		case "text":
			return r.strInto(&p.Text)
		}
		return false
	})
	if p.Number == 0 {
		p.Number = i + 1
	}
	if !read || class == "" {
		return p, read
	}
	v, err := cable.ParseClassification(class)
	if err != nil {
		v, err = cable.ParsePortionMark(class)
	}
	p.Classification = v
	return p, err == nil
}

// plainReader reads the plain JSON of readPlainDraft; each method reports
// false at anything it does not read the way encoding/json would.
type plainReader struct {
	data []byte
	i    int
}

// space skips white space.
func (r *plainReader) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (r *plainReader) peek() byte {
	r.space()
	if r.i < len(r.data) {
		return r.data[r.i]
	}
	return 0
}

// next consumes b if it comes next after white space.
func (r *plainReader) next(b byte) bool {
	if r.peek() == b {
		r.i++
		return true
	}
	return false
}

// object reads an object, calling member for each key with the reader at
// the key's value; member reads the value.
func (r *plainReader) object(member func(key string) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		key, ok := r.str()
		if !ok || !r.next(':') || !member(key) {
			return false
		}
		if !r.next(',') {
			return r.next('}')
		}
	}
}

// fields reads an object whose members are all strings named among
// names, each given once, into the destination of the same index.
func (r *plainReader) fields(names []string, dsts ...*string) bool {
	var seen uint
	return r.object(func(key string) bool {
		i := slices.Index(names, key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		return r.strInto(dsts[i])
	})
}

// array reads an array, calling elem with the reader at each element.
func (r *plainReader) array(elem func() bool) bool {
	if !r.next('[') {
		return false
	}
	if r.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if !r.next(',') {
			return r.next(']')
		}
	}
}

// str reads a string, its escapes as encoding/json reads them. Invalid
// UTF-8, which encoding/json replaces byte by byte, is left to it.
func (r *plainReader) str() (string, bool) {
	if !r.next('"') {
		return "", false
	}
	start, escaped, ascii := r.i, false, true
	for {
		for r.i < len(r.data) && !stringSpecial[r.data[r.i]] {
			r.i++
		}
		if r.i >= len(r.data) {
			return "", false
		}
		c := r.data[r.i]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			if r.i+1 >= len(r.data) || strings.IndexByte(`"\/bfnrtu`, r.data[r.i+1]) < 0 {
				return "", false
			}
			if r.data[r.i+1] == 'u' {
				if hex4(r.data[r.i:]) < 0 {
					return "", false
				}
				r.i += 4
			}
			escaped = true
			r.i++
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	raw := r.data[start:r.i]
	r.i++
	if !ascii && !utf8.Valid(raw) {
		return "", false
	}
	if !escaped {
		return string(raw), true
	}
	b := make([]byte, 0, len(raw))
	for {
		k := bytes.IndexByte(raw, '\\')
		if k < 0 {
			b = append(b, raw...)
			break
		}
		b = append(b, raw[:k]...)
		c := raw[k+1]
		if c == 'u' {
			// As encoding/json reads it: a surrogate pair makes one
			// character, any other surrogate U+FFFD.
			u := hex4(raw[k:])
			raw = raw[k+6:]
			if utf16.IsSurrogate(u) {
				if pair := utf16.DecodeRune(u, hex4(raw)); pair != unicode.ReplacementChar {
					u = pair
					raw = raw[6:]
				} else {
					u = unicode.ReplacementChar
				}
			}
			b = utf8.AppendRune(b, u)
			continue
		}
		switch c {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		}
		b = append(b, c)
		raw = raw[k+2:]
	}
	return string(b), true
}

// strInto reads a string into dst.
func (r *plainReader) strInto(dst *string) bool {
	s, ok := r.str()
	*dst = s
	return ok
}

// hex4 returns the character of the \uXXXX escape at the start of s, -1
// if s does not start with one.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// stringSpecial marks the bytes str must look at: the end of a string,
// the start of an escape, control characters and bytes outside ASCII.
var stringSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

// integer reads a number written as an integer of at most 18 digits.
func (r *plainReader) integer() (int, bool) {
	r.space()
	start := r.i
	if r.i < len(r.data) && r.data[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.data) && r.data[r.i] >= '0' && r.data[r.i] <= '9' {
		r.i++
	}
	n := r.i - digits
	if n == 0 || n > 18 || (n > 1 && r.data[digits] == '0') {
		return 0, false
	}
	if r.i < len(r.data) && strings.IndexByte(".eE", r.data[r.i]) >= 0 {
		return 0, false
	}
	v, err := strconv.Atoi(string(r.data[start:r.i]))
	return v, err == nil
}
