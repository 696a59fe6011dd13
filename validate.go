package cable

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxDeclassificationYears is the longest a cable may stay classified
// without an exemption code: 25 years from its date-time group.
const MaxDeclassificationYears = 25

// ValidateOptions say against what a cable is checked.
type ValidateOptions struct {
	// Directory, when set, checks that every station is known.
	Directory *Directory
	// Drafter, when set, may not mark above their clearance or apply a
	// caption they do not hold, and drafts for their own station.
	Drafter *User
	// At is the release time for a draft without a date-time group.
	At time.Time
	// Draft means the serial and date-time group are not yet assigned.
	Draft bool
}

// Validate applies the checks a message centre would and names every
// problem by field. It returns nil or an *Error with code EINVALID.
func Validate(c *Cable, o ValidateOptions) error {
	var ps Problems
	if c == nil {
		ps.Add("", "no cable")
		return ps.Err("invalid cable")
	}

	// Origin, identity and release fields.
	if !ValidStationCode(c.Station) {
		ps.Add("station", "station code %q must be 2-20 upper-case letters", c.Station)
	} else if o.Directory != nil {
		if _, err := o.Directory.Station(c.Station); err != nil {
			ps.Add("station", "unknown station %q", c.Station)
		}
	}
	if o.Drafter != nil && c.Station != o.Drafter.Station {
		ps.Add("station", "%s drafts for %s, not %s", o.Drafter.Name, o.Drafter.Station, c.Station)
	}
	if !o.Draft {
		if c.Serial < 1 || c.Serial > 999999 {
			ps.Add("serial", "serial must be 1 to 999999")
		}
		if c.DTG.IsZero() {
			ps.Add("dtg", "a released cable needs a date-time group")
		}
		if c.ID != "" && !c.DTG.IsZero() && c.ID != Identifier(c.DTG.Year(), c.Station, c.Serial) {
			ps.Add("id", "identifier %q does not match year, station and serial (%s)", c.ID, Identifier(c.DTG.Year(), c.Station, c.Serial))
		}
	}

	// Precedence and addressees.
	if !c.Precedence.Valid() {
		ps.Add("precedence", "precedence must be FLASH, IMMEDIATE, PRIORITY or ROUTINE")
	}
	if len(c.To) == 0 || len(c.Addressees(RoleAction)) == 0 {
		ps.Add("to", "at least one action addressee is required")
	}
	seen := map[string]bool{}
	for i, a := range c.To {
		f := fmt.Sprintf("to[%d]", i)
		if a.Role != RoleAction && a.Role != RoleInfo {
			ps.Add(f+".role", "role must be action or info")
		}
		if !ValidStationCode(a.Station) {
			ps.Add(f+".station", "station code %q must be 2-20 upper-case letters", a.Station)
			continue
		}
		if o.Directory != nil {
			if st, err := o.Directory.Station(a.Station); err != nil {
				ps.Add(f+".station", "unknown station %q", a.Station)
			} else if st.Kind == Relay {
				ps.Add(f+".station", "%s is a relay and cannot be addressed", a.Station)
			}
		}
		if a.Station == c.Station {
			ps.Add(f+".station", "a station does not address itself")
		}
		if seen[a.Station] {
			ps.Add(f+".station", "%s is addressed more than once", a.Station)
		}
		seen[a.Station] = true
	}

	// Markings.
	if !c.Classification.Valid() {
		ps.Add("classification", "classification must be UNCLASSIFIED, LIMITED OFFICIAL USE, CONFIDENTIAL, SECRET or TOP SECRET")
	}
	for i, k := range c.Captions {
		if !k.Valid() {
			ps.Add(fmt.Sprintf("captions[%d]", i), "unknown caption %q (want NODIS, EXDIS, LIMDIS or STADIS)", string(k))
		}
	}
	if len(c.Captions) > 0 && c.Classification.Valid() && !c.Classification.Classified() {
		ps.Add("captions", "captions go only on classified cables (CONFIDENTIAL and above)")
	}
	if c.HasCaption(NODIS) && c.HasCaption(EXDIS) {
		ps.Add("captions", "NODIS and EXDIS exclude each other")
	}
	for i, h := range c.Handling {
		if !h.Valid() {
			ps.Add(fmt.Sprintf("handling[%d]", i), "unknown handling instruction %q (want NIACT, NOFORN or NO PARAPHRASE NECESSARY)", string(h))
		}
	}
	if c.HasHandling(NOFORN) && c.Classification.Valid() && !c.Classification.Classified() {
		ps.Add("handling", "NOFORN goes only on classified cables")
	}
	if c.HasHandling(NIACT) && c.Precedence != Flash && c.Precedence != Immediate && c.Precedence.Valid() {
		ps.Add("handling", "NIACT goes only with IMMEDIATE or FLASH precedence")
	}
	if o.Drafter != nil {
		if c.Classification.Valid() && c.Classification > o.Drafter.Clearance {
			ps.Add("classification", "%s is cleared to %s and may not mark a cable %s", o.Drafter.Name, o.Drafter.Clearance, c.Classification)
		}
		for i, p := range c.Paragraphs {
			if p.Classification.Valid() && p.Classification > o.Drafter.Clearance {
				ps.Add(fmt.Sprintf("paragraphs[%d].classification", i), "%s is cleared to %s and may not mark a paragraph %s", o.Drafter.Name, o.Drafter.Clearance, p.Classification)
			}
		}
		for _, k := range c.Captions {
			if k.Valid() && !o.Drafter.HoldsCaption(k) {
				ps.Add("captions", "%s does not hold %s and may not apply it", o.Drafter.Name, k)
			}
		}
	}

	// Subject, tags, references.
	if strings.TrimSpace(c.Subject) == "" {
		ps.Add("subject", "a subject is required")
	} else if len(c.Subject) > 400 {
		ps.Add("subject", "subject is longer than 400 characters")
	} else if strings.ContainsAny(c.Subject, "\r\n") {
		ps.Add("subject", "subject is one line")
	}
	if len(c.Tags) == 0 {
		ps.Add("tags", "at least one tag is required (PREL, PGOV, ECON ...)")
	}
	for i, t := range c.Tags {
		if !tagPattern.MatchString(t) {
			ps.Add(fmt.Sprintf("tags[%d]", i), "tag %q must be letters and digits (PREL, UR) or a decimal file code (861.00)", t)
		}
	}
	for i, r := range c.References {
		if _, err := ParseReference(r.Text); err != nil {
			ps.Add(fmt.Sprintf("references[%d]", i), "%s", ErrorMessage(err))
		}
	}

	// Paragraphs.
	if len(c.Paragraphs) == 0 {
		ps.Add("paragraphs", "at least one paragraph is required")
	}
	for i, p := range c.Paragraphs {
		f := fmt.Sprintf("paragraphs[%d]", i)
		if p.Number != i+1 {
			ps.Add(f+".number", "paragraph %d is numbered %d", i+1, p.Number)
		}
		if !p.Classification.Valid() {
			ps.Add(f+".classification", "each paragraph needs a portion mark: (U), (SBU), (C), (S) or (TS)")
		}
		if strings.TrimSpace(p.Text) == "" {
			ps.Add(f+".text", "paragraph %d is empty", i+1)
		}
	}
	if hi := c.HighestPortion(); c.Classification.Valid() && hi.Valid() && c.Classification < hi {
		ps.Add("classification", "the cable is marked %s but paragraph holds %s; the whole is at least its highest paragraph", c.Classification, hi)
	}
	if strings.TrimSpace(c.Signature) == "" {
		ps.Add("signature", "a signature is required")
	} else if strings.ContainsAny(c.Signature, "\r\n") {
		ps.Add("signature", "signature is one line")
	}

	// Authority block.
	validateAuthority(c, o, &ps)
	return ps.Err("invalid cable")
}

