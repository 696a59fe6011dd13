package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// The fakes below stand in for the centre's services in the unit tests
// of this package only; the end-to-end tests in cmd/cable run the real ones.

func testDirectory(t testing.TB) *cable.Directory {
	t.Helper()
	dir, err := cable.NewDirectory([]cable.Station{
		{Code: "STATE", Kind: cable.Headquarters, TimeZone: "America/New_York", Address: "SECSTATE WASHDC",
			Offices: []cable.Office{{Symbol: "EUR", Name: "European Affairs"}, {Symbol: "NEA", Name: "Near Eastern Affairs"}, {Symbol: "S", Name: "Secretary"}}},
		{Code: "MOSCOW", Kind: cable.Post, TimeZone: "Europe/Moscow", Address: "AMEMBASSY MOSCOW",
			Offices: []cable.Office{{Symbol: "POL", Name: "Political Section"}}},
		{Code: "LONDON", Kind: cable.Post, TimeZone: "Europe/London", Address: "AMEMBASSY LONDON",
			Offices: []cable.Office{{Symbol: "POL", Name: "Political Section"}}},
		{Code: "WAR", Kind: cable.Relay, TimeZone: "America/New_York", Address: "WAR DEPARTMENT"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	drafterMoscow = &cable.User{ID: 1, Name: "drafter.moscow", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}}
	readerEUR     = &cable.User{ID: 2, Name: "reader.eur", Station: "STATE", Offices: []string{"EUR", "S"}, Clearance: cable.Secret}
	readerNEA     = &cable.User{ID: 3, Name: "reader.nea", Station: "STATE", Offices: []string{"NEA"}, Clearance: cable.Secret}
)

// fakeCables keeps records in memory and applies the domain's policy.
type fakeCables struct {
	dir *cable.Directory

	mu      sync.Mutex
	records map[string]*cable.Record
	serial  int
	panic   bool
}

func newFakeCables(dir *cable.Directory) *fakeCables {
	return &fakeCables{dir: dir, records: map[string]*cable.Record{}}
}

func (f *fakeCables) Check(ctx context.Context, u *cable.User, c *cable.Cable) error {
	if f.panic {
		panic("fake failure")
	}
	if !u.HasRole(cable.RoleDrafter) {
		return cable.Errorf(cable.EFORBIDDEN, "%s may not draft", u.Name)
	}
	return cable.Validate(c, cable.ValidateOptions{Directory: f.dir, Drafter: u, At: time.Now(), Draft: true})
}

func (f *fakeCables) Release(ctx context.Context, u *cable.User, draft *cable.Cable) (*cable.Record, error) {
	if err := f.Check(ctx, u, draft); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serial++
	c := draft.Clone()
	c.Serial = f.serial
	c.DTG = time.Date(2026, 2, 22, 18, 0, 0, 0, time.UTC)
	c.ID = cable.Identifier(2026, c.Station, c.Serial)
	text, _ := fakeForm{}.Render(c)
	rec := &cable.Record{Cable: c, Text: text, SHA256: cable.SHA256Hex(text), Origin: cable.OriginReleased, StoredAt: c.DTG}
	f.records[c.ID] = rec
	return rec, nil
}

func (f *fakeCables) put(rec *cable.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[rec.Cable.ID] = rec
}

func (f *fakeCables) Cable(ctx context.Context, u *cable.User, id string) (*cable.Record, error) {
	if f.panic {
		panic("fake failure")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.records[id]
	if !ok || !cable.CanRead(u, rec.Cable, rec.Cable.Distribution) {
		return nil, cable.Errorf(cable.ENOTFOUND, "no cable %s", id)
	}
	return rec, nil
}

func (f *fakeCables) list(u *cable.User, keep func(*cable.Record) bool) []*cable.Summary {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*cable.Summary
	for _, rec := range f.records {
		c := rec.Cable
		if !cable.CanRead(u, c, c.Distribution) || !keep(rec) {
			continue
		}
		out = append(out, &cable.Summary{ID: c.ID, Station: c.Station, Serial: c.Serial, DTG: c.DTG, Precedence: c.Precedence,
			Classification: c.Classification, Captions: c.Captions, Subject: c.Subject, Received: c.Received, Distribution: c.Distribution,
			Role: cable.RoleAction, Transmissions: rec.Transmissions, Snippet: "the «Soviet» outlook & <b>more</b>"})
	}
	return out
}

func (f *fakeCables) Inbox(ctx context.Context, u *cable.User, office string, fl cable.CableFilter) ([]*cable.Summary, int, error) {
	out := f.list(u, func(r *cable.Record) bool { return r.Cable.Distribution.Has(office) })
	return out, len(out), nil
}

func (f *fakeCables) Sent(ctx context.Context, u *cable.User, fl cable.CableFilter) ([]*cable.Summary, int, error) {
	out := f.list(u, func(r *cable.Record) bool { return r.Cable.Station == u.Station })
	return out, len(out), nil
}

func (f *fakeCables) Search(ctx context.Context, u *cable.User, fl cable.CableFilter) ([]*cable.Summary, int, error) {
	out := f.list(u, func(r *cable.Record) bool {
		return strings.Contains(strings.ToLower(string(r.Text)), strings.ToLower(fl.Query))
	})
	return out, len(out), nil
}

// fakeUsers holds bearer tokens and sessions in memory.
type fakeUsers struct {
	mu       sync.Mutex
	tokens   map[string]*cable.User
	users    map[string]*cable.User
	sessions map[string]fakeSession
	n        int
}

type fakeSession struct {
	user *cable.User
	csrf string
}

func newFakeUsers(us ...*cable.User) *fakeUsers {
	f := &fakeUsers{tokens: map[string]*cable.User{}, users: map[string]*cable.User{}, sessions: map[string]fakeSession{}}
	for _, u := range us {
		f.users[u.Name] = u
		f.tokens["token-"+u.Name] = u
	}
	return f
}

func (f *fakeUsers) Authenticate(ctx context.Context, name, password string) (*cable.User, error) {
	if u, ok := f.users[name]; ok && password == "pw-"+name {
		return u, nil
	}
	return nil, cable.Errorf(cable.EUNAUTHORIZED, "wrong name or password")
}

func (f *fakeUsers) CreateSession(ctx context.Context, u *cable.User) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	token, csrf := fmt.Sprintf("session-%d", f.n), fmt.Sprintf("csrf-%d", f.n)
	f.sessions[token] = fakeSession{u, csrf}
	return token, csrf, nil
}

func (f *fakeUsers) UserBySession(ctx context.Context, token string) (*cable.User, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sessions[token]; ok {
		return s.user, s.csrf, nil
	}
	return nil, "", cable.Errorf(cable.ENOTFOUND, "no session")
}

func (f *fakeUsers) EndSession(ctx context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, token)
	return nil
}

func (f *fakeUsers) UserByToken(ctx context.Context, token string) (*cable.User, error) {
	if u, ok := f.tokens[token]; ok {
		return u, nil
	}
	return nil, cable.Errorf(cable.ENOTFOUND, "no token")
}

// fakeForm renders a simple text; Parse accepts one fixed draft and
// rejects any text that starts with BAD.
type fakeForm struct{}

func (fakeForm) Render(c *cable.Cable) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\nFM %s\n%s\nSUBJECT: %s\n", c.Precedence, cable.FormatDTG(c.DTG), c.Station, c.Classification, c.Subject)
	for _, p := range c.Paragraphs {
		fmt.Fprintf(&b, "\n%d. (%s) %s\n", p.Number, p.Classification.PortionMark(), p.Text)
	}
	fmt.Fprintf(&b, "\n%s\n", c.Signature)
	return b.Bytes(), nil
}

