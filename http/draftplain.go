package http

import (
	"bytes"
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
// every problem. encoding/json reads a 4 KB draft about five times over
// (the object whole, then each field checked and decoded); this is most
// of the API's cost of a release.
func readPlainDraft(data []byte) (*cable.Cable, bool) {
	r := plainReader{data: data}
	c := &cable.Cable{}
	seen := map[string]bool{}
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

// draftField reads the value of the draft's field key into c.
func (r *plainReader) draftField(c *cable.Cable, key string) bool {
	var err error
	switch key {
	case "station":
		c.Station, err = r.str()
	case "subject":
		c.Subject, err = r.str()
	case "signature":
		c.Signature, err = r.str()
	case "precedence":
		var s string
		if s, err = r.str(); err == nil {
			c.Precedence, err = cable.ParsePrecedence(s)
		}
	case "classification":
		var s string
		if s, err = r.str(); err == nil {
			c.Classification, err = cable.ParseClassification(s)
		}
	case "captions":
		return r.array(func() bool {
			s, err := r.str()
			k, perr := cable.ParseCaption(s)
			c.Captions = append(c.Captions, k)
			return err == nil && perr == nil
		})
	case "handling":
		return r.array(func() bool {
			s, err := r.str()
			h, perr := cable.ParseHandling(s)
			c.Handling = append(c.Handling, h)
			return err == nil && perr == nil
		})
	case "tags":
		c.Tags = []string{} // as encoding/json fills an empty array
		return r.array(func() bool {
			s, err := r.str()
			c.Tags = append(c.Tags, s)
			return err == nil
		})
	case "to":
		return r.array(func() bool {
			var station, role string
			ok := r.fields(map[string]*string{"station": &station, "role": &role})
			c.To = append(c.To, cable.Addressee{
				Station: strings.ToUpper(strings.TrimSpace(station)),
				Role:    cable.Role(strings.ToLower(strings.TrimSpace(role))),
			})
			return ok
		})
	case "references":
		return r.array(func() bool {
			var ref cable.Reference
			if r.peek() == '"' {
				ref.Text, err = r.str()
			} else if !r.fields(map[string]*string{"text": &ref.Text, "id": &ref.ID}) {
				return false
			}
			c.References = append(c.References, cable.Reference{Text: ref.Text})
			return err == nil
		})
	case "paragraphs":
		return r.array(func() bool {
			p, ok := r.paragraph(len(c.Paragraphs))
			c.Paragraphs = append(c.Paragraphs, p)
			return ok
		})
	case "authority":
		var a cable.Authority
		var declassifyOn string
		if !r.fields(map[string]*string{"order": &a.Order, "classified_by": &a.ClassifiedBy, "reason": &a.Reason, "declassify_on": &declassifyOn}) {
			return false
		}
		a.DeclassifyOn, err = cable.ParseDeclassifyOn(declassifyOn)
		c.Authority = &a
	default:
		return false
	}
	return err == nil
}

// paragraph reads the paragraph at index i of the draft's paragraphs. A
// member given twice counts as encoding/json counts it: the last wins.
func (r *plainReader) paragraph(i int) (cable.Paragraph, bool) {
	var p cable.Paragraph
	var class string
	ok := r.object(func(key string) bool {
		var err error
		switch key {
		case "number":
			var ok bool
			p.Number, ok = r.integer()
			return ok
		case "classification":
			class, err = r.str()
		case "text":
			p.Text, err = r.str()
		default:
			return false
		}
		return err == nil
	})
	if p.Number == 0 {
		p.Number = i + 1
	}
	if !ok || class == "" {
		return p, ok
	}
	v, err := cable.ParseClassification(class)
	if err != nil {
		v, err = cable.ParsePortionMark(class)
	}
	p.Classification = v
	return p, err == nil
}

// plainReader reads the plain JSON of readPlainDraft; each method reports
// false (or errPlain) at anything it does not read the way encoding/json
// would.
type plainReader struct {
	data []byte
	i    int
}

// errPlain is any value the reader leaves to encoding/json.
var errPlain = cable.Errorf(cable.EINVALID, "not a plain draft")

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
		key, err := r.str()
		if err != nil || !r.next(':') || !member(key) {
			return false
		}
		if !r.next(',') {
			return r.next('}')
		}
	}
}

// fields reads an object whose members are all strings among fields,
// each given once.
func (r *plainReader) fields(fields map[string]*string) bool {
	seen := make(map[string]bool, len(fields))
	return r.object(func(key string) bool {
		dst, ok := fields[key]
		if !ok || seen[key] {
			return false
		}
		seen[key] = true
		s, err := r.str()
		*dst = s
		return err == nil
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
func (r *plainReader) str() (string, error) {
	if !r.next('"') {
		return "", errPlain
	}
	start, escaped, ascii := r.i, false, true
	for {
		for r.i < len(r.data) && !stringSpecial[r.data[r.i]] {
			r.i++
		}
		if r.i >= len(r.data) {
			return "", errPlain
		}
		c := r.data[r.i]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			if r.i+1 >= len(r.data) || strings.IndexByte(`"\/bfnrtu`, r.data[r.i+1]) < 0 {
				return "", errPlain
			}
			if r.data[r.i+1] == 'u' {
				if hex4(r.data[r.i:]) < 0 {
					return "", errPlain
				}
				r.i += 4
			}
			escaped = true
			r.i++
		case c < 0x20:
			return "", errPlain
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	raw := r.data[start:r.i]
	r.i++
	if !ascii && !utf8.Valid(raw) {
		return "", errPlain
	}
	if !escaped {
		return string(raw), nil
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
	return string(b), nil
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
