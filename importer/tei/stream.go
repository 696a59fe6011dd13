package tei

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is an element or a run of text of one document, as read from the
// stream. Only one document's nodes are held at a time.
type node struct {
	name     string // local name; "" for text
	attrs    []xml.Attr
	children []*node
	text     string
}

func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// Limits on one document, so that hostile input cannot exhaust memory.
const (
	maxDocumentNodes = 1 << 20
	maxDocumentText  = 32 << 20
	maxDepth         = 256
	maxTagScan       = 1 << 16
)

// source is the input as bytes, with bytes pushed back in front: after a
// syntax error the reader skips to the next document and a new decoder
// starts there.
type source struct {
	pre []byte
	r   *bufio.Reader
	err error // the first read error other than io.EOF
	// newlines counts the line breaks read from r, so that line numbers
	// stay right across decoders.
	newlines int
}

func (s *source) ReadByte() (byte, error) {
	if len(s.pre) > 0 {
		b := s.pre[0]
		s.pre = s.pre[1:]
		return b, nil
	}
	b, err := s.r.ReadByte()
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	if b == '\n' && err == nil {
		s.newlines++
	}
	return b, err
}

func (s *source) Read(p []byte) (int, error) {
	if len(s.pre) > 0 {
		n := copy(p, s.pre)
		s.pre = s.pre[n:]
		return n, nil
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	s.newlines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}

// skipToDocument reads forward to the next start tag of a
// div type="document" and pushes it back, so that a new decoder begins
// with it. It reports false at the end of the input, and the number of
// lines before the tag.
func (s *source) skipToDocument() (int, bool) {
	window := make([]byte, 0, 8)
	for {
		b, err := s.ReadByte()
		if err != nil {
			return 0, false
		}
		if b != '<' {
			continue
		}
		window = window[:0]
		window = append(window, '<')
		ok := true
		for _, want := range []byte("div") {
			c, err := s.ReadByte()
			if err != nil {
				return 0, false
			}
			window = append(window, c)
			if c != want {
				ok = false
				break
			}
		}
		if !ok {
			if window[len(window)-1] == '<' {
				s.pre = append([]byte{'<'}, s.pre...)
			}
			continue
		}
		tag := append([]byte(nil), window...)
		for len(tag) < maxTagScan {
			c, err := s.ReadByte()
			if err != nil {
				return 0, false
			}
			tag = append(tag, c)
			if c == '>' {
				break
			}
		}
		if isDocumentTag(tag) {
			s.pre = append(tag, s.pre...)
			return s.newlines - bytes.Count(tag, []byte{'\n'}), true
		}
	}
}

func isDocumentTag(tag []byte) bool {
	if len(tag) < 5 || (tag[4] != ' ' && tag[4] != '\n' && tag[4] != '\t' && tag[4] != '\r') {
		return false
	}
	t := bytes.Join(bytes.Fields(tag), []byte(" "))
	return bytes.Contains(t, []byte(`type="document"`)) || bytes.Contains(t, []byte(`type='document'`)) ||
		bytes.Contains(t, []byte(`type = "document"`))
}

func newDecoder(s *source) *xml.Decoder {
	d := xml.NewDecoder(s)
	d.Strict = true
	// FRUS files use numeric references and UTF-8, but a volume edited by
	// hand may carry an HTML entity; it is read, not refused.
	d.Entity = xml.HTMLEntity
	return d
}

// structuralError is a document whose elements do not nest.
type structuralError struct{ msg string }

func (e *structuralError) Error() string { return e.msg }

// collect reads the element whose start tag was just read, with
// everything inside it, into a tree.
func collect(d *xml.Decoder, start xml.StartElement) (*node, error) {
	root := &node{name: start.Name.Local, attrs: copyAttrs(start.Attr)}
	stack := []*node{root}
	nodes, text := 1, 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			if err == io.EOF {
				return nil, &xml.SyntaxError{Msg: fmt.Sprintf("unexpected end of input inside <%s>", stack[len(stack)-1].name), Line: 0}
			}
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: copyAttrs(t.Attr)}
			top.children = append(top.children, n)
			stack = append(stack, n)
			nodes++
			if len(stack) > maxDepth {
				return nil, &structuralError{fmt.Sprintf("elements nested more than %d deep", maxDepth)}
			}
		case xml.EndElement:
			if t.Name.Local != top.name {
				return nil, &structuralError{fmt.Sprintf("end tag </%s> where </%s> was expected", qualified(t.Name), top.name)}
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return root, nil
			}
		case xml.CharData:
			top.children = append(top.children, &node{text: string(t)})
			nodes++
			text += len(t)
		}
		if nodes > maxDocumentNodes || text > maxDocumentText {
			return nil, &structuralError{"document too large"}
		}
	}
}

func qualified(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func copyAttrs(as []xml.Attr) []xml.Attr {
	if len(as) == 0 {
		return nil
	}
	return append([]xml.Attr(nil), as...)
}

// isSyntax reports whether err is the decoder's complaint about the
// input rather than a failure to read it.
func isSyntax(err error) bool {
	var se *xml.SyntaxError
	return errors.As(err, &se)
}

func syntaxReason(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if se.Line > 0 {
			return fmt.Sprintf("malformed XML at line %d: %s", se.Line, se.Msg)
		}
		return "malformed XML: " + se.Msg
	}
	return strings.TrimPrefix(err.Error(), "xml: ")
}
