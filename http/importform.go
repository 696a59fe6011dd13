package http

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// importForm is the archivist's correction form as typed: the record's
// header fields and each paragraph's text, kept whole so that a page sent
// back with problems shows everything the archivist wrote.
type importForm struct {
	Station        string
	Serial         string
	DTG            string
	Precedence     string
	Classification string
	Handling       []string
	Action         string
	Info           string
	Tags           string
	References     string
	Signature      string
	Subject        string
	ReceivedAt     string
	ReceivedTime   string
	ControlNumber  string
	DistAction     string
	DistInfo       string
	Paragraphs     []string
}

// importTimeLayout is how the form writes instants: UTC, to the minute.
const importTimeLayout = "2006-01-02 15:04"

// formFromRecord fills the correction form with a record's fields.
func formFromRecord(r *cable.HistoricalRecord) *importForm {
	c := r.Cable
	f := &importForm{
		Station:    c.Station,
		Action:     strings.Join(c.Addressees(cable.RoleAction), " "),
		Info:       strings.Join(c.Addressees(cable.RoleInfo), " "),
		Tags:       strings.Join(c.Tags, ", "),
		Signature:  c.Signature,
		Subject:    c.Subject,
		ReceivedAt: r.ReceivedAt,
	}
	if c.Serial > 0 {
		f.Serial = strconv.Itoa(c.Serial)
	}
	if !c.DTG.IsZero() {
		f.DTG = c.DTG.UTC().Format(importTimeLayout)
	}
	if c.Precedence.Valid() {
		f.Precedence = c.Precedence.String()
	}
	if c.Classification.Valid() {
		f.Classification = c.Classification.String()
	}
	for _, h := range c.Handling {
		f.Handling = append(f.Handling, string(h))
	}
	refs := make([]string, len(c.References))
	for i, ref := range c.References {
		refs[i] = ref.Text
	}
	f.References = strings.Join(refs, "\n")
	if rc := c.Received; rc != nil {
		if f.ReceivedAt == "" {
			f.ReceivedAt = rc.Station
		}
		if !rc.At.IsZero() {
			f.ReceivedTime = rc.At.UTC().Format(importTimeLayout)
		}
		f.ControlNumber = rc.ControlNumber
	}
	if d := c.Distribution; d != nil {
		f.DistAction = d.Action
		f.DistInfo = strings.Join(d.Info, ", ")
	}
	for _, p := range c.Paragraphs {
		f.Paragraphs = append(f.Paragraphs, p.Text)
	}
	return f
}

// parseImportForm reads the posted correction form.
func parseImportForm(v url.Values) *importForm {
	return &importForm{
		Station:        v.Get("station"),
		Serial:         v.Get("serial"),
		DTG:            v.Get("dtg"),
		Precedence:     v.Get("precedence"),
		Classification: v.Get("classification"),
		Handling:       v["handling"],
		Action:         v.Get("action"),
		Info:           v.Get("info"),
		Tags:           v.Get("tags"),
		References:     v.Get("references"),
		Signature:      v.Get("signature"),
		Subject:        v.Get("subject"),
		ReceivedAt:     v.Get("received_at"),
		ReceivedTime:   v.Get("received_time"),
		ControlNumber:  v.Get("control_number"),
		DistAction:     v.Get("dist_action"),
		DistInfo:       v.Get("dist_info"),
		Paragraphs:     v["paragraph"],
	}
}

