package http

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// The archivist's import pages: upload a scanned telegram's transcript or
// a TEI volume, preview the rebuilt record beside its source, correct its
// fields and file it.
//
// Nothing is kept on the server between the requests of an import. The
// records as the importer rebuilt them (and, for a transcript, the source
// text) travel in a hidden form field, gzipped JSON signed with HMAC-SHA256
// under the server's import key and bound to the archivist and an issue
// time, so that a page can neither be forged nor be replayed by another
// user or after a day. The archivist's corrections travel as ordinary
// form fields and are applied to the signed record on every request:
// the payload always holds the record as imported, and the event log of a
// filed record names the fields the archivist corrected.

const (
	// maxImportBytes bounds an upload, and any post of the import pages.
	maxImportBytes = 64 << 20
	// multipartMemory is how much of a multipart form is held in memory;
	// the rest of a file goes to a temporary file.
	multipartMemory = 8 << 20
	// maxPayloadJSON bounds a payload once unzipped.
	maxPayloadJSON = 512 << 20
	// importPayloadTTL is how long a preview may be corrected and filed.
	importPayloadTTL = 24 * time.Hour
	// payloadContext separates the import payload's MACs from any other
	// use of the key.
	payloadContext = "cable import preview v1\n"
)

// Source kinds of an import.
const (
	importTranscript = "transcript"
	importTEI        = "tei"
)

// kindTelegram is the historical record kind whose identifier follows its
// station, number and date-time group.
const kindTelegram = "telegram"

// importPayload is what the import pages carry between requests.
type importPayload struct {
	User   string    `json:"user"`
	Issued time.Time `json:"issued"`
	// Kind is transcript or tei.
	Kind string `json:"kind"`
	// Name is the uploaded file's name.
	Name string `json:"name,omitempty"`
	// Source is a transcript as uploaded; a TEI volume's source is not
	// carried (the documents' titles and identifiers are in the records).
	Source  string                    `json:"source,omitempty"`
	Records []*cable.HistoricalRecord `json:"records"`
	// NotRead are the documents of a volume the importer could not read.
	NotRead []cable.Problem `json:"not_read,omitempty"`
}

// sealImport encodes and signs p for a hidden form field.
func (s *Server) sealImport(p *importPayload) (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return "", fmt.Errorf("seal import: %w", err)
	}
	if err := json.NewEncoder(zw).Encode(p); err != nil {
		return "", fmt.Errorf("seal import: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("seal import: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(buf.Bytes())
	return body + "." + base64.RawURLEncoding.EncodeToString(s.importMAC(body)), nil
}

func (s *Server) importMAC(body string) []byte {
	m := hmac.New(sha256.New, s.importKey)
	m.Write([]byte(payloadContext))
	m.Write([]byte(body))
	return m.Sum(nil)
}

// openImport checks a payload's signature, that it was issued to u and is
// not expired, and decodes it.
func (s *Server) openImport(token string, u *cable.User, now time.Time) (*importPayload, error) {
	forged := cable.Errorf(cable.EFORBIDDEN, "This preview was not made by this server for you and was refused. Upload the source again.")
	body, mac, ok := strings.Cut(token, ".")
	if !ok || body == "" {
		return nil, forged
	}
	sum, err := base64.RawURLEncoding.Strict().DecodeString(mac)
	if err != nil || !hmac.Equal(sum, s.importMAC(body)) {
		return nil, forged
	}
	// What follows was signed here: a failure is ours, not the user's.
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("open import payload: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("open import payload: %w", err)
	}
	var p importPayload
	if err := json.NewDecoder(io.LimitReader(zr, maxPayloadJSON)).Decode(&p); err != nil {
		return nil, fmt.Errorf("open import payload: %w", err)
	}
	if u == nil || p.User != u.Name {
		return nil, forged
	}
	if now.Sub(p.Issued) > importPayloadTTL || p.Issued.After(now.Add(time.Minute)) {
		return nil, cable.Errorf(cable.EINVALID, "This preview has expired. Upload the source again.")
	}
	for _, r := range p.Records {
		if r == nil || r.Cable == nil {
			return nil, fmt.Errorf("open import payload: record without fields")
		}
	}
	return &p, nil
}

// normalizeRecords gives records as they read back from JSON, so that the
// first preview shows what every later one does (details as JSON values).
// Records without fields are dropped.
func normalizeRecords(recs []*cable.HistoricalRecord) ([]*cable.HistoricalRecord, error) {
	var keep []*cable.HistoricalRecord
	for _, r := range recs {
		if r != nil && r.Cable != nil {
			keep = append(keep, r)
		}
	}
	b, err := json.Marshal(keep)
	if err != nil {
		return nil, fmt.Errorf("encode imported records: %w", err)
	}
	var out []*cable.HistoricalRecord
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode imported records: %w", err)
	}
	return out, nil
}

