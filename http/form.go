package http

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	cable "github.com/cable-archive/cable"
)

// draftForm is the drafting form as typed, kept whole so a page sent back
// with problems shows everything the drafter wrote.
type draftForm struct {
	Precedence     string
	NIACT          bool
	Classification string // chosen whole classification; "" = the highest paragraph's
	Captions       []string
	Handling       []string // NOFORN, NO PARAPHRASE NECESSARY (NIACT has its own box)
	Action         []string
	Info           []string
	Tags           string
	Subject        string
	References     string
	Paragraphs     []paragraphSlot
	Signature      string

	ClassifiedBy        string
	Reason              []string // letters a-h
	DeclassifyKind      string   // date, event or exemption
	DeclassifyDate      string
	DeclassifyEvent     string
	DeclassifyExemption string
}

// paragraphSlot is one paragraph box of the form.
type paragraphSlot struct {
	Classification string // portion mark: U, SBU, C, S, TS
	Text           string
	// Number and Errors are filled in for display.
	Number int
	Errors []string
}

// formParagraphSlots is how many paragraph boxes a page offers at least,
// so that drafting works without the script's "add paragraph" button.
const formParagraphSlots = 3

// parseDraftForm reads the posted drafting form. Paragraph boxes left
// empty are dropped, so box i holds paragraph i.
func parseDraftForm(v url.Values) *draftForm {
	f := &draftForm{
		Precedence:          strings.TrimSpace(v.Get("precedence")),
		NIACT:               v.Get("niact") != "",
		Classification:      strings.TrimSpace(v.Get("classification")),
		Captions:            v["captions"],
		Handling:            v["handling"],
		Action:              v["action"],
		Info:                v["info"],
		Tags:                v.Get("tags"),
		Subject:             v.Get("subject"),
		References:          v.Get("references"),
		Signature:           v.Get("signature"),
		ClassifiedBy:        v.Get("classified_by"),
		Reason:              v["reason"],
		DeclassifyKind:      v.Get("declassify_kind"),
		DeclassifyDate:      strings.TrimSpace(v.Get("declassify_date")),
		DeclassifyEvent:     v.Get("declassify_event"),
		DeclassifyExemption: strings.TrimSpace(v.Get("declassify_exemption")),
	}
	classes, texts := v["paragraph_classification"], v["paragraph_text"]
	for i := range max(len(classes), len(texts)) {
		var slot paragraphSlot
		if i < len(classes) {
			slot.Classification = strings.TrimSpace(classes[i])
		}
		if i < len(texts) {
			slot.Text = texts[i]
		}
		if strings.TrimSpace(slot.Text) == "" {
			continue
		}
		f.Paragraphs = append(f.Paragraphs, slot)
	}
	return f
}

// splitTags reads tags separated by commas or, when there is no comma,
// by spaces; a decimal file code may hold a space only in a comma list.
func splitTags(s string) []string {
	sep := func(r rune) bool { return r == ',' || r == ';' }
	if !strings.ContainsAny(s, ",;") {
		sep = func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
	}
	var out []string
	for _, t := range strings.FieldsFunc(s, sep) {
		if t = strings.ToUpper(strings.TrimSpace(t)); t != "" {
			out = append(out, t)
		}
	}
	return out
}

var reasonLetterPattern = regexp.MustCompile(`^[a-h]$`)

