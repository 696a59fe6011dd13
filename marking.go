package cable

import (
	"fmt"
	"strings"
)

// Classification is the security classification of a cable or paragraph.
// The zero value is not a valid classification.
type Classification int

// Classifications in ascending order.
const (
	Unclassified Classification = iota + 1
	LimitedOfficialUse
	Confidential
	Secret
	TopSecret
)

var classificationNames = map[Classification]string{
	Unclassified:       "UNCLASSIFIED",
	LimitedOfficialUse: "LIMITED OFFICIAL USE",
	Confidential:       "CONFIDENTIAL",
	Secret:             "SECRET",
	TopSecret:          "TOP SECRET",
}

var portionMarks = map[Classification]string{
	Unclassified:       "U",
	LimitedOfficialUse: "SBU",
	Confidential:       "C",
	Secret:             "S",
	TopSecret:          "TS",
}

// Classifications lists every classification, lowest first.
func Classifications() []Classification {
	return []Classification{Unclassified, LimitedOfficialUse, Confidential, Secret, TopSecret}
}

// String returns the classification as written in a banner: "SECRET".
func (c Classification) String() string {
	if s, ok := classificationNames[c]; ok {
		return s
	}
	return fmt.Sprintf("Classification(%d)", int(c))
}

// Valid reports whether c is a known classification.
func (c Classification) Valid() bool { _, ok := classificationNames[c]; return ok }

// Classified reports whether c is a national security classification
// (CONFIDENTIAL and above); LIMITED OFFICIAL USE is an administrative control.
func (c Classification) Classified() bool { return c >= Confidential }

// PortionMark returns the paragraph mark without parentheses: "S".
func (c Classification) PortionMark() string { return portionMarks[c] }

// ParseClassification reads a classification as written in a banner or
// JSON ("SECRET", "Top Secret", "LOU", "SBU", "U").
func ParseClassification(s string) (Classification, error) {
	t := strings.ToUpper(strings.Join(strings.Fields(s), " "))
	switch t {
	case "UNCLASSIFIED", "U", "UNCLAS":
		return Unclassified, nil
	case "LIMITED OFFICIAL USE", "LOU", "SBU", "SENSITIVE BUT UNCLASSIFIED", "UNCLASSIFIED//SBU":
		return LimitedOfficialUse, nil
	case "CONFIDENTIAL", "C":
		return Confidential, nil
	case "SECRET", "S":
		return Secret, nil
	case "TOP SECRET", "TS":
		return TopSecret, nil
	}
	return 0, Errorf(EINVALID, "unknown classification %q", s)
}

// ParsePortionMark reads a paragraph mark with or without parentheses:
// "(U)", "(SBU)", "(LOU)", "(C)", "(S)", "(TS)".
func ParsePortionMark(s string) (Classification, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimPrefix(t, "("), ")")
	switch t {
	case "U":
		return Unclassified, nil
	case "SBU", "LOU":
		return LimitedOfficialUse, nil
	case "C":
		return Confidential, nil
	case "S":
		return Secret, nil
	case "TS":
		return TopSecret, nil
	}
	return 0, Errorf(EINVALID, "unknown portion mark %q", s)
}

