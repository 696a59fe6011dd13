package textform

import (
	"fmt"
	"strconv"
	"strings"

	cable "github.com/cable-archive/cable"
)

// banners are the classification lines' first words, spaced out as the
// field writes them.
var banners = map[cable.Classification]string{
	cable.Unclassified:       "UNCLAS",
	cable.LimitedOfficialUse: "LIMITED OFFICIAL USE",
	cable.Confidential:       "C O N F I D E N T I A L",
	cable.Secret:             "S E C R E T",
	cable.TopSecret:          "T O P S E C R E T",
}

func (f *Form) render(in *cable.Cable, section, sections int) ([]byte, error) {
	if in == nil {
		return nil, cable.Errorf(cable.EINVALID, "no cable to render")
	}
	// Normalize drops unknown captions and handling instructions: name
	// them first, since a caption is a key that must never be lost.
	var ps cable.Problems
	for i, k := range in.Captions {
		if !k.Valid() {
			ps.Add(fmt.Sprintf("captions[%d]", i), "unknown caption %q", string(k))
		}
	}
	for i, h := range in.Handling {
		if !h.Valid() {
			ps.Add(fmt.Sprintf("handling[%d]", i), "unknown handling instruction %q", string(h))
		}
	}
	c := in.Clone()
	cable.Normalize(c)

	if !c.Precedence.Valid() {
		ps.Add("precedence", "precedence must be FLASH, IMMEDIATE, PRIORITY or ROUTINE")
	}
	if !c.Classification.Valid() {
		ps.Add("classification", "classification must be UNCLASSIFIED, LIMITED OFFICIAL USE, CONFIDENTIAL, SECRET or TOP SECRET")
	}
	if c.Serial < 0 || c.Serial > 999999 {
		ps.Add("serial", "serial %d cannot be written (1 to 999999)", c.Serial)
	}
	if !c.DTG.IsZero() {
		if y := c.DTG.UTC().Year(); y < 1000 || y > 9999 {
			ps.Add("dtg", "year %d cannot be written in a date-time group", y)
		}
	}
	if section != 0 || sections != 0 {
		if sections < 1 || sections > 99 || section < 1 || section > sections {
			ps.Add("section", "SECTION %d OF %d cannot be written (1 <= section <= sections <= 99)", section, sections)
		}
	}
	from := f.address(c.Station, "station", &ps)
	to := make([]string, len(c.To))
	for i, a := range c.To {
		field := fmt.Sprintf("to[%d]", i)
		if a.Role != cable.RoleAction && a.Role != cable.RoleInfo {
			ps.Add(field+".role", "role must be action or info")
		}
		to[i] = f.address(a.Station, field+".station", &ps)
	}
	for i, t := range c.Tags {
		if t == "" || strings.ContainsAny(t, ",\n") {
			ps.Add(fmt.Sprintf("tags[%d]", i), "tag %q cannot be written in a TAGS line", t)
		}
	}
	// Normalize has joined the lines of the other one-line fields.
	for i, r := range c.References {
		if r.Text == "" {
			ps.Add(fmt.Sprintf("references[%d]", i), "a reference needs its text")
		}
	}
	for i, p := range c.Paragraphs {
		if !p.Classification.Valid() {
			ps.Add(fmt.Sprintf("paragraphs[%d].classification", i), "each paragraph needs a portion mark")
		}
	}
	if a := c.Authority; a != nil {
		if strings.ContainsAny(a.Reason, "\r\n") {
			ps.Add("authority.reason", "the reason is one line")
		}
		if d := a.DeclassifyOn; d.Event != "" && (d.Exemption != "" || !d.Date.IsZero()) {
			ps.Add("authority.declassify_on", "give a date, an event or an exemption code, not an event with either of the others")
		}
		if y := a.DeclassifyOn.Date.Year(); !a.DeclassifyOn.Date.IsZero() && (y < 0 || y > 9999) {
			ps.Add("authority.declassify_on", "year %d cannot be written as MM/DD/YYYY", y)
		}
		if a.Order == "" || strings.ContainsAny(a.Order, " \t\n:") {
			ps.Add("authority.order", "executive order %q cannot be written in an E.O. line", a.Order)
		}
	}
	if err := ps.Err("cable cannot be rendered"); err != nil {
		return nil, err
	}

	size := 512 + len(c.Subject) + len(c.Signature)
	for _, p := range c.Paragraphs {
		size += len(p.Text) + 12
	}
	b := make([]byte, 0, size)

	// Line 1: precedence and date-time group.
	switch {
	case c.HasHandling(cable.NIACT):
		b = append(b, "NIACT "...)
		b = append(b, c.Precedence.String()...)
	case c.DTG.IsZero():
		b = append(b, c.Precedence.String()...)
	default:
		b = append(b, c.Precedence.Prosign()...)
	}
	if !c.DTG.IsZero() {
		b = append(b, ' ')
		b = append(b, cable.FormatDTG(c.DTG)...)
	}
	b = append(b, '\n')

	b = append(b, "FM "...)
	b = append(b, from...)
	b = append(b, '\n')
	for _, role := range []cable.Role{cable.RoleAction, cable.RoleInfo} {
		first := true
		for i, a := range c.To {
			if a.Role != role {
				continue
			}
			if first {
				if role == cable.RoleAction {
					b = append(b, "TO "...)
				} else {
					b = append(b, "INFO "...)
				}
				first = false
			}
			b = append(b, to[i]...)
			b = append(b, '\n')
		}
	}
	b = append(b, "BT\n"...)

	// Classification line.
	b = append(b, banners[c.Classification]...)
	if sections > 0 {
		b = fmt.Appendf(b, " SECTION %02d OF %02d", section, sections)
	}
	if c.Serial != 0 {
		b = append(b, ' ')
		b = append(b, c.Station...)
		b = append(b, ' ')
		b = fmt.Appendf(b, "%05d", c.Serial)
	}
	b = append(b, '\n')

	for _, k := range c.Captions {
		b = append(b, k...)
		b = append(b, '\n')
	}
	for _, h := range c.Handling {
		if h == cable.NIACT {
			continue
		}
		b = append(b, h...)
		b = append(b, '\n')
	}

	a := c.Authority
	if a != nil {
		b = append(b, "E.O. "...)
		b = append(b, a.Order...)
		if c.Classification.Classified() || !a.DeclassifyOn.IsZero() || a.ClassifiedBy != "" || a.Reason != "" {
			b = append(b, ": DECL:"...)
			if d := formatDeclassifyOn(a.DeclassifyOn); d != "" {
				b = append(b, ' ')
				b = append(b, d...)
			}
		} else {
			b = append(b, ": N/A"...)
		}
		b = append(b, '\n')
	}
	if len(c.Tags) > 0 {
		b = append(b, "TAGS: "...)
		for i, t := range c.Tags {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, t...)
		}
		b = append(b, '\n')
	}
	b = appendField(b, "SUBJECT:", c.Subject)
	switch len(c.References) {
	case 0:
	case 1:
		b = appendField(b, "REF:", c.References[0].Text)
	default:
		for i, r := range c.References {
			if i == 0 {
				b = append(b, "REF: "...)
			} else {
				b = append(b, "     "...)
			}
			b = append(b, refLabel(i)...)
			b = append(b, ". "...)
			b = append(b, r.Text...)
			b = append(b, '\n')
		}
	}
	if a != nil && (a.ClassifiedBy != "" || a.Reason != "") {
		b = append(b, "CLASSIFIED BY:"...)
		if a.ClassifiedBy != "" {
			b = append(b, ' ')
			b = append(b, a.ClassifiedBy...)
		}
		if a.Reason != "" {
			b = append(b, ". REASON: "...)
			b = append(b, a.Reason...)
		}
		b = append(b, '\n')
	}

	for _, p := range c.Paragraphs {
		b = append(b, '\n')
		b = strconv.AppendInt(b, int64(p.Number), 10)
		b = append(b, ". ("...)
		b = append(b, p.Classification.PortionMark()...)
		b = append(b, ')')
		if p.Text != "" {
			b = append(b, ' ')
			b = append(b, p.Text...)
		}
		b = append(b, '\n')
	}
	if c.Signature != "" {
		b = append(b, '\n')
		b = append(b, c.Signature...)
		b = append(b, '\n')
	}
	b = append(b, "BT\n"...)
	return b, nil
}