// canImport reports whether u may use the import pages.
func canImport(u *cable.User) bool {
	return u != nil && (u.HasRole(cable.RoleArchivist) || u.HasRole(cable.RoleOperator))
}

// importAccess refuses the import pages to a node without importers and
// to a user who is neither archivist nor operator.
func (s *Server) importAccess(u *cable.User) error {
	if s.Importers == nil || s.Archive == nil {
		return cable.Errorf(cable.ENOTFOUND, "This node does not import historical records.")
	}
	if !canImport(u) {
		return cable.Errorf(cable.EFORBIDDEN, "%s may not import historical records.", u.Name)
	}
	return nil
}

// uploadPage is the form to upload a source.
type uploadPage struct {
	pageInfo
	Kind     string
	Text     string
	MaxMB    int
	Errors   map[string][]string
	Problems []problemView
}

func (s *Server) newUploadPage(info pageInfo, kind, text string) *uploadPage {
	return &uploadPage{pageInfo: info, Kind: kind, Text: text, MaxMB: maxImportBytes >> 20, Errors: map[string][]string{}}
}

// Field returns the problems of the input with key, for the template.
func (p *uploadPage) Field(key string) fieldErrors {
	return fieldErrors{Key: key, Messages: p.Errors[key]}
}

func (p *uploadPage) addProblem(key, msg string) {
	if key != "" {
		p.Errors[key] = append(p.Errors[key], msg)
	}
	label := "Source"
	if key == "kind" {
		label = "Kind"
	}
	p.Problems = append(p.Problems, problemView{Key: key, Label: label, Message: msg})
}

func (s *Server) handleImportForm(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := s.importAccess(sess.User); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	p := s.newUploadPage(s.pageInfo(w, r, sess, "Import a historical record", "import"), importTranscript, "")
	s.render(w, r, http.StatusOK, "import", p)
}

// handleImport serves every post of the import pages: an upload, the
// correction form's "Preview again" and "File", a volume's "Review and
// file" and "File all".
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request, sess *session) {
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	if err := s.importAccess(sess.User); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	v := r.PostForm
	if v.Get("review") != "" {
		s.importReview(w, r, sess)
		return
	}
	switch do := v.Get("do"); do {
	case "", "upload":
		s.importUpload(w, r, sess)
	case "preview", "file":
		s.importEdit(w, r, sess, do == "file")
	case "fileall":
		s.importFileAll(w, r, sess)
	default:
		s.pageError(w, r, sess, cable.Errorf(cable.EINVALID, "Unknown action %q.", do))
	}
}

// uploadedSource returns the uploaded file, or else the pasted text.
func uploadedSource(r *http.Request) (src []byte, name string, err error) {
	if r.MultipartForm != nil && len(r.MultipartForm.File["file"]) > 0 {
		fh := r.MultipartForm.File["file"][0]
		if fh.Size > 0 {
			f, err := fh.Open()
			if err != nil {
				return nil, "", fmt.Errorf("open upload: %w", err)
			}
			defer f.Close()
			src, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
			if err != nil {
				return nil, "", fmt.Errorf("read upload: %w", err)
			}
			return src, path.Base(strings.ReplaceAll(fh.Filename, "\\", "/")), nil
		}
	}
	text := strings.ReplaceAll(r.PostFormValue("text"), "\r\n", "\n")
	return []byte(text), "", nil
}