// MarshalText writes the banner form.
func (c Classification) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("invalid classification %d", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads any form ParseClassification accepts.
func (c *Classification) UnmarshalText(b []byte) error {
	v, err := ParseClassification(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Precedence decides the order of service: FLASH before IMMEDIATE before
// PRIORITY before ROUTINE. The zero value is not valid.
type Precedence int

// Precedences, most urgent first.
const (
	Flash Precedence = iota + 1
	Immediate
	Priority
	Routine
)

var precedenceNames = map[Precedence]string{Flash: "FLASH", Immediate: "IMMEDIATE", Priority: "PRIORITY", Routine: "ROUTINE"}
var precedenceProsigns = map[Precedence]string{Flash: "Z", Immediate: "O", Priority: "P", Routine: "R"}

// Precedences lists every precedence, most urgent first.
func Precedences() []Precedence { return []Precedence{Flash, Immediate, Priority, Routine} }

// String returns the precedence word: "IMMEDIATE".
func (p Precedence) String() string {
	if s, ok := precedenceNames[p]; ok {
		return s
	}
	return fmt.Sprintf("Precedence(%d)", int(p))
}

// Valid reports whether p is a known precedence.
func (p Precedence) Valid() bool { _, ok := precedenceNames[p]; return ok }

// Prosign returns the one-letter prosign: Z, O, P or R.
func (p Precedence) Prosign() string { return precedenceProsigns[p] }

// ParsePrecedence reads a precedence word or prosign.
func ParsePrecedence(s string) (Precedence, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "FLASH", "Z":
		return Flash, nil
	case "IMMEDIATE", "O", "IMMED":
		return Immediate, nil
	case "PRIORITY", "P":
		return Priority, nil
	case "ROUTINE", "R":
		return Routine, nil
	}
	return 0, Errorf(EINVALID, "unknown precedence %q", s)
}

// MarshalText writes the precedence word.
func (p Precedence) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid precedence %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a precedence word or prosign.
func (p *Precedence) UnmarshalText(b []byte) error {
	v, err := ParsePrecedence(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Caption is a distribution control. A caption is a key: only people who
// hold it read a cable that carries it.
type Caption string

// Captions in the order they are written.
const (
	NODIS  Caption = "NODIS"
	EXDIS  Caption = "EXDIS"
	LIMDIS Caption = "LIMDIS"
	STADIS Caption = "STADIS"
)

// AllCaptions lists every caption in canonical order.
func AllCaptions() []Caption { return []Caption{NODIS, EXDIS, LIMDIS, STADIS} }

// Valid reports whether c is a known caption.
func (c Caption) Valid() bool { return captionBit(c) != 0 }

// CaptionMask returns a bit set of captions, used by stores to filter
// without parsing: a reader may see a cable when mask(cable) &^ mask(reader) == 0.
func CaptionMask(cs []Caption) int64 {
	var m int64
	for _, c := range cs {
		m |= captionBit(c)
	}
	return m
}

func captionBit(c Caption) int64 {
	switch c {
	case NODIS:
		return 1
	case EXDIS:
		return 2
	case LIMDIS:
		return 4
	case STADIS:
		return 8
	}
	return 0
}

// ParseCaption reads a caption, case-insensitively.
func ParseCaption(s string) (Caption, error) {
	c := Caption(strings.ToUpper(strings.TrimSpace(s)))
	if !c.Valid() {
		return "", Errorf(EINVALID, "unknown caption %q", s)
	}
	return c, nil
}

// SortCaptions puts captions in canonical order and drops duplicates.
func SortCaptions(cs []Caption) []Caption {
	var out []Caption
	for _, c := range AllCaptions() {
		for _, d := range cs {
			if c == d {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Handling is a handling instruction carried with a cable.
type Handling string

// Handling instructions in canonical order.
const (
	NIACT                 Handling = "NIACT"
	NOFORN                Handling = "NOFORN"
	NoParaphraseNecessary Handling = "NO PARAPHRASE NECESSARY"
)

// AllHandling lists every handling instruction in canonical order.
func AllHandling() []Handling { return []Handling{NIACT, NOFORN, NoParaphraseNecessary} }

// Valid reports whether h is a known handling instruction.
func (h Handling) Valid() bool {
	for _, k := range AllHandling() {
		if h == k {
			return true
		}
	}
	return false
}

// ParseHandling reads a handling instruction, case- and space-insensitively.
func ParseHandling(s string) (Handling, error) {
	h := Handling(strings.ToUpper(strings.Join(strings.Fields(s), " ")))
	if h == "NO PARAPHRASE" {
		h = NoParaphraseNecessary
	}
	if !h.Valid() {
		return "", Errorf(EINVALID, "unknown handling instruction %q", s)
	}
	return h, nil
}

// SortHandling puts handling instructions in canonical order and drops duplicates.
func SortHandling(hs []Handling) []Handling {
	var out []Handling
	for _, k := range AllHandling() {
		for _, h := range hs {
			if h == k {
				out = append(out, k)
				break
			}
		}
	}
	return out
}