var tagPattern = regexp.MustCompile(`^(?:[A-Z][A-Z0-9]{1,11}|\d{3}(?:\.[0-9A-Z/ -]{1,20})?)$`)

func validateAuthority(c *Cable, o ValidateOptions, ps *Problems) {
	if !c.Classification.Valid() {
		return
	}
	a := c.Authority
	if !c.Classification.Classified() {
		if a != nil && (a.ClassifiedBy != "" || a.Reason != "" || !a.DeclassifyOn.IsZero()) {
			ps.Add("authority", "a %s cable carries no classification authority block", c.Classification)
		}
		return
	}
	if a == nil {
		ps.Add("authority", "a classified cable needs an authority block: classified by, reason, declassify on")
		return
	}
	if strings.TrimSpace(a.ClassifiedBy) == "" {
		ps.Add("authority.classified_by", "name who classified the cable")
	} else if strings.ContainsAny(a.ClassifiedBy, "\r\n") {
		ps.Add("authority.classified_by", "classified by is one line")
	}
	if _, err := ParseReason(a.Reason); err != nil {
		ps.Add("authority.reason", "%s", ErrorMessage(err))
	}
	d := a.DeclassifyOn
	at := c.DTG
	if at.IsZero() {
		at = o.At
	}
	switch {
	case d.IsZero():
		ps.Add("authority.declassify_on", "give a date, an event, or an exemption code")
	case d.Exemption != "":
		if !IsExemptionCode(d.Exemption) {
			ps.Add("authority.declassify_on", "unknown exemption code %q", d.Exemption)
		}
	case !d.Date.IsZero() && !at.IsZero():
		limit := at.UTC().AddDate(MaxDeclassificationYears, 0, 0)
		if d.Date.After(limit) {
			ps.Add("authority.declassify_on", "%s is more than %d years after the date-time group; the latest is %s unless an exemption code is given", d.Date.Format(time.DateOnly), MaxDeclassificationYears, limit.Format(time.DateOnly))
		}
		if d.Date.Before(truncateDay(at)) {
			ps.Add("authority.declassify_on", "%s is before the cable's date", d.Date.Format(time.DateOnly))
		}
	case d.Event != "":
		if strings.ContainsAny(d.Event, "\r\n") || len(d.Event) > 200 {
			ps.Add("authority.declassify_on", "an event is one line of at most 200 characters")
		}
	}
	if a.Order != "" && !orderPattern.MatchString(a.Order) {
		ps.Add("authority.order", "executive order %q is malformed (want digits: 13526)", a.Order)
	}
}

