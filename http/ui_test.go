package http

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestSignInFlow(t *testing.T) {
	env := newTestEnv(t)
	env.srv.SecureCookies = true

	// Without a session, a page sends the visitor to sign in and back.
	resp := env.page("/inbox?office=EUR", nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/signin?next=%2Finbox%3Foffice%3DEUR" {
		t.Fatalf("no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	resp = env.page("/signin?next=%2Finbox%3Foffice%3DEUR", nil)
	page := body(t, resp)
	pre := cookieNamed(resp, signinCookie)
	m := csrfField.FindStringSubmatch(page)
	if pre == nil || m == nil || m[1] != pre.Value {
		t.Fatalf("sign-in form: cookie %v, field %v", pre, m)
	}
	if !pre.HttpOnly || !pre.Secure || pre.SameSite != http.SameSiteLaxMode {
		t.Errorf("pre-session cookie flags: %+v", pre)
	}

	form := url.Values{"csrf": {pre.Value}, "name": {"reader.eur"}, "password": {"pw-reader.eur"}, "next": {"/inbox?office=EUR"}}

	// The form's token must match the cookie's.
	bad := url.Values{"csrf": {"forged"}, "name": {"reader.eur"}, "password": {"pw-reader.eur"}}
	if resp := env.post("/signin", pre, bad); resp.StatusCode != 403 || cookieNamed(resp, sessionCookie) != nil {
		t.Errorf("forged token: %d", resp.StatusCode)
	}
	if resp := env.post("/signin", nil, form); resp.StatusCode != 403 {
		t.Errorf("no pre-session cookie: %d", resp.StatusCode)
	}
	// A post from another site is refused even with the right token.
	req := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(pre)
	if resp := env.do(req); resp.StatusCode != 403 {
		t.Errorf("cross-site sign-in: %d", resp.StatusCode)
	}
	wrong := url.Values{"csrf": {pre.Value}, "name": {"reader.eur"}, "password": {"guess"}}
	resp = env.post("/signin", pre, wrong)
	if b := body(t, resp); resp.StatusCode != 401 || !strings.Contains(b, "Wrong name or password.") || !strings.Contains(b, `value="reader.eur"`) {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}

	resp = env.post("/signin", pre, form)
	sess := cookieNamed(resp, sessionCookie)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/inbox?office=EUR" || sess == nil {
		t.Fatalf("sign in: %d %q %v", resp.StatusCode, resp.Header.Get("Location"), sess)
	}
	if !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
		t.Errorf("session cookie flags: %+v", sess)
	}

	resp = env.page("/inbox", sess)
	page = body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="user-name">reader.eur<`) {
		t.Fatalf("inbox after sign-in: %d", resp.StatusCode)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]

	// Sign out needs the session's token.
	if resp := env.post("/signout", sess, url.Values{"csrf": {"nope"}}); resp.StatusCode != 403 {
		t.Errorf("sign out without token: %d", resp.StatusCode)
	}
	resp = env.post("/signout", sess, url.Values{"csrf": {csrf}})
	if resp.StatusCode != 303 || cookieNamed(resp, sessionCookie).MaxAge >= 0 {
		t.Errorf("sign out: %d", resp.StatusCode)
	}
	if resp := env.page("/inbox", sess); resp.StatusCode != 303 {
		t.Errorf("ended session still works: %d", resp.StatusCode)
	}
}

func TestCheckCSRF(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct {
		name    string
		token   string
		headers map[string]string
		ok      bool
	}{
		{"same origin, right token", "secret", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"no browser headers, right token", "secret", nil, true},
		{"matching origin", "secret", map[string]string{"Origin": "http://cable.example"}, true},
		{"wrong token", "secreT", map[string]string{"Sec-Fetch-Site": "same-origin"}, false},
		{"no token", "", map[string]string{"Sec-Fetch-Site": "same-origin"}, false},
		{"cross-site", "secret", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"same-site sibling", "secret", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"foreign origin", "secret", map[string]string{"Origin": "https://evil.example"}, false},
	} {
		req := httptest.NewRequest("POST", "http://cable.example/draft", strings.NewReader(url.Values{"csrf": {tc.token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		if err := req.ParseForm(); err != nil {
			t.Fatal(err)
		}
		err := env.srv.checkCSRF(req, "secret")
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && cable.ErrorCode(err) != cable.EFORBIDDEN {
			t.Errorf("%s: code %s", tc.name, cable.ErrorCode(err))
		}
	}
	if err := env.srv.checkCSRF(httptest.NewRequest("POST", "/", nil), ""); err == nil {
		t.Error("an empty session token matched an empty field")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/inbox",
		"/cables/2026STATE1":   "/cables/2026STATE1",
		"/inbox?office=EUR":    "/inbox?office=EUR",
		"//evil.example/x":     "/inbox",
		"/\\evil.example":      "/inbox",
		"https://evil.example": "/inbox",
		"javascript:alert(1)":  "/inbox",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCableViewRendering(t *testing.T) {
	env := newTestEnv(t)
	rec := receivedRecord()
	rec.Cable.Captions = []cable.Caption{cable.EXDIS}
	holder := *readerEUR
	holder.Captions = []cable.Caption{cable.EXDIS}
	env.cables.put(rec)
	sess, _ := env.signIn(t, &holder)

	resp := env.page("/cables/2026MOSCOW00511", sess)
	page := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`<div class="banner cls-s" id="banner-top" role="note" aria-label="Classification">SECRET//EXDIS</div>`,
		`<div class="banner cls-s" id="banner-bottom" role="note" aria-label="Classification">SECRET//EXDIS</div>`,
		`<pre class="cable-text" id="cable-text" tabindex="0" aria-label="Cable text">IMMEDIATE 221800Z FEB 26`,
		`1. (S) Basic features of the post-war Soviet outlook.`,
		`2. (U) Further parts follow.`,
		`<dd class="mono" id="control-number">8963</dd>`,
		`<dd id="action-office">EUR</dd>`,
		`<dd id="info-offices">S</dd>`,
		`2026-02-22 20:52Z`,         // received, UTC
		`Sun 22 Feb 2026 15:52 EST`, // received, at STATE
		`Sun 22 Feb 2026 21:00 MSK`, // DTG at MOSCOW
		`<a class="mono" href="/cables/2026STATE00284">STATE 284</a>`,
		`<span class="mono">LONDON 17</span> <small>(not held)</small>`,
		`<a class="mono" href="/cables/2026STATE00300">2026STATE00300</a>`,
		`<a href="/cables/2026MOSCOW00511.txt" type="text/plain">Plain text</a>`,
		`<span class="state state-received">received 2026-02-22 20:52Z, control 8963</span>`,
		`reader.eur`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("cable view lacks %q", want)
		}
	}

	resp = env.page("/cables/2026MOSCOW00511.txt", sess)
	if b := body(t, resp); b != string(rec.Text) {
		t.Errorf("plain text differs from the record: %q", b)
	}

	other, _ := env.signIn(t, readerNEA)
	resp = env.page("/cables/2026MOSCOW00511", other)
	if b := body(t, resp); resp.StatusCode != 404 || strings.Contains(b, "Soviet") {
		t.Errorf("reader.nea: %d", resp.StatusCode)
	}
}

