package http

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	cable "github.com/cable-archive/cable"
)

// uiPageSize is the number of cables on a page of a list.
const uiPageSize = 50

// pageInfo is what every page's layout shows.
type pageInfo struct {
	Title  string
	Nav    string
	User   *cable.User
	CSRF   string
	Hosted []string
	Flash  string
	// CanImport shows the archivist's Import link.
	CanImport bool
}

// pageInfo returns the layout data for a signed-in page, taking the
// flash message left by the previous request.
func (s *Server) pageInfo(w http.ResponseWriter, r *http.Request, sess *session, title, nav string) pageInfo {
	p := pageInfo{Title: title, Nav: nav, Hosted: s.Stations}
	if sess != nil {
		p.User, p.CSRF = sess.User, sess.CSRF
		p.CanImport = s.Importers != nil && s.Archive != nil && canImport(sess.User)
	}
	if c, err := r.Cookie(flashCookie); err == nil {
		if msg, err := url.QueryUnescape(c.Value); err == nil {
			p.Flash = msg
		}
		http.SetCookie(w, s.cookie(flashCookie, "", "/", -1))
	}
	return p
}

func (s *Server) setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, s.cookie(flashCookie, url.QueryEscape(msg), "/", 60))
}

// render executes a page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.logger().ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage shows an error to a person.
type errorPage struct {
	pageInfo
	Status  int
	Message string
}

// pageError shows err as a page with the status of its code; internal
// errors are logged and never shown.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	code := cable.ErrorCode(err)
	if code == cable.EUNAUTHORIZED {
		s.toSignIn(w, r)
		return
	}
	status := ErrorStatus(code)
	if code == cable.EINTERNAL {
		s.logger().ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := errorPage{pageInfo: s.pageInfo(w, r, sess, http.StatusText(status), ""), Status: status, Message: cable.ErrorMessage(err)}
	s.render(w, r, status, "error", &p)
}

// pager is the navigation of a paged list.
type pager struct {
	Page, Pages, Total, From, To int
	Prev, Next                   string
}

func newPager(base url.Values, path string, page, total int) pager {
	p := pager{Page: page, Total: total, Pages: (total + uiPageSize - 1) / uiPageSize}
	if total > 0 {
		p.From = (page-1)*uiPageSize + 1
		p.To = min(page*uiPageSize, total)
	}
	link := func(n int) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		return path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// inboxPage is one office's inbox.
type inboxPage struct {
	pageInfo
	Office  string
	Offices []string
	Cables  []*cable.Summary
	Pager   pager
}

func (s *Server) handleInboxPage(w http.ResponseWriter, r *http.Request, sess *session) {
	office, err := userOffice(sess.User, r.URL.Query().Get("office"))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	page := pageNumber(r)
	list, total, err := s.Cables.Inbox(r.Context(), sess.User, office, cable.CableFilter{Limit: uiPageSize, Offset: (page - 1) * uiPageSize})
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	p := inboxPage{
		pageInfo: s.pageInfo(w, r, sess, "Inbox "+office, "inbox"),
		Office:   office,
		Offices:  sess.User.Offices,
		Cables:   list,
		Pager:    newPager(url.Values{"office": {office}}, "/inbox", page, total),
	}
	s.render(w, r, http.StatusOK, "inbox", &p)
}

// sentPage is the list of cables the user's station released.
type sentPage struct {
	pageInfo
	Cables []*cable.Summary
	Pager  pager
}

func (s *Server) handleSentPage(w http.ResponseWriter, r *http.Request, sess *session) {
	page := pageNumber(r)
	list, total, err := s.Cables.Sent(r.Context(), sess.User, cable.CableFilter{Limit: uiPageSize, Offset: (page - 1) * uiPageSize})
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	p := sentPage{
		pageInfo: s.pageInfo(w, r, sess, "Sent from "+sess.User.Station, "sent"),
		Cables:   list,
		Pager:    newPager(url.Values{}, "/sent", page, total),
	}
	s.render(w, r, http.StatusOK, "sent", &p)
}

// searchPage is a search and its hits.
type searchPage struct {
	pageInfo
	Query  string
	Done   bool
	Cables []*cable.Summary
	Pager  pager
}

func (s *Server) handleSearchPage(w http.ResponseWriter, r *http.Request, sess *session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := searchPage{pageInfo: s.pageInfo(w, r, sess, "Search", "search"), Query: q}
	if q != "" {
		page := pageNumber(r)
		list, total, err := s.Cables.Search(r.Context(), sess.User, cable.CableFilter{Query: q, Limit: uiPageSize, Offset: (page - 1) * uiPageSize})
		if err != nil {
			s.pageError(w, r, sess, err)
			return
		}
		p.Done, p.Cables = true, list
		p.Pager = newPager(url.Values{"q": {q}}, "/search", page, total)
		p.Title = "Search: " + q
	}
	s.render(w, r, http.StatusOK, "search", &p)
}

// cablePage shows one cable as a cable looks, with what the records keep
// beside it.
type cablePage struct {
	pageInfo
	Record       *cable.Record
	Cable        *cable.Cable
	Banner       Banner
	Text         string
	DTG          localTime
	Receipt      *receiptView
	Distribution *cable.Distribution
	Deliveries   []deliveryView
	TextURL      string
}

type receiptView struct {
	Time          localTime
	ControlNumber string
}

type deliveryView struct {
	Station       string
	Time          localTime
	ControlNumber string
	Distribution  cable.Distribution
}

func (s *Server) handleCablePage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	id, asText := strings.CutSuffix(id, ".txt")
	rec, err := s.Cables.Cable(r.Context(), sess.User, id)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	if asText {
		writeText(w, rec)
		return
	}
	p, err := s.cablePage(rec, s.pageInfo(w, r, sess, "", "inbox"), sess.User)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, r, http.StatusOK, "cable", p)
}

// cablePage builds the view of a record as user sees it.
func (s *Server) cablePage(rec *cable.Record, info pageInfo, u *cable.User) (*cablePage, error) {
	c := rec.Cable
	if c == nil {
		return nil, fmt.Errorf("record without cable")
	}
	info.Title = c.ID + " " + c.Subject
	p := &cablePage{
		pageInfo:     info,
		Record:       rec,
		Cable:        c,
		Banner:       NewBanner(c.Classification, c.Captions, c.Handling),
		Text:         string(rec.Text),
		DTG:          s.localTime(c.DTG, c.Station),
		Distribution: c.Distribution,
		TextURL:      "/cables/" + url.PathEscape(c.ID) + ".txt",
	}
	if len(rec.Text) == 0 && s.Form != nil {
		text, err := s.Form.Render(c)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", c.ID, err)
		}
		p.Text = string(text)
	}
	if rc := c.Received; rc != nil {
		station := rc.Station
		if station == "" && u != nil {
			station = u.Station
		}
		p.Receipt = &receiptView{Time: s.localTime(rc.At, station), ControlNumber: rc.ControlNumber}
	}
	for _, d := range rec.Deliveries {
		p.Deliveries = append(p.Deliveries, deliveryView{
			Station:       d.Station,
			Time:          s.localTime(d.Receipt.At, d.Station),
			ControlNumber: d.Receipt.ControlNumber,
			Distribution:  d.Distribution,
		})
	}
	return p, nil
}
