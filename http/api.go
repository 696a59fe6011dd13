package http

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// maxDraftBytes bounds a draft's body; the Long Telegram is about 30 KB.
const maxDraftBytes = 1 << 20

// Page sizes of lists.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error  string          `json:"error"`
	Errors []cable.Problem `json:"errors,omitempty"`
}

// writeJSON encodes v before writing anything, so that a value that
// cannot be encoded is a clean 500 rather than half a body.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		s.logger().ErrorContext(r.Context(), "encode JSON response", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "Internal error."})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) // a failed write means the client went away
}

// apiError writes err as JSON with the status of its code. Internal
// errors are logged and never shown.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := cable.ErrorCode(err)
	status := ErrorStatus(code)
	body := errorBody{Error: cable.ErrorMessage(err)}
	switch code {
	case cable.EINTERNAL:
		s.logger().ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case cable.EINVALID:
		body.Errors = cable.ErrorProblems(err)
		if len(body.Errors) == 0 {
			body.Errors = []cable.Problem{{Message: body.Error}}
		}
	case cable.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="cable"`)
	}
	s.writeJSON(w, r, status, body)
}

// badRequest writes a 400 in the shape of a validation error.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, status int, field, message string) {
	s.writeJSON(w, r, status, errorBody{Error: message, Errors: []cable.Problem{{Field: field, Message: message}}})
}

type userKeyType struct{}

// bearer authenticates the API caller by the Authorization header.
func (s *Server) bearer(h func(http.ResponseWriter, *http.Request, *cable.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			s.apiError(w, r, cable.Errorf(cable.EUNAUTHORIZED, "Sign in: send Authorization: Bearer <token>."))
			return
		}
		u, err := s.Users.UserByToken(r.Context(), token)
		if err != nil {
			if c := cable.ErrorCode(err); c == cable.ENOTFOUND || c == cable.EUNAUTHORIZED {
				err = cable.Errorf(cable.EUNAUTHORIZED, "The bearer token is unknown or expired.")
			}
			s.apiError(w, r, err)
			return
		}
		setUser(r, u)
		h(w, r, u)
	}
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// releasedJSON answers a release.
type releasedJSON struct {
	ID     string    `json:"id"`
	Serial int       `json:"serial"`
	DTG    time.Time `json:"dtg"`
	SHA256 string    `json:"sha256"`
}

func (s *Server) handleCreateCable(w http.ResponseWriter, r *http.Request, u *cable.User) {
	draft, ok := s.readDraft(w, r, u)
	if !ok {
		return
	}
	rec, err := s.Cables.Release(r.Context(), u, draft)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cables/"+url.PathEscape(rec.Cable.ID))
	s.writeJSON(w, r, http.StatusCreated, releasedJSON{ID: rec.Cable.ID, Serial: rec.Cable.Serial, DTG: rec.Cable.DTG, SHA256: rec.SHA256})
}

func (s *Server) handleCheckCable(w http.ResponseWriter, r *http.Request, u *cable.User) {
	draft, ok := s.readDraft(w, r, u)
	if !ok {
		return
	}
	if err := s.Cables.Check(r.Context(), u, draft); err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]bool{"ok": true})
}

// readDraft reads a draft in JSON or in the text form. When the draft
// cannot be read it writes the error response, naming every problem it
// can find, and reports false.
func (s *Server) readDraft(w http.ResponseWriter, r *http.Request, u *cable.User) (*cable.Cable, bool) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediaType != "application/json" && mediaType != "text/plain") {
		s.badRequest(w, r, http.StatusUnsupportedMediaType, "body", "Send the draft as application/json or as the text form in text/plain.")
		return nil, false
	}
	body, err := readBody(w, r, maxDraftBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.badRequest(w, r, http.StatusRequestEntityTooLarge, "body", fmt.Sprintf("The draft is larger than %d bytes.", maxDraftBytes))
			return nil, false
		}
		s.badRequest(w, r, http.StatusBadRequest, "body", "The body could not be read.")
		return nil, false
	}

	if mediaType == "text/plain" {
		draft, err := s.Form.Parse(body, true)
		if err != nil {
			s.apiError(w, r, err)
			return nil, false
		}
		if draft.Station == "" {
			draft.Station = u.Station
		}
		return draft, true
	}

	draft, problems, err := DecodeDraftJSON(body)
	if err != nil {
		s.badRequest(w, r, http.StatusBadRequest, "body", err.Error())
		return nil, false
	}
	if draft.Station == "" {
		draft.Station = u.Station
	}
	if len(problems) > 0 {
		s.apiError(w, r, s.allProblems(r.Context(), u, draft, problems))
		return nil, false
	}
	return draft, true
}

// readBody reads r's body, at most max bytes, into a buffer of the size
// its Content-Length gives, where io.ReadAll would grow one from 512
// bytes, copying as it goes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, max)
	if r.ContentLength <= 0 || r.ContentLength > max {
		return io.ReadAll(body)
	}
	// One byte more than announced shows a body longer than its
	// Content-Length (net/http's server cuts one short, but a handler may
	// be called otherwise); the rest is then read as it comes.
	buf := make([]byte, r.ContentLength+1)
	n, err := io.ReadFull(body, buf)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return buf[:n], nil
	case nil:
		rest, err := io.ReadAll(body)
		return append(buf, rest...), err
	}
	return nil, err
}

// allProblems joins the problems found reading a draft with those the
// service finds in what could be read, so that one answer names every
// problem. The service's word on a field already reported is dropped.
func (s *Server) allProblems(ctx context.Context, u *cable.User, draft *cable.Cable, read []cable.Problem) error {
	all := append([]cable.Problem(nil), read...)
	err := s.Cables.Check(ctx, u, draft)
	if code := cable.ErrorCode(err); code != "" && code != cable.EINVALID {
		return err
	}
	seen := map[string]bool{}
	for _, p := range read {
		seen[p.Field] = true
	}
	for _, p := range cable.ErrorProblems(err) {
		if !seen[p.Field] {
			all = append(all, p)
		}
	}
	return cable.Invalid("invalid cable", all)
}

// recordJSON is a record as the API shows it: the cable's fields at the
// top level, then what the records keep beside it.
type recordJSON struct {
	*cable.Cable
	SHA256        string                    `json:"sha256"`
	Origin        cable.Origin              `json:"origin"`
	StoredAt      time.Time                 `json:"stored_at"`
	Deliveries    []cable.Delivery          `json:"deliveries"`
	Transmissions []cable.TransmissionState `json:"transmissions"`
	AnsweredBy    []string                  `json:"answered_by"`
}

func newRecordJSON(rec *cable.Record) recordJSON {
	c := *rec.Cable
	// A historical record may lack addressees or paragraphs; the API
	// promises arrays all the same.
	if c.To == nil {
		c.To = []cable.Addressee{}
	}
	if c.Paragraphs == nil {
		c.Paragraphs = []cable.Paragraph{}
	}
	out := recordJSON{
		Cable:         &c,
		SHA256:        rec.SHA256,
		Origin:        rec.Origin,
		StoredAt:      rec.StoredAt,
		Deliveries:    rec.Deliveries,
		Transmissions: rec.Transmissions,
		AnsweredBy:    rec.AnsweredBy,
	}
	if out.Deliveries == nil {
		out.Deliveries = []cable.Delivery{}
	}
	if out.Transmissions == nil {
		out.Transmissions = []cable.TransmissionState{}
	}
	if out.AnsweredBy == nil {
		out.AnsweredBy = []string{}
	}
	return out
}

func (s *Server) handleGetCable(w http.ResponseWriter, r *http.Request, u *cable.User) {
	rec, err := s.Cables.Cable(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	if prefersText(r.Header.Get("Accept")) {
		writeText(w, rec)
		return
	}
	s.writeJSON(w, r, http.StatusOK, newRecordJSON(rec))
}

// writeText writes a record's canonical text, byte for byte.
func writeText(w http.ResponseWriter, rec *cable.Record) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(rec.Text)))
	w.WriteHeader(http.StatusOK)
	w.Write(rec.Text)
}

// prefersText reports whether an Accept header ranks text/plain above
// application/json; of two ranked equal, the one named first wins.
// Without either, JSON is served.
func prefersText(accept string) bool {
	bestText, bestJSON := -1.0, -1.0
	textFirst := false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/plain":
			if bestText < 0 && bestJSON < 0 {
				textFirst = true
			}
			bestText = max(bestText, q)
		case "application/json":
			bestJSON = max(bestJSON, q)
		}
	}
	if bestText <= 0 {
		return false
	}
	return bestText > bestJSON || (bestText == bestJSON && textFirst)
}

// listJSON is a page of a cable list and the count of all that match.
type listJSON struct {
	Total  int              `json:"total"`
	Cables []*cable.Summary `json:"cables"`
}

func (s *Server) writeList(w http.ResponseWriter, r *http.Request, list []*cable.Summary, total int) {
	if list == nil {
		list = []*cable.Summary{}
	}
	s.writeJSON(w, r, http.StatusOK, listJSON{Total: total, Cables: list})
}

// pageParams reads limit and offset, naming each bad one.
func pageParams(q url.Values) (limit, offset int, err error) {
	var ps cable.Problems
	limit = defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			ps.Add("limit", "limit must be a whole number from 1 to %d", maxLimit)
		} else {
			limit = n
		}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			ps.Add("offset", "offset must be a whole number, 0 or more")
		} else {
			offset = n
		}
	}
	return limit, offset, ps.Err("invalid query")
}

// userOffice returns the office a list is for: the one asked for, which
// must be the user's, or the user's first.
func userOffice(u *cable.User, office string) (string, error) {
	if office == "" {
		if len(u.Offices) == 0 {
			return "", cable.Errorf(cable.EFORBIDDEN, "%s belongs to no office and has no inbox.", u.Name)
		}
		return u.Offices[0], nil
	}
	if !u.InOffice(office) {
		return "", cable.Errorf(cable.EFORBIDDEN, "%s is not in office %s.", u.Name, office)
	}
	return office, nil
}

func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request, u *cable.User) {
	q := r.URL.Query()
	limit, offset, err := pageParams(q)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	office, err := userOffice(u, q.Get("office"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	list, total, err := s.Cables.Inbox(r.Context(), u, office, cable.CableFilter{Limit: limit, Offset: offset})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeList(w, r, list, total)
}

func (s *Server) handleSent(w http.ResponseWriter, r *http.Request, u *cable.User) {
	limit, offset, err := pageParams(r.URL.Query())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	list, total, err := s.Cables.Sent(r.Context(), u, cable.CableFilter{Limit: limit, Offset: offset})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeList(w, r, list, total)
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, u *cable.User) {
	q := r.URL.Query()
	limit, offset, err := pageParams(q)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	list, total, err := s.Cables.Search(r.Context(), u, cable.CableFilter{Query: strings.TrimSpace(q.Get("q")), Limit: limit, Offset: offset})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeList(w, r, list, total)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, u *cable.User) {
	s.writeJSON(w, r, http.StatusOK, u)
}

// stationsJSON is the station directory as the API shows it.
type stationsJSON struct {
	// Hosted are the stations this node hosts.
	Hosted   []string         `json:"hosted"`
	Stations []*cable.Station `json:"stations"`
}

func (s *Server) handleStations(w http.ResponseWriter, r *http.Request, u *cable.User) {
	out := stationsJSON{Hosted: s.Stations, Stations: []*cable.Station{}}
	if out.Hosted == nil {
		out.Hosted = []string{}
	}
	if s.Directory != nil {
		out.Stations = s.Directory.Stations()
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// equalSecret compares two secrets in constant time; an empty secret
// never matches.
func equalSecret(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