func TestInboxSentSearchPages(t *testing.T) {
	env := newTestEnv(t)
	rec := receivedRecord()
	rec.Cable.Precedence = cable.Flash
	env.cables.put(rec)
	sess, _ := env.signIn(t, readerEUR)

	page := body(t, env.page("/inbox", sess))
	for _, want := range []string{
		`<a href="/inbox?office=EUR" aria-current="page">EUR</a>`,
		`<a href="/inbox?office=S">S</a>`,
		`<tr class="prec-flash">`,
		`<span class="badge cls-s">SECRET</span>`,
		`<span class="role role-action">ACTION</span>`,
		`221800Z FEB 26`,
		`<a href="/cables/2026MOSCOW00511">2026MOSCOW00511</a>`,
		`No. 8963`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("inbox lacks %q", want)
		}
	}
	if resp := env.page("/inbox?office=NEA", sess); resp.StatusCode != 403 {
		t.Errorf("another office's inbox: %d", resp.StatusCode)
	}

	page = body(t, env.page("/search?q=soviet", sess))
	if !strings.Contains(page, `the <mark>Soviet</mark> outlook &amp; &lt;b&gt;more&lt;/b&gt;`) {
		t.Errorf("search snippet not marked and escaped")
	}

	drafter, _ := env.signIn(t, drafterMoscow)
	page = body(t, env.page("/sent", drafter))
	if !strings.Contains(page, `<span class="mono">STATE</span> <span class="state state-received">received 2026-02-22 20:52Z, control 8963</span>`) {
		t.Errorf("sent list lacks the delivery state")
	}
}