var orderPattern = regexp.MustCompile(`^\d{5}$`)

func truncateDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ReferenceTarget is what a reference points at.
type ReferenceTarget struct {
	// Year is 0 when the reference does not say (the year is then the
	// referring cable's, or the one before).
	Year    int
	Station string
	Serial  int
}

var refPattern = regexp.MustCompile(`^(?:(\d{2}|\d{4})\s+)?([A-Z]{2,20})\s+(\d{1,6})$`)

// ParseReference reads a reference as the field writes it: "STATE 284",
// "MOSCOW 00511", "76 STATE 12345", or a full identifier "1946MOSCOW00511".
func ParseReference(text string) (ReferenceTarget, error) {
	t := strings.ToUpper(strings.Join(strings.Fields(text), " "))
	if y, st, n, err := ParseIdentifier(t); err == nil {
		if n == 0 {
			return ReferenceTarget{}, Errorf(EINVALID, "reference %q has serial 0", text)
		}
		return ReferenceTarget{Year: y, Station: st, Serial: n}, nil
	}
	m := refPattern.FindStringSubmatch(t)
	if m == nil {
		return ReferenceTarget{}, Errorf(EINVALID, "reference %q is not STATION NUMBER (STATE 284) or an identifier (1946STATE00284)", text)
	}
	r := ReferenceTarget{Station: m[2]}
	r.Serial, _ = strconv.Atoi(m[3])
	if m[1] != "" {
		r.Year, _ = strconv.Atoi(m[1])
		if len(m[1]) == 2 {
			if r.Year >= 30 {
				r.Year += 1900
			} else {
				r.Year += 2000
			}
		}
	}
	if r.Serial == 0 {
		return ReferenceTarget{}, Errorf(EINVALID, "reference %q has serial 0", text)
	}
	return r, nil
}

// Candidates returns the identifiers a reference may resolve to, most
// likely first, for a cable dated in year.
func (r ReferenceTarget) Candidates(year int) []string {
	if r.Year != 0 {
		return []string{Identifier(r.Year, r.Station, r.Serial)}
	}
	return []string{Identifier(year, r.Station, r.Serial), Identifier(year-1, r.Station, r.Serial)}
}

// Normalize puts a cable's free-form fields in canonical form: trimmed
// text, upper-case tags and codes, captions and handling in canonical
// order without duplicates, the reason as the field writes it. Render and
// parse of a normalized valid cable give back the same cable.
func Normalize(c *Cable) {
	c.Station = strings.ToUpper(strings.TrimSpace(c.Station))
	c.Subject = strings.Join(strings.Fields(c.Subject), " ")
	c.Signature = strings.Join(strings.Fields(c.Signature), " ")
	for i := range c.Tags {
		c.Tags[i] = strings.ToUpper(strings.TrimSpace(c.Tags[i]))
	}
	for i := range c.To {
		c.To[i].Station = strings.ToUpper(strings.TrimSpace(c.To[i].Station))
	}
	// Action addressees are written before info addressees.
	var to []Addressee
	for _, role := range []Role{RoleAction, RoleInfo} {
		for _, a := range c.To {
			if a.Role == role {
				to = append(to, a)
			}
		}
	}
	for _, a := range c.To {
		if a.Role != RoleAction && a.Role != RoleInfo {
			to = append(to, a)
		}
	}
	c.To = to
	if len(c.Captions) > 0 {
		c.Captions = SortCaptions(c.Captions)
	}
	if len(c.Handling) > 0 {
		c.Handling = SortHandling(c.Handling)
	}
	for i := range c.References {
		c.References[i].Text = strings.ToUpper(strings.Join(strings.Fields(c.References[i].Text), " "))
	}
	for i := range c.Paragraphs {
		c.Paragraphs[i].Text = normalizeParagraph(c.Paragraphs[i].Text)
	}
	if a := c.Authority; a != nil {
		a.ClassifiedBy = strings.Join(strings.Fields(a.ClassifiedBy), " ")
		if letters, err := ParseReason(a.Reason); err == nil {
			a.Reason = FormatReason(letters)
		}
		a.DeclassifyOn.Event = strings.Join(strings.Fields(a.DeclassifyOn.Event), " ")
		if a.Order == "" {
			a.Order = "13526"
		}
	}
}