// Cut and Join: the web UI never sections a cable.
func (f fakeForm) Cut(c *cable.Cable, limit int) ([][]byte, error) {
	b, err := f.Render(c)
	return [][]byte{b}, err
}

func (fakeForm) Join(parts [][]byte) ([]byte, error) { return bytes.Join(parts, nil), nil }

func (fakeForm) Parse(text []byte, draft bool) (*cable.Cable, error) {
	if bytes.HasPrefix(text, []byte("BAD")) {
		return nil, cable.Invalid("invalid text", []cable.Problem{{Field: "line 1", Message: "want a precedence line"}, {Field: "line 3", Message: "no TO line"}})
	}
	return validDraft(), nil
}

// validDraft is a SECRET draft from MOSCOW that passes validation.
func validDraft() *cable.Cable {
	return &cable.Cable{
		Station:        "MOSCOW",
		Precedence:     cable.Immediate,
		Classification: cable.Secret,
		To:             []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}},
		Tags:           []string{"PREL", "UR"},
		Subject:        "Soviet outlook",
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Secret, Text: "Basic features of the post-war Soviet outlook."},
			{Number: 2, Classification: cable.Unclassified, Text: "Further parts follow."},
		},
		Signature: "KENNAN",
		Authority: &cable.Authority{ClassifiedBy: "GEORGE F. KENNAN, CHARGE", Reason: "1.4 (D)", DeclassifyOn: cable.DeclassifyOn{Date: time.Date(2036, 2, 22, 0, 0, 0, 0, time.UTC)}},
	}
}