// draft builds the cable the form describes for station. Values the form
// cannot hold (a forged or stale select) are problems; everything else
// is left to validation.
func (f *draftForm) draft(station string) (*cable.Cable, cable.Problems) {
	var ps cable.Problems
	c := &cable.Cable{Station: station}
	if f.Precedence != "" {
		p, err := cable.ParsePrecedence(f.Precedence)
		if err != nil {
			ps.Add("precedence", "unknown precedence %q", f.Precedence)
		}
		c.Precedence = p
	}
	for _, x := range f.Captions {
		k, err := cable.ParseCaption(x)
		if err != nil {
			ps.Add("captions", "unknown caption %q", x)
			continue
		}
		c.Captions = append(c.Captions, k)
	}
	c.Captions = cable.SortCaptions(c.Captions)
	if f.NIACT {
		c.Handling = append(c.Handling, cable.NIACT)
	}
	for _, x := range f.Handling {
		h, err := cable.ParseHandling(x)
		if err != nil {
			ps.Add("handling", "unknown handling instruction %q", x)
			continue
		}
		c.Handling = append(c.Handling, h)
	}
	c.Handling = cable.SortHandling(c.Handling)
	for _, st := range f.Action {
		c.To = append(c.To, cable.Addressee{Station: strings.TrimSpace(st), Role: cable.RoleAction})
	}
	for _, st := range f.Info {
		c.To = append(c.To, cable.Addressee{Station: strings.TrimSpace(st), Role: cable.RoleInfo})
	}
	c.Tags = splitTags(f.Tags)
	c.Subject = strings.TrimSpace(f.Subject)
	for _, line := range strings.Split(f.References, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			c.References = append(c.References, cable.Reference{Text: line})
		}
	}
	for i, slot := range f.Paragraphs {
		p := cable.Paragraph{Number: i + 1, Text: strings.TrimSpace(slot.Text)}
		if slot.Classification != "" {
			v, err := cable.ParsePortionMark(slot.Classification)
			if err != nil {
				v, err = cable.ParseClassification(slot.Classification)
			}
			if err != nil {
				ps.Add(fmt.Sprintf("paragraphs[%d].classification", i), "unknown portion mark %q", slot.Classification)
			}
			p.Classification = v
		}
		c.Paragraphs = append(c.Paragraphs, p)
	}
	c.Signature = strings.TrimSpace(f.Signature)

	// The whole is at least its highest paragraph: the drafter may raise
	// it, never lower it.
	var chosen cable.Classification
	if f.Classification != "" {
		v, err := cable.ParseClassification(f.Classification)
		if err != nil {
			ps.Add("classification", "unknown classification %q", f.Classification)
		}
		chosen = v
	}
	c.Classification = max(chosen, c.HighestPortion())

	if a, ok := f.authority(&ps); ok || c.Classification.Classified() {
		c.Authority = a
	}
	return c, ps
}

// authority reads the authority block; ok reports whether any of it was
// filled in.
func (f *draftForm) authority(ps *cable.Problems) (*cable.Authority, bool) {
	a := &cable.Authority{ClassifiedBy: strings.TrimSpace(f.ClassifiedBy)}
	var letters []byte
	for _, l := range f.Reason {
		l = strings.ToLower(strings.TrimSpace(l))
		if !reasonLetterPattern.MatchString(l) {
			ps.Add("authority.reason", "unknown reason letter %q (want a to h)", l)
			continue
		}
		letters = append(letters, l[0])
	}
	a.Reason = cable.FormatReason(sortLetters(letters))

	kind := f.DeclassifyKind
	if kind == "" {
		switch {
		case f.DeclassifyDate != "":
			kind = "date"
		case f.DeclassifyExemption != "":
			kind = "exemption"
		case strings.TrimSpace(f.DeclassifyEvent) != "":
			kind = "event"
		}
	}
	switch kind {
	case "date":
		if f.DeclassifyDate != "" {
			d, err := cable.ParseDeclassifyOn(f.DeclassifyDate)
			if err != nil || d.Date.IsZero() {
				ps.Add("authority.declassify_on", "%q is not a date (want YYYY-MM-DD)", f.DeclassifyDate)
			}
			a.DeclassifyOn = d
		}
	case "exemption":
		if f.DeclassifyExemption != "" {
			d, err := cable.ParseDeclassifyOn(f.DeclassifyExemption)
			if err != nil || d.Exemption == "" {
				ps.Add("authority.declassify_on", "%q is not an exemption code (25X1, 50X1-HUM; a date may follow a comma)", f.DeclassifyExemption)
			}
			a.DeclassifyOn = d
		}
	case "event":
		a.DeclassifyOn = cable.DeclassifyOn{Event: strings.Join(strings.Fields(f.DeclassifyEvent), " ")}
	case "":
	default:
		ps.Add("authority.declassify_on", "choose a date, an event or an exemption code")
	}
	filled := a.ClassifiedBy != "" || len(f.Reason) > 0 || !a.DeclassifyOn.IsZero()
	return a, filled
}