// fieldValues returns each field of the form under the name a problem
// gives it, normalised so that a difference in spacing is no correction.
func (f *importForm) fieldValues() map[string]string {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	list := func(s string) string { return strings.Join(splitList(s), " ") }
	hs := slices.Clone(f.Handling)
	for i := range hs {
		hs[i] = strings.ToUpper(norm(hs[i]))
	}
	slices.Sort(hs)
	m := map[string]string{
		"station":                 strings.ToUpper(norm(f.Station)),
		"serial":                  norm(f.Serial),
		"dtg":                     norm(f.DTG),
		"precedence":              strings.ToUpper(norm(f.Precedence)),
		"classification":          strings.ToUpper(norm(f.Classification)),
		"handling":                strings.Join(hs, ","),
		"to.action":               list(f.Action),
		"to.info":                 list(f.Info),
		"tags":                    strings.Join(splitImportTags(f.Tags), ","),
		"references":              norm(f.References),
		"signature":               norm(f.Signature),
		"subject":                 norm(f.Subject),
		"received.station":        strings.ToUpper(norm(f.ReceivedAt)),
		"received.at":             norm(f.ReceivedTime),
		"received.control_number": norm(f.ControlNumber),
		"distribution.action":     strings.ToUpper(norm(f.DistAction)),
		"distribution.info":       list(f.DistInfo),
	}
	for i, p := range f.Paragraphs {
		m[fmt.Sprintf("paragraphs[%d].text", i)] = norm(p)
	}
	return m
}

