// Package textform reads and writes the canonical text form of a cable,
// modelled on the State Department telegrams of the 1970s-2000s:
//
//	O 221800Z FEB 46
//	FM AMEMBASSY MOSCOW
//	TO SECSTATE WASHDC
//	BT
//	S E C R E T MOSCOW 00511
//	E.O. 13526: DECL: 02/22/1971
//	TAGS: PREL, PGOV, UR
//	SUBJECT: SOVIET POSTWAR OUTLOOK
//	CLASSIFIED BY: GEORGE F. KENNAN, CHARGE D'AFFAIRES. REASON: 1.4 (B) AND (D)
//
//	1. (S) ...
//
//	KENNAN
//	BT
//
// Render writes exactly one text for a cable; Parse reads that text back
// and also the variations found in archive copies of real telegrams (the
// 2000s transmission header, routing indicators, page headers, unspaced
// banners, unmarked paragraphs). docs/format.md holds the grammar.
package textform

import (
	cable "github.com/cable-archive/cable"
)

// MaxTextSize is the largest text Parse accepts: 50 MB.
const MaxTextSize = 50 << 20

// Form reads and writes the canonical text form. It maps the addresses
// written in FM, TO and INFO lines ("AMEMBASSY MOSCOW", "SECSTATE
// WASHDC") to station codes through Directory; with a nil Directory the
// addresses are the station codes themselves.
type Form struct {
	Directory *cable.Directory
}

// New returns a Form that resolves addresses through dir.
func New(dir *cable.Directory) *Form { return &Form{Directory: dir} }

var _ cable.TextForm = (*Form)(nil)

// Message is one transmitted text: a cable, or one section of a cable cut
// for transmission ("SECTION 01 OF 05" on the classification line).
type Message struct {
	Cable *cable.Cable
	// Section and Sections are 0, 0 when the text is not sectioned.
	Section, Sections int
}

// Parse reads a released cable or, with draft, a draft without serial and
// date-time group. It reports every problem it finds as an *cable.Error
// with code EINVALID whose problems name the line ("line 7") or the
// missing field ("precedence"). Parse does not validate the cable: the
// caller runs cable.Validate. The cable returned is normalized
// (cable.Normalize).
func (f *Form) Parse(text []byte, draft bool) (*cable.Cable, error) {
	m, err := f.ParseMessage(text, draft)
	if err != nil {
		return nil, err
	}
	return m.Cable, nil
}

// ParseMessage is Parse that also returns the SECTION marker of the
// classification line.
func (f *Form) ParseMessage(text []byte, draft bool) (*Message, error) {
	if len(text) > MaxTextSize {
		return nil, &cable.Error{
			Code:     cable.EINVALID,
			Message:  "cable text is too large",
			Problems: []cable.Problem{{Field: "text", Message: "the text is larger than 50 MB"}},
		}
	}
	p := &parser{form: f, draft: draft}
	return p.parse(text)
}

// Render writes the canonical text form of c. A cable without serial and
// date-time group is written as a draft. Render normalizes a copy of c
// first, so that every valid cable has one text; it fails only when c
// holds something the text form cannot carry (an unknown precedence or
// classification, a station missing from the directory, a line break in
// a one-line field), naming every such problem.
func (f *Form) Render(c *cable.Cable) ([]byte, error) {
	return f.render(c, 0, 0)
}

// RenderMessage writes m's cable with the SECTION marker of m on the
// classification line (none when Section and Sections are 0).
func (f *Form) RenderMessage(m *Message) ([]byte, error) {
	if m == nil {
		return nil, cable.Errorf(cable.EINVALID, "no message")
	}
	return f.render(m.Cable, m.Section, m.Sections)
}