func sortLetters(ls []byte) []byte {
	var out []byte
	for l := byte('a'); l <= 'h'; l++ {
		for _, x := range ls {
			if x == l {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// formKey returns the form input a problem belongs beside, or "" when it
// belongs only in the summary. Problems name fields as Validate does:
// "paragraphs[2].text", "to[1].station", "authority.declassify_on".
func formKey(field string, c *cable.Cable) string {
	name, index, rest := splitField(field)
	switch name {
	case "precedence", "classification", "captions", "tags", "subject", "references", "signature":
		return name
	case "handling":
		return "handling"
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
	case "authority":
		switch rest {
		case "classified_by":
			return "classified_by"
		case "reason":
			return "reason"
		case "declassify_on":
			return "declassify_on"
		}
		return "authority"
	}
	return ""
}

// fieldLabel names a form input for the problem summary.
func fieldLabel(key string) string {
	if n, ok := strings.CutPrefix(key, "p"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return "Paragraph " + n
		}
	}
	switch key {
	case "precedence":
		return "Precedence"
	case "classification":
		return "Classification"
	case "captions":
		return "Captions"
	case "handling":
		return "Handling"
	case "action":
		return "Action addressees"
	case "info":
		return "Info addressees"
	case "tags":
		return "Tags"
	case "subject":
		return "Subject"
	case "references":
		return "References"
	case "paragraphs":
		return "Paragraphs"
	case "signature":
		return "Signature"
	case "classified_by":
		return "Classified by"
	case "reason":
		return "Reason"
	case "declassify_on":
		return "Declassify on"
	case "authority":
		return "Authority"
	}
	return "Cable"
}

// problemView is one problem in the summary at the top of the form.
type problemView struct {
	Key     string // the input's key; the anchor is #f-<key>
	Label   string
	Message string
}

// draftPage is the drafting form.
type draftPage struct {
	pageInfo
	Form      *draftForm
	From      string
	Banner    Banner
	Errors    map[string][]string
	Problems  []problemView
	CheckedOK bool
	Stations  []*cable.Station

	Precedences     []cable.Precedence
	Classifications []cable.Classification
	Captions        []cable.Caption
	Handling        []cable.Handling
	Reasons         []reasonOption
}

// reasonOption is one of the classification reasons of E.O. 13526 1.4.
type reasonOption struct {
	Letter, Label string
}

var reasonOptions = []reasonOption{
	{"a", "military plans, weapons systems, operations"},
	{"b", "foreign government information"},
	{"c", "intelligence activities, sources, methods"},
	{"d", "foreign relations, confidential sources"},
	{"e", "scientific, technological, economic matters"},
	{"f", "safeguarding nuclear materials or facilities"},
	{"g", "vulnerabilities of systems, installations, plans"},
	{"h", "weapons of mass destruction"},
}

// fieldErrors are the problems shown beside one input.
type fieldErrors struct {
	Key      string
	Messages []string
}

// Field returns the problems of the input with key, for the template.
func (p *draftPage) Field(key string) fieldErrors {
	return fieldErrors{Key: key, Messages: p.Errors[key]}
}

func (s *Server) newDraftPage(info pageInfo, u *cable.User, f *draftForm, c *cable.Cable) *draftPage {
	p := &draftPage{
		pageInfo:        info,
		Form:            f,
		From:            u.Station,
		Errors:          map[string][]string{},
		Precedences:     cable.Precedences(),
		Classifications: cable.Classifications(),
		Captions:        cable.AllCaptions(),
		Handling:        []cable.Handling{cable.NOFORN, cable.NoParaphraseNecessary},
		Reasons:         reasonOptions,
	}
	if c != nil {
		p.Banner = NewBanner(c.Classification, c.Captions, c.Handling)
	} else {
		p.Banner = NewBanner(0, nil, nil)
	}
	if s.Directory != nil {
		for _, st := range s.Directory.Stations() {
			if st.Kind != cable.Relay && st.Code != u.Station {
				p.Stations = append(p.Stations, st)
			}
		}
	}
	return p
}

// addProblems puts each problem beside its input and in the summary.
func (p *draftPage) addProblems(problems []cable.Problem, c *cable.Cable) {
	for _, pr := range problems {
		key := formKey(pr.Field, c)
		if key != "" {
			p.Errors[key] = append(p.Errors[key], pr.Message)
		}
		p.Problems = append(p.Problems, problemView{Key: key, Label: fieldLabel(key), Message: pr.Message})
	}
}

// Slots returns the paragraph boxes to show: what was typed, with its
// problems, then empty boxes.
func (p *draftPage) Slots() []paragraphSlot {
	out := make([]paragraphSlot, 0, len(p.Form.Paragraphs)+2)
	for i, sl := range p.Form.Paragraphs {
		sl.Number = i + 1
		sl.Errors = p.Errors["p"+strconv.Itoa(i+1)]
		out = append(out, sl)
	}
	for n := len(out); n < max(formParagraphSlots, len(p.Form.Paragraphs)+1); n++ {
		out = append(out, paragraphSlot{Number: n + 1})
	}
	return out
}

func (s *Server) handleDraftForm(w http.ResponseWriter, r *http.Request, sess *session) {
	if !sess.User.HasRole(cable.RoleDrafter) {
		s.pageError(w, r, sess, cable.Errorf(cable.EFORBIDDEN, "%s may not draft cables.", sess.User.Name))
		return
	}
	f := &draftForm{Precedence: cable.Routine.String()}
	p := s.newDraftPage(s.pageInfo(w, r, sess, "Draft a cable", "draft"), sess.User, f, nil)
	s.render(w, r, http.StatusOK, "draft", p)
}

func (s *Server) handleDraft(w http.ResponseWriter, r *http.Request, sess *session) {
	u := sess.User
	if !u.HasRole(cable.RoleDrafter) {
		s.pageError(w, r, sess, cable.Errorf(cable.EFORBIDDEN, "%s may not draft cables.", u.Name))
		return
	}
	f := parseDraftForm(r.PostForm)
	c, read := f.draft(u.Station)
	p := s.newDraftPage(s.pageInfo(w, r, sess, "Draft a cable", "draft"), u, f, c)

	var err error
	release := r.PostFormValue("do") == "release"
	switch {
	case len(read) > 0:
		err = s.allProblems(r.Context(), u, c, read)
	case release:
		var rec *cable.Record
		rec, err = s.Cables.Release(r.Context(), u, c)
		if err == nil {
			s.setFlash(w, "Released "+rec.Cable.ID)
			http.Redirect(w, r, "/cables/"+url.PathEscape(rec.Cable.ID), http.StatusSeeOther)
			return
		}
	default:
		err = s.Cables.Check(r.Context(), u, c)
	}
	if err == nil {
		p.CheckedOK = true
		s.render(w, r, http.StatusOK, "draft", p)
		return
	}
	if cable.ErrorCode(err) != cable.EINVALID {
		s.pageError(w, r, sess, err)
		return
	}
	problems := cable.ErrorProblems(err)
	if len(problems) == 0 {
		problems = []cable.Problem{{Message: cable.ErrorMessage(err)}}
	}
	p.addProblems(problems, c)
	s.render(w, r, http.StatusUnprocessableEntity, "draft", p)
}

// splitField splits a problem's field as Validate names it,
// "paragraphs[2].text", into its name, index (-1 when none) and the rest
// after the first dot.
func splitField(field string) (name string, index int, rest string) {
	head, rest, _ := strings.Cut(field, ".")
	name, index = head, -1
	if i := strings.IndexByte(head, '['); i >= 0 && strings.HasSuffix(head, "]") {
		name = head[:i]
		if n, err := strconv.Atoi(head[i+1 : len(head)-1]); err == nil {
			index = n
		}
	}
	return name, index, rest
}