// corrections names the fields of f that differ from orig, in a fixed order.
func (f *importForm) corrections(orig *importForm) []string {
	got, want := f.fieldValues(), orig.fieldValues()
	var out []string
	for k, v := range got {
		if w, ok := want[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// splitList reads codes separated by spaces, commas or semicolons, upper-cased.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		out = append(out, strings.ToUpper(x))
	}
	return out
}

// splitImportTags reads tags separated by commas, semicolons or lines:
// the decimal file codes of historical records hold spaces
// ("501.BC INDONESIA").
func splitImportTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		if t = strings.ToUpper(strings.Join(strings.Fields(t), " ")); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// parseUTC reads an instant in UTC as the form writes it, or a date-time
// group ("221800Z FEB 46"). Empty is the zero time.
func parseUTC(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{importTimeLayout, "2006-01-02T15:04", "2006-01-02 15:04Z", "2006-01-02T15:04Z", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := cable.ParseDTG(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// apply returns orig with the form's corrections: a new record, orig
// untouched. Values the form cannot hold (a number that is not one, an
// unknown precedence) are problems; the rest is left to checkHistorical.
//
// Paragraphs keep their portion marks, except that when the whole's
// classification changes, paragraphs marked as the old whole, or above
// the new one, take the new whole. A paragraph whose text is emptied is
// taken out. A telegram's identifier follows its station, number and
// date-time group; other kinds keep the identifier they were given.
func (f *importForm) apply(orig *cable.HistoricalRecord) (*cable.HistoricalRecord, cable.Problems) {
	var ps cable.Problems
	r := *orig
	c := orig.Cable.Clone()
	r.Cable = c
	r.Details = make(map[string]any, len(orig.Details)+1)
	for k, v := range orig.Details {
		r.Details[k] = v
	}
	r.Warnings = slices.Clone(orig.Warnings)

	c.Station = strings.ToUpper(strings.TrimSpace(f.Station))
	c.Serial = 0
	if s := strings.TrimSpace(f.Serial); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			ps.Add("serial", "%q is not a number", s)
		}
		c.Serial = n
	}
	if t, ok := parseUTC(f.DTG); ok {
		c.DTG = t
	} else {
		ps.Add("dtg", "%q is not a time in UTC (want YYYY-MM-DD HH:MM, or a date-time group: 221800Z FEB 46)", strings.TrimSpace(f.DTG))
	}
	c.Precedence = 0
	if s := strings.TrimSpace(f.Precedence); s != "" {
		p, err := cable.ParsePrecedence(s)
		if err != nil {
			ps.Add("precedence", "unknown precedence %q", s)
		}
		c.Precedence = p
	}
	old := orig.Cable.Classification
	c.Classification = 0
	if s := strings.TrimSpace(f.Classification); s != "" {
		v, err := cable.ParseClassification(s)
		if err != nil {
			ps.Add("classification", "unknown classification %q", s)
		}
		c.Classification = v
	}
	c.Handling = nil
	for _, x := range f.Handling {
		h, err := cable.ParseHandling(x)
		if err != nil {
			ps.Add("handling", "unknown handling instruction %q", x)
			continue
		}
		c.Handling = append(c.Handling, h)
	}
	c.Handling = cable.SortHandling(c.Handling)

	c.To = nil
	for _, st := range splitList(f.Action) {
		c.To = append(c.To, cable.Addressee{Station: st, Role: cable.RoleAction})
	}
	for _, st := range splitList(f.Info) {
		c.To = append(c.To, cable.Addressee{Station: st, Role: cable.RoleInfo})
	}
	c.Tags = splitImportTags(f.Tags)
	c.References = nil
	for _, line := range strings.Split(f.References, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		ref := cable.Reference{Text: line}
		for _, o := range orig.Cable.References {
			if o.Text == line {
				ref.ID = o.ID
			}
		}
		c.References = append(c.References, ref)
	}
	c.Signature = strings.TrimSpace(f.Signature)
	c.Subject = strings.TrimSpace(f.Subject)

	r.ReceivedAt = strings.ToUpper(strings.TrimSpace(f.ReceivedAt))
	at, ok := parseUTC(f.ReceivedTime)
	if !ok {
		ps.Add("received.at", "%q is not a time in UTC (want YYYY-MM-DD HH:MM)", strings.TrimSpace(f.ReceivedTime))
	}
	control := strings.TrimSpace(f.ControlNumber)
	c.Received = nil
	if !at.IsZero() || control != "" {
		c.Received = &cable.Receipt{Station: r.ReceivedAt, At: at, ControlNumber: control}
	}
	action, info := strings.ToUpper(strings.TrimSpace(f.DistAction)), splitList(f.DistInfo)
	c.Distribution = nil
	if action != "" || len(info) > 0 {
		if info == nil {
			info = []string{}
		}
		c.Distribution = &cable.Distribution{Action: action, Info: info}
	}

	if len(f.Paragraphs) != len(orig.Cable.Paragraphs) {
		ps.Add("paragraphs", "the form holds %d paragraphs but the record %d; upload the source again", len(f.Paragraphs), len(orig.Cable.Paragraphs))
	} else {
		c.Paragraphs = c.Paragraphs[:0]
		for i, text := range f.Paragraphs {
			text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
			if text == "" {
				continue
			}
			p := orig.Cable.Paragraphs[i]
			p.Number, p.Text = len(c.Paragraphs)+1, text
			if c.Classification != old && c.Classification.Valid() && (p.Classification == old || p.Classification > c.Classification) {
				p.Classification = c.Classification
			}
			c.Paragraphs = append(c.Paragraphs, p)
		}
	}

	if r.Kind == kindTelegram {
		r.ID = ""
		if cable.ValidStationCode(c.Station) && c.Serial > 0 && !c.DTG.IsZero() {
			r.ID = cable.Identifier(c.DTG.UTC().Year(), c.Station, c.Serial)
		}
		c.ID = r.ID
	}
	if fixed := f.corrections(formFromRecord(orig)); len(fixed) > 0 {
		r.Details["corrected"] = fixed
	}
	return &r, ps
}

// checkHistorical names the problems of a historical record the archive
// would refuse, or the archivist should see before filing. It applies
// the domain's validation but not what only a cable released today must
// carry (a subject, tags, a signature, an authority block).
func checkHistorical(r *cable.HistoricalRecord) cable.Problems {
	var ps cable.Problems
	c := r.Cable
	if c == nil {
		ps.Add("", "the record has no fields")
		return ps
	}
	telegram := r.Kind == kindTelegram
	for _, p := range cable.ErrorProblems(cable.Validate(c, cable.ValidateOptions{})) {
		if keepHistoricalProblem(p.Field, telegram) {
			ps = append(ps, p)
		}
	}
	if !telegram && r.ID == "" {
		ps.Add("id", "the record has no identifier")
	}
	if len(c.Subject) > 400 {
		ps.Add("subject", "subject is longer than 400 characters")
	}
	if len(c.Signature) > 200 {
		ps.Add("signature", "signature is longer than 200 characters")
	}
	if r.ReceivedAt != "" && !cable.ValidStationCode(r.ReceivedAt) {
		ps.Add("received.station", "receiving station %q must be 2-20 upper-case letters", r.ReceivedAt)
	}
	if rc := c.Received; rc != nil {
		if len(rc.ControlNumber) > 32 {
			ps.Add("received.control_number", "control number is longer than 32 characters")
		}
		if !rc.At.IsZero() && !c.DTG.IsZero() && rc.At.Before(c.DTG) {
			ps.Add("received.at", "received %s, before it was sent (%s)", formatUTC(rc.At), formatUTC(c.DTG))
		}
	}
	if d := c.Distribution; d != nil {
		if d.Action == "" {
			ps.Add("distribution.action", "give the action office, or leave the info offices empty too for the routing rules to choose")
		} else if !cable.ValidOfficeCode(d.Action) {
			ps.Add("distribution.action", "office %q is not an office symbol (EUR, DC/R)", d.Action)
		}
		for _, o := range d.Info {
			if !cable.ValidOfficeCode(o) {
				ps.Add("distribution.info", "office %q is not an office symbol (EUR, DC/R)", o)
			}
		}
	}
	return ps
}

// keepHistoricalProblem reports whether a problem found by the domain's
// validation applies to a historical record.
func keepHistoricalProblem(field string, telegram bool) bool {
	switch {
	case field == "station", field == "precedence", field == "classification", field == "paragraphs":
		return true
	case field == "serial", field == "dtg", field == "id":
		return telegram
	case strings.HasPrefix(field, "captions"), strings.HasPrefix(field, "handling"),
		strings.HasPrefix(field, "to["), strings.HasPrefix(field, "tags["),
		strings.HasPrefix(field, "references["), strings.HasPrefix(field, "paragraphs["):
		return true
	}
	return false
}

// importKey returns the input of the correction form a problem belongs
// beside, or "" when it belongs only in the summary.
func importKey(field string, c *cable.Cable) string {
	name, index, _ := splitField(field)
	switch field {
	case "to.action":
		return "action"
	case "to.info":
		return "info"
	case "received.station", "received_at":
		return "received_at"
	case "received.at":
		return "received_time"
	case "received.control_number":
		return "control_number"
	case "distribution.action":
		return "dist_action"
	case "distribution.info":
		return "dist_info"
	case "id":
		return "serial"
	}
	switch name {
	case "station", "serial", "dtg", "precedence", "classification", "handling", "tags", "references", "signature", "subject":
		return name
	case "to":
		if index >= 0 && c != nil && index < len(c.To) && c.To[index].Role == cable.RoleInfo {
			return "info"
		}
		return "action"
	case "paragraphs":
		if index >= 0 {
			return "p" + strconv.Itoa(index+1)
		}
		return "paragraphs"
	}
	return ""
}

// importLabel names an input of the correction form for the summary.
func importLabel(key string) string {
	if n, ok := strings.CutPrefix(key, "p"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return "Paragraph " + n
		}
	}
	switch key {
	case "station":
		return "Station"
	case "serial":
		return "Number"
	case "dtg":
		return "Date-time group"
	case "precedence":
		return "Precedence"
	case "classification":
		return "Classification"
	case "handling":
		return "Handling"
	case "action":
		return "Action addressees"
	case "info":
		return "Info addressees"
	case "tags":
		return "Tags"
	case "references":
		return "References"
	case "signature":
		return "Signature"
	case "subject":
		return "Subject"
	case "received_at":
		return "Received at"
	case "received_time":
		return "Time received"
	case "control_number":
		return "Control number"
	case "dist_action":
		return "Action office"
	case "dist_info":
		return "Info offices"
	case "paragraphs":
		return "Paragraphs"
	}
	return "Record"
}