// normalizeParagraph collapses runs of spaces within lines, trims each
// line, and keeps single line breaks (tables and lists inside a paragraph)
// but no blank lines, which separate paragraphs in the text form.
func normalizeParagraph(s string) string {
	// Most text is normal already: checking costs a fraction of
	// rebuilding it.
	if isNormalParagraph(s) {
		return s
	}
	// White space only at the ends (a form's trailing newline, a space
	// after the last full stop) is the next most common: trimming is a
	// slice, not a copy.
	if t := strings.TrimSpace(s); isNormalParagraph(t) {
		return t
	}
	return collapseParagraph(s)
}

// collapseParagraph returns s with each line's white space collapsed to
// single spaces between words and trimmed at both ends, and blank lines
// dropped; "\r\n" ends a line as "\n" does. Bytes that are not UTF-8 are
// kept as they are. It is one pass over s: what strings.Fields and Join
// on each line would give.
func collapseParagraph(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	// space: white space after a word on this line; newline: a line
	// ended after some word was written; word: this line has a word.
	space, newline, word := false, false, false
	for i := 0; i < len(s); {
		if s[i] == '\n' {
			newline = newline || b.Len() > 0
			space, word = false, false
			i++
			continue
		}
		if n := spaceAt(s, i); n > 0 {
			space = word
			i += n
			continue
		}
		// A word: up to the next white space or the end.
		j := i + 1
		for j < len(s) && s[j] != '\n' && spaceAt(s, j) == 0 {
			j++
		}
		switch {
		case newline:
			b.WriteByte('\n')
		case space:
			b.WriteByte(' ')
		}
		b.WriteString(s[i:j])
		newline, space, word = false, false, true
		i = j
	}
	return b.String()
}

// spaceAt returns the length of the white space character (other than
// "\n") at s[i], or 0 if there is none there.
func spaceAt(s string, i int) int {
	switch byteClass[s[i]] {
	case spaceByte, otherSpaceByte:
		return 1
	case nonASCIIByte:
		if r, size := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
			return size
		}
	}
	return 0
}

// isNormalParagraph reports whether collapseParagraph leaves s as it is:
// lines without leading, trailing or repeated white space, no white space
// but single spaces within them, and no blank lines.
func isNormalParagraph(s string) bool {
	// Most bytes are plain: one table lookup passes them.
	for i := 0; i < len(s); i++ {
		switch byteClass[s[i]] {
		case plainByte:
		case spaceByte:
			if i == 0 || i+1 == len(s) || s[i-1] == ' ' || s[i-1] == '\n' || s[i+1] == ' ' || s[i+1] == '\n' {
				return false
			}
		case newlineByte:
			if i == 0 || s[i-1] == '\n' || i+1 == len(s) {
				return false
			}
		case otherSpaceByte:
			return false
		case nonASCIIByte:
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				return false
			}
			i += size - 1
		}
	}
	return true
}

// The classes of byte isNormalParagraph tells apart.
const (
	plainByte = iota
	spaceByte
	newlineByte
	otherSpaceByte // tab, vertical tab, form feed, carriage return
	nonASCIIByte   // the first byte of a rune that may be white space
)

var byteClass = func() (t [256]uint8) {
	t[' '], t['\n'] = spaceByte, newlineByte
	t['\t'], t['\v'], t['\f'], t['\r'] = otherSpaceByte, otherSpaceByte, otherSpaceByte, otherSpaceByte
	for b := utf8.RuneSelf; b < len(t); b++ {
		t[b] = nonASCIIByte
	}
	return t
}()