func (s *Server) importUpload(w http.ResponseWriter, r *http.Request, sess *session) {
	u := sess.User
	kind := r.PostFormValue("kind")
	src, name, err := uploadedSource(r)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	info := s.pageInfo(w, r, sess, "Import a historical record", "import")
	text := ""
	if name == "" && len(src) <= 1<<20 {
		text = string(src) // kept in the form when it comes back with problems
	}
	p := s.newUploadPage(info, kind, text)
	if kind != importTranscript && kind != importTEI {
		p.addProblem("kind", "Choose what the source is: a scanned telegram's transcript or a TEI volume.")
		p.Kind = importTranscript
	}
	if len(bytes.TrimSpace(src)) == 0 {
		p.addProblem("source", "Choose a file or paste the text.")
	} else if len(src) > maxImportBytes {
		p.addProblem("source", fmt.Sprintf("The source is larger than %d MB.", maxImportBytes>>20))
	}
	if len(p.Problems) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "import", p)
		return
	}

	payload := &importPayload{User: u.Name, Issued: time.Now().UTC(), Kind: kind, Name: name}
	var recs []*cable.HistoricalRecord
	if kind == importTranscript {
		var rec *cable.HistoricalRecord
		rec, err = s.Importers.Transcript(src)
		recs = []*cable.HistoricalRecord{rec}
		payload.Source = string(src)
	} else {
		recs, payload.NotRead, err = s.Importers.TEI(src)
	}
	if err != nil {
		if cable.ErrorCode(err) != cable.EINVALID {
			s.pageError(w, r, sess, err)
			return
		}
		p.addProblem("source", cable.ErrorMessage(err))
		for _, pr := range cable.ErrorProblems(err) {
			p.addProblem("source", pr.String())
		}
		s.render(w, r, http.StatusUnprocessableEntity, "import", p)
		return
	}
	if payload.Records, err = normalizeRecords(recs); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	if kind == importTranscript && len(payload.Records) == 0 {
		s.pageError(w, r, sess, fmt.Errorf("the transcript importer returned no record"))
		return
	}
	token, err := s.sealImport(payload)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	if kind == importTEI {
		s.render(w, r, http.StatusOK, "import_volume", s.newVolumePage(info, payload, token))
		return
	}
	rec := payload.Records[0]
	page, err := s.newImportPage(info, payload, token, rec, formFromRecord(rec))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	status := http.StatusOK
	if ps := checkHistorical(rec); len(ps) > 0 {
		page.addProblems(ps, rec.Cable)
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "import_preview", page)
}

// importReview opens one document of a volume in the correction form.
func (s *Server) importReview(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := s.openImport(r.PostFormValue("payload"), sess.User, time.Now())
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	i, err := strconv.Atoi(r.PostFormValue("review"))
	if err != nil || i < 0 || i >= len(p.Records) {
		s.pageError(w, r, sess, cable.Errorf(cable.EINVALID, "There is no document %q in this volume.", r.PostFormValue("review")))
		return
	}
	rec := p.Records[i]
	one := &importPayload{User: p.User, Issued: time.Now().UTC(), Kind: p.Kind, Name: p.Name, Records: []*cable.HistoricalRecord{rec}}
	token, err := s.sealImport(one)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	page, err := s.newImportPage(s.pageInfo(w, r, sess, "", "import"), one, token, rec, formFromRecord(rec))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	status := http.StatusOK
	if ps := checkHistorical(rec); len(ps) > 0 {
		page.addProblems(ps, rec.Cable)
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "import_preview", page)
}

// importEdit applies the corrections and previews the record again or,
// when file is set and there is no problem, files it.
func (s *Server) importEdit(w http.ResponseWriter, r *http.Request, sess *session, file bool) {
	token := r.PostFormValue("payload")
	p, err := s.openImport(token, sess.User, time.Now())
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	if len(p.Records) != 1 {
		s.pageError(w, r, sess, cable.Errorf(cable.EINVALID, "Review the documents of a volume one at a time."))
		return
	}
	f := parseImportForm(r.PostForm)
	rec, ps := f.apply(p.Records[0])
	ps = append(ps, checkHistorical(rec)...)
	page, err := s.newImportPage(s.pageInfo(w, r, sess, "", "import"), p, token, rec, f)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	if len(ps) > 0 {
		page.addProblems(ps, rec.Cable)
		s.render(w, r, http.StatusUnprocessableEntity, "import_preview", page)
		return
	}
	if !file {
		page.CheckedOK = true
		s.render(w, r, http.StatusOK, "import_preview", page)
		return
	}
	filed, err := s.Archive.FileHistorical(r.Context(), sess.User, rec)
	switch cable.ErrorCode(err) {
	case "":
		id := rec.ID
		if filed != nil && filed.Cable != nil && filed.Cable.ID != "" {
			id = filed.Cable.ID
		}
		s.setFlash(w, "Filed "+id)
		http.Redirect(w, r, "/cables/"+url.PathEscape(id), http.StatusSeeOther)
	case cable.ECONFLICT:
		page.Held = rec.ID
		page.addProblems([]cable.Problem{{Message: cable.ErrorMessage(err)}}, rec.Cable)
		s.render(w, r, http.StatusConflict, "import_preview", page)
	case cable.EINVALID:
		problems := cable.ErrorProblems(err)
		if len(problems) == 0 {
			problems = []cable.Problem{{Message: cable.ErrorMessage(err)}}
		}
		page.addProblems(problems, rec.Cable)
		s.render(w, r, http.StatusUnprocessableEntity, "import_preview", page)
	default:
		s.pageError(w, r, sess, err)
	}
}