func TestSnippetHTML(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                     "plain",
		"a «hit» here … and «more»": "a <mark>hit</mark> here … and <mark>more</mark>",
		"<script>x</script>":        "&lt;script&gt;x&lt;/script&gt;",
		"«<b>open":                  "«&lt;b&gt;open",
		"«x» & <i>y</i>":            "<mark>x</mark> &amp; &lt;i&gt;y&lt;/i&gt;",
	} {
		if got := string(snippetHTML(in)); got != want {
			t.Errorf("snippetHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewBanner(t *testing.T) {
	for _, tc := range []struct {
		c        cable.Classification
		caps     []cable.Caption
		handling []cable.Handling
		text     string
		class    string
	}{
		{cable.Unclassified, nil, nil, "UNCLASSIFIED", "cls-u"},
		{cable.LimitedOfficialUse, nil, nil, "LIMITED OFFICIAL USE", "cls-lou"},
		{cable.Confidential, nil, []cable.Handling{cable.NIACT}, "CONFIDENTIAL", "cls-c"},
		{cable.Secret, []cable.Caption{cable.NODIS}, []cable.Handling{cable.NOFORN}, "SECRET//NODIS//NOFORN", "cls-s"},
		{cable.TopSecret, []cable.Caption{cable.LIMDIS, cable.EXDIS}, nil, "TOP SECRET//EXDIS/LIMDIS", "cls-ts"},
		{0, nil, nil, "CLASSIFICATION NOT SET", "cls-none"},
	} {
		b := NewBanner(tc.c, tc.caps, tc.handling)
		if b.Text != tc.text || b.Class != tc.class {
			t.Errorf("NewBanner(%v, %v, %v) = %+v, want %q %q", tc.c, tc.caps, tc.handling, b, tc.text, tc.class)
		}
	}
}

func TestEveryPageRenders(t *testing.T) {
	env := newTestEnv(t)
	env.cables.put(receivedRecord())
	sess, _ := env.signIn(t, drafterMoscow)
	for _, path := range []string{"/draft", "/sent", "/search", "/search?q=x", "/inbox", "/cables/2026MOSCOW00511"} {
		resp := env.page(path, sess)
		b := body(t, resp)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
			continue
		}
		if !strings.Contains(b, `<link rel="stylesheet" href="/static/style.css">`) || !strings.Contains(b, `<header class="topbar">`) {
			t.Errorf("%s: no layout", path)
		}
		if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
	}
	readerSess, _ := env.signIn(t, readerEUR)
	if resp := env.page("/draft", readerSess); resp.StatusCode != 403 {
		t.Errorf("a reader opened the drafting form: %d", resp.StatusCode)
	}
	for _, path := range []string{"/static/style.css", "/static/draft.js"} {
		if resp := env.page(path, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	if resp := env.page("/", sess); resp.StatusCode != 303 || resp.Header.Get("Location") != "/inbox" {
		t.Errorf("/: %d", resp.StatusCode)
	}
}