// receivedRecord is a cable received at STATE, distributed for action to EUR.
func receivedRecord() *cable.Record {
	c := validDraft()
	c.ID, c.Serial = "2026MOSCOW00511", 511
	c.DTG = time.Date(2026, 2, 22, 18, 0, 0, 0, time.UTC)
	c.References = []cable.Reference{{Text: "STATE 284", ID: "2026STATE00284"}, {Text: "LONDON 17"}}
	c.Received = &cable.Receipt{Station: "STATE", At: time.Date(2026, 2, 22, 20, 52, 0, 0, time.UTC), ControlNumber: "8963"}
	c.Distribution = &cable.Distribution{Action: "EUR", Info: []string{"S"}}
	text, _ := fakeForm{}.Render(c)
	sent := c.DTG.Add(time.Minute)
	return &cable.Record{
		Cable: c, Text: text, SHA256: cable.SHA256Hex(text), Origin: cable.OriginReceived, StoredAt: c.Received.At,
		Deliveries:    []cable.Delivery{{Station: "STATE", Receipt: *c.Received, Distribution: *c.Distribution}},
		Transmissions: []cable.TransmissionState{{Destination: "STATE", State: cable.TransmissionReceived, QueuedAt: c.DTG, SentAt: &sent, ReceivedAt: &c.Received.At, Hop: "WAR", ControlNumber: "8963"}},
		AnsweredBy:    []string{"2026STATE00300"},
	}
}

// testEnv is a Server over the fakes.
type testEnv struct {
	srv    *Server
	cables *fakeCables
	users  *fakeUsers
	h      http.Handler
	logs   *bytes.Buffer
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	dir := testDirectory(t)
	env := &testEnv{cables: newFakeCables(dir), users: newFakeUsers(drafterMoscow, readerEUR, readerNEA), logs: &bytes.Buffer{}}
	env.srv = &Server{
		Cables:    env.cables,
		Users:     env.users,
		Form:      fakeForm{},
		Directory: dir,
		Stations:  []string{"STATE", "MOSCOW"},
		Logger:    slog.New(slog.NewTextHandler(env.logs, nil)),
	}
	env.h = env.srv.Handler()
	return env
}

// do serves one request and returns the response.
func (env *testEnv) do(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	return rec.Result()
}

func (env *testEnv) api(method, path, user, contentType string, body string) *http.Response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if user != "" {
		req.Header.Set("Authorization", "Bearer token-"+user)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return env.do(req)
}

// signIn starts a session for u and returns its cookie and CSRF token.
func (env *testEnv) signIn(t testing.TB, u *cable.User) (*http.Cookie, string) {
	t.Helper()
	token, csrf, err := env.users.CreateSession(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: token}, csrf
}

// page GETs a page with a session cookie.
func (env *testEnv) page(path string, c *http.Cookie) *http.Response {
	req := httptest.NewRequest("GET", path, nil)
	if c != nil {
		req.AddCookie(c)
	}
	return env.do(req)
}

// post posts a form as a same-origin browser would.
func (env *testEnv) post(path string, c *http.Cookie, form url.Values) *http.Response {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if c != nil {
		req.AddCookie(c)
	}
	return env.do(req)
}

func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