// address returns how the text form writes station code.
func (f *Form) address(code, field string, ps *cable.Problems) string {
	addr := code
	if f.Directory == nil {
		if !cable.ValidStationCode(code) {
			ps.Add(field, "station code %q must be 2-20 upper-case letters", code)
		}
	} else if st, err := f.Directory.Station(code); err != nil {
		ps.Add(field, "station %q is not in the directory", code)
	} else if st.Address != "" {
		addr = st.Address
	}
	if addr == "BT" || isKeyword(addr, "FM") || isKeyword(addr, "TO") || isKeyword(addr, "INFO") || isKeyword(addr, "XMT") {
		ps.Add(field, "address %q would be read as a keyword line", addr)
	}
	return addr
}

func appendField(b []byte, keyword, value string) []byte {
	b = append(b, keyword...)
	if value != "" {
		b = append(b, ' ')
		b = append(b, value...)
	}
	return append(b, '\n')
}

// refLabel returns the letter of the i-th reference: A to Z, then AA,
// BB ... ZZ, then AAA and so on.
func refLabel(i int) string {
	return strings.Repeat(string(rune('A'+i%26)), i/26+1)
}

// formatDeclassifyOn writes a declassification instruction as the E.O.
// line does: MM/DD/YYYY dates, "50X1-HUM, MM/DD/YYYY", or event words.
func formatDeclassifyOn(d cable.DeclassifyOn) string {
	switch {
	case d.Exemption != "" && !d.Date.IsZero():
		return d.Exemption + ", " + d.Date.Format("01/02/2006")
	case d.Exemption != "":
		return d.Exemption
	case !d.Date.IsZero():
		return d.Date.Format("01/02/2006")
	}
	return d.Event
}