// Outcomes of filing one document of a volume.
const (
	outcomeFiled   = "filed"
	outcomeHeld    = "held"
	outcomeRefused = "refused"
)

// fileResult is what became of one document of a volume.
type fileResult struct {
	SourceID, Title, Kind, ID string
	Outcome                   string
	Reason                    string
}

// fileAllPage reports the filing of every readable document of a volume.
type fileAllPage struct {
	pageInfo
	Name                 string
	Results              []fileResult
	Filed, Held, Refused int
	NotRead              []cable.Problem
}

func (s *Server) importFileAll(w http.ResponseWriter, r *http.Request, sess *session) {
	p, err := s.openImport(r.PostFormValue("payload"), sess.User, time.Now())
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	page := &fileAllPage{pageInfo: s.pageInfo(w, r, sess, "Filed from "+displayName(p), "import"), Name: displayName(p), NotRead: p.NotRead}
	for _, rec := range p.Records {
		res := fileResult{SourceID: rec.SourceID, Title: detailString(rec.Details, "title"), Kind: rec.Kind, ID: rec.ID}
		if ps := checkHistorical(rec); len(ps) > 0 {
			res.Outcome, res.Reason = outcomeRefused, problemsText(ps)
		} else {
			filed, err := s.Archive.FileHistorical(r.Context(), sess.User, rec)
			switch code := cable.ErrorCode(err); code {
			case "":
				res.Outcome = outcomeFiled
				if filed != nil && filed.Cable != nil && filed.Cable.ID != "" {
					res.ID = filed.Cable.ID
				}
			case cable.ECONFLICT:
				res.Outcome, res.Reason = outcomeHeld, cable.ErrorMessage(err)
			case cable.EFORBIDDEN, cable.EUNAUTHORIZED:
				s.pageError(w, r, sess, err)
				return
			case cable.EINTERNAL:
				if r.Context().Err() != nil {
					return // the archivist went away
				}
				s.logger().ErrorContext(r.Context(), "file historical record", "id", rec.ID, "source_id", rec.SourceID, "err", err)
				res.Outcome, res.Reason = outcomeRefused, "Internal error; it is logged."
			default:
				res.Outcome, res.Reason = outcomeRefused, errorReason(err)
			}
		}
		switch res.Outcome {
		case outcomeFiled:
			page.Filed++
		case outcomeHeld:
			page.Held++
		default:
			page.Refused++
		}
		page.Results = append(page.Results, res)
	}
	s.render(w, r, http.StatusOK, "import_result", page)
}

// errorReason writes an error for the archivist: its message and every
// problem it names.
func errorReason(err error) string {
	if ps := cable.ErrorProblems(err); len(ps) > 0 {
		return cable.ErrorMessage(err) + ": " + problemsText(ps)
	}
	return cable.ErrorMessage(err)
}

