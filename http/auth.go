package http

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	cable "github.com/cable-archive/cable"
)

// Cookies of the web UI.
const (
	sessionCookie = "cable_session"
	// signinCookie carries the pre-session anti-forgery token the sign-in
	// form must echo (double submit).
	signinCookie = "cable_signin"
	flashCookie  = "cable_flash"
)

// maxFormBytes bounds a form post.
const maxFormBytes = 1 << 20

// session is a signed-in person in the web UI.
type session struct {
	User  *cable.User
	CSRF  string
	Token string
}

func (s *Server) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

// newSecret returns 32 random bytes, base64url-encoded.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkCSRF refuses a state-changing form post unless it comes from this
// site (Sec-Fetch-Site or Origin) and carries the expected anti-forgery
// token in its csrf field. The form must be parsed already.
func (s *Server) checkCSRF(r *http.Request, want string) error {
	if err := s.crossSite.Check(r); err != nil {
		return cable.Errorf(cable.EFORBIDDEN, "This form was posted from another site and was refused.")
	}
	if !equalSecret(r.PostFormValue("csrf"), want) {
		return cable.Errorf(cable.EFORBIDDEN, "This form has expired or was not sent by this site. Reload the page and try again.")
	}
	return nil
}

// session authenticates a web UI request by its session cookie and
// checks every state-changing request against forgery.
func (s *Server) session(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return s.sessionLimit(maxFormBytes, h)
}

// sessionLimit is session for a route whose posts may hold up to limit
// bytes, URL-encoded or multipart (an upload).
func (s *Server) sessionLimit(limit int64, h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			s.toSignIn(w, r)
			return
		}
		u, csrf, err := s.Users.UserBySession(r.Context(), c.Value)
		if err != nil {
			if code := cable.ErrorCode(err); code == cable.ENOTFOUND || code == cable.EUNAUTHORIZED {
				http.SetCookie(w, s.cookie(sessionCookie, "", "/", -1))
				s.toSignIn(w, r)
				return
			}
			s.pageError(w, r, nil, err)
			return
		}
		setUser(r, u)
		sess := &session{User: u, CSRF: csrf, Token: c.Value}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := parseLimited(w, r, limit); err != nil {
				s.pageError(w, r, sess, err)
				return
			}
			if err := s.checkCSRF(r, csrf); err != nil {
				s.pageError(w, r, sess, err)
				return
			}
		}
		h(w, r, sess)
	}
}

// toSignIn sends a visitor without a session to the sign-in page, to
// come back where they were going.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns next if it is a path on this site, else the inbox.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/inbox"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/inbox"
	}
	return next
}

// signInPage is the sign-in form.
type signInPage struct {
	pageInfo
	Name  string
	Next  string
	Error string
}

// signInToken returns the pre-session anti-forgery token, issuing one
// if the browser holds none.
func (s *Server) signInToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := newSecret()
	http.SetCookie(w, s.cookie(signinCookie, tok, "/signin", 3600))
	return tok
}

func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	p := signInPage{pageInfo: pageInfo{Title: "Sign in", Hosted: s.Stations}, Next: safeNext(r.URL.Query().Get("next"))}
	p.CSRF = s.signInToken(w, r)
	s.render(w, r, http.StatusOK, "signin", &p)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, nil, cable.Errorf(cable.EINVALID, "The form could not be read."))
		return
	}
	p := signInPage{pageInfo: pageInfo{Title: "Sign in", Hosted: s.Stations}, Name: r.PostFormValue("name"), Next: safeNext(r.PostFormValue("next"))}
	var want string
	if c, err := r.Cookie(signinCookie); err == nil {
		want = c.Value
	}
	if err := s.checkCSRF(r, want); err != nil {
		p.CSRF = s.signInToken(w, r)
		p.Error = cable.ErrorMessage(err)
		s.render(w, r, http.StatusForbidden, "signin", &p)
		return
	}
	p.CSRF = want
	u, err := s.Users.Authenticate(r.Context(), p.Name, r.PostFormValue("password"))
	if err != nil {
		if code := cable.ErrorCode(err); code != cable.EUNAUTHORIZED && code != cable.ENOTFOUND {
			s.pageError(w, r, nil, err)
			return
		}
		p.Error = "Wrong name or password."
		s.render(w, r, http.StatusUnauthorized, "signin", &p)
		return
	}
	token, _, err := s.Users.CreateSession(r.Context(), u)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	setUser(r, u)
	http.SetCookie(w, s.cookie(sessionCookie, token, "/", 0))
	http.SetCookie(w, s.cookie(signinCookie, "", "/signin", -1))
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := s.Users.EndSession(r.Context(), sess.Token); err != nil && cable.ErrorCode(err) != cable.ENOTFOUND {
		s.pageError(w, r, sess, err)
		return
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", "/", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