func problemsText(ps []cable.Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

func displayName(p *importPayload) string {
	if p.Name != "" {
		return p.Name
	}
	if p.Kind == importTEI {
		return "the pasted volume"
	}
	return "the pasted transcript"
}

// importPage is the preview of one record beside its source, with the
// correction form.
type importPage struct {
	pageInfo
	Kind    string
	Name    string
	Payload string
	// Source is the transcript as uploaded; empty for a TEI document.
	Source string
	Record *cable.HistoricalRecord
	Cable  *cable.Cable
	Banner Banner
	// Text is the record in the canonical text form, when it renders;
	// otherwise the page shows the fields.
	Text       string
	RenderNote string
	DTG        localTime
	Receipt    *receiptView
	Details    detailsView
	Form       *importForm

	Errors    map[string][]string
	Problems  []problemView
	CheckedOK bool
	// Held is the identifier of the record the holding has already.
	Held string

	Precedences     []cable.Precedence
	Classifications []cable.Classification
	Handling        []cable.Handling
}

func (s *Server) newImportPage(info pageInfo, p *importPayload, token string, rec *cable.HistoricalRecord, f *importForm) (*importPage, error) {
	c := rec.Cable
	title := rec.ID
	if title == "" {
		title = "a " + rec.Kind
	}
	info.Title = "Import " + title
	page := &importPage{
		pageInfo:        info,
		Kind:            p.Kind,
		Name:            displayName(p),
		Payload:         token,
		Source:          p.Source,
		Record:          rec,
		Cable:           c,
		Banner:          NewBanner(c.Classification, c.Captions, c.Handling),
		DTG:             s.localTime(c.DTG, c.Station),
		Details:         newDetailsView(rec),
		Form:            f,
		Errors:          map[string][]string{},
		Precedences:     cable.Precedences(),
		Classifications: cable.Classifications(),
		Handling:        cable.AllHandling(),
	}
	if s.Form != nil {
		view := c.Clone()
		view.ID = rec.ID
		view.Received, view.Distribution = nil, nil
		if text, err := s.Form.Render(view); err == nil {
			page.Text = string(text)
		} else {
			page.RenderNote = "Not in the telegram form: " + errorReason(err)
		}
	}
	if rc := c.Received; rc != nil {
		station := rc.Station
		if station == "" {
			station = rec.ReceivedAt
		}
		page.Receipt = &receiptView{Time: s.localTime(rc.At, station), ControlNumber: rc.ControlNumber}
	}
	return page, nil
}

// Field returns the problems of the input with key, for the template.
func (p *importPage) Field(key string) fieldErrors {
	return fieldErrors{Key: key, Messages: p.Errors[key]}
}

// addProblems puts each problem beside its input and in the summary.
func (p *importPage) addProblems(problems []cable.Problem, c *cable.Cable) {
	for _, pr := range problems {
		key := importKey(pr.Field, c)
		if key != "" {
			p.Errors[key] = append(p.Errors[key], pr.Message)
		}
		p.Problems = append(p.Problems, problemView{Key: key, Label: importLabel(key), Message: pr.Message})
	}
}

// inputView is one text input of the correction form.
type inputView struct {
	Key, Label, Value, Hint string
	Errors                  []string
}

// Input returns the text input with key, for the template.
func (p *importPage) Input(key, label, value, hint string) inputView {
	return inputView{Key: key, Label: label, Value: value, Hint: hint, Errors: p.Errors[key]}
}

// importParagraph is one paragraph box of the correction form.
type importParagraph struct {
	Number int
	Text   string
	Rows   int
	Errors []string
}

// Paragraphs returns the paragraph boxes, with their problems.
func (p *importPage) Paragraphs() []importParagraph {
	out := make([]importParagraph, len(p.Form.Paragraphs))
	for i, text := range p.Form.Paragraphs {
		out[i] = importParagraph{Number: i + 1, Text: text, Rows: min(14, max(2, len(text)/80+1+strings.Count(text, "\n"))), Errors: p.Errors["p"+strconv.Itoa(i+1)]}
	}
	return out
}

// HasHandling reports whether the form has handling instruction h ticked.
func (p *importPage) HasHandling(h cable.Handling) bool {
	for _, x := range p.Form.Handling {
		if hh, err := cable.ParseHandling(x); err == nil && hh == h {
			return true
		}
	}
	return false
}

// stampView is one declassification stamp of the pages.
type stampView struct {
	Page         string
	Declassified bool
	Authority    string
	Section      string
	Letter       string
	Reviewer     string
	Date         string
	Text         string
}

// footnoteView is one footnote of an edition.
type footnoteView struct {
	N, Text, Paragraph string
}

// detailsView is what the source gives beside the record's fields, read
// from the record's details as JSON values.
type detailsView struct {
	Via, FileCode, Pages, Garbles string
	Stamps                        []stampView
	Footnotes                     []footnoteView
	// Other are the remaining details with a value that fits on a line,
	// by name.
	Other     [][2]string
	Warnings  []string
	Corrected []string
}

// Declassified counts the stamps that declare the page declassified.
func (d detailsView) Declassified() int {
	n := 0
	for _, s := range d.Stamps {
		if s.Declassified {
			n++
		}
	}
	return n
}

func newDetailsView(r *cable.HistoricalRecord) detailsView {
	d := detailsView{Warnings: r.Warnings}
	shown := map[string]bool{}
	take := func(k string) string { shown[k] = true; return detailString(r.Details, k) }
	d.Via, d.FileCode, d.Pages, d.Garbles = take("via"), take("file_code"), take("pages"), take("garbles")
	shown["declassification"], shown["footnotes"], shown["corrected"] = true, true, true
	for _, x := range detailList(r.Details["declassification"]) {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		st := stampView{
			Page: detailString(m, "page"), Authority: detailString(m, "authority"), Section: detailString(m, "section"),
			Letter: detailString(m, "letter"), Reviewer: detailString(m, "reviewer"), Date: detailString(m, "date"),
			Text: strings.Join(stringsOf(m["text"]), " / "),
		}
		st.Declassified, _ = m["declassified"].(bool)
		if st.Date == "" {
			if w := detailString(m, "date_as_written"); w != "" {
				st.Date = w + " (as written)"
			}
		}
		d.Stamps = append(d.Stamps, st)
	}
	for _, x := range detailList(r.Details["footnotes"]) {
		if m, ok := x.(map[string]any); ok {
			d.Footnotes = append(d.Footnotes, footnoteView{N: detailString(m, "n"), Text: detailString(m, "text"), Paragraph: detailString(m, "paragraph")})
		}
	}
	d.Corrected = stringsOf(r.Details["corrected"])
	keys := make([]string, 0, len(r.Details))
	for k := range r.Details {
		if !shown[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := detailString(r.Details, k); v != "" && len(v) <= 300 {
			d.Other = append(d.Other, [2]string{strings.ReplaceAll(k, "_", " "), v})
		}
	}
	return d
}

// detailString writes a detail that is a string, number, truth value or
// list of those as one line; "" for anything else.
func detailString(m map[string]any, key string) string {
	return scalarString(m[key])
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s := scalarString(e)
			if s == "" {
				return ""
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	}
	return ""
}

func detailList(v any) []any {
	l, _ := v.([]any)
	return l
}

func stringsOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case []string:
		return slices.Clone(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// volumeDoc is one document of a volume in its list.
type volumeDoc struct {
	Index                 int
	Kind, SourceID, Title string
	ID                    string
	DTG                   string
	Classification        cable.Classification
	Problems              []string
}

// volumePage lists the documents of an uploaded TEI volume.
type volumePage struct {
	pageInfo
	Name    string
	Payload string
	Docs    []volumeDoc
	NotRead []cable.Problem
	Counts  string
}

func (s *Server) newVolumePage(info pageInfo, p *importPayload, token string) *volumePage {
	info.Title = "Import " + displayName(p)
	page := &volumePage{pageInfo: info, Name: displayName(p), Payload: token, NotRead: p.NotRead}
	counts := map[string]int{}
	var kinds []string
	for i, rec := range p.Records {
		c := rec.Cable
		doc := volumeDoc{Index: i, Kind: rec.Kind, SourceID: rec.SourceID, Title: detailString(rec.Details, "title"), ID: rec.ID, Classification: c.Classification}
		if !c.DTG.IsZero() {
			doc.DTG = cable.FormatDTG(c.DTG)
		} else {
			doc.DTG = detailString(rec.Details, "date")
		}
		for _, pr := range checkHistorical(rec) {
			doc.Problems = append(doc.Problems, pr.String())
		}
		page.Docs = append(page.Docs, doc)
		if counts[rec.Kind] == 0 {
			kinds = append(kinds, rec.Kind)
		}
		counts[rec.Kind]++
	}
	var parts []string
	for _, k := range kinds {
		name := k
		if counts[k] > 1 {
			name = plural(k)
		}
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], name))
	}
	if n := len(p.NotRead); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not read", n))
	}
	page.Counts = strings.Join(parts, ", ")
	return page
}

func plural(k string) string {
	switch {
	case strings.HasSuffix(k, "um"):
		return k[:len(k)-2] + "a" // memorandum
	case strings.HasSuffix(k, "s"), strings.HasSuffix(k, "x"):
		return k + "es"
	}
	return k + "s"
}

// parseLimited parses a state-changing request's form, multipart or
// URL-encoded, reading at most limit bytes of body.
func parseLimited(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	if isMultipart(r) {
		err = r.ParseMultipartForm(multipartMemory)
	} else {
		err = r.ParseForm()
	}
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return cable.Errorf(cable.EINVALID, "The form is larger than %d MB and was refused.", max(1, limit>>20))
	}
	return cable.Errorf(cable.EINVALID, "The form could not be read.")
}

func isMultipart(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "multipart/form-data")
}
