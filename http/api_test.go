package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/prometheus/client_golang/prometheus"
)

func TestErrorStatus(t *testing.T) {
	for code, want := range map[string]int{
		"":                  200,
		cable.EINVALID:      422,
		cable.ENOTFOUND:     404,
		cable.EFORBIDDEN:    403,
		cable.ECONFLICT:     409,
		cable.EUNAUTHORIZED: 401,
		cable.EINTERNAL:     500,
		"something else":    500,
	} {
		if got := ErrorStatus(code); got != want {
			t.Errorf("ErrorStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func draftJSON(t *testing.T, c *cable.Cable) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAPIUnauthorized(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct{ header string }{{""}, {"Bearer"}, {"Basic Zm9vOmJhcg=="}, {"Bearer nope"}} {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp := env.do(req)
		if resp.StatusCode != 401 {
			t.Fatalf("%q: status %d, want 401", tc.header, resp.StatusCode)
		}
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%q: no WWW-Authenticate header", tc.header)
		}
		var e errorBody
		decodeJSON(t, resp, &e)
		if e.Error == "" {
			t.Errorf("%q: empty error message", tc.header)
		}
	}
}

func TestAPIReleaseJSON(t *testing.T) {
	env := newTestEnv(t)
	d := validDraft()
	d.Station = "" // defaults to the caller's station
	resp := env.api("POST", "/api/v1/cables", "drafter.moscow", "application/json", draftJSON(t, d))
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
	}
	var got releasedJSON
	decodeJSON(t, resp, &got)
	if got.ID != "2026MOSCOW00001" || got.Serial != 1 || got.DTG.IsZero() || len(got.SHA256) != 64 {
		t.Fatalf("released %+v", got)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/v1/cables/2026MOSCOW00001" {
		t.Errorf("Location = %q", loc)
	}

	// Read it back as text: the bytes hash to what release reported.
	req := httptest.NewRequest("GET", "/api/v1/cables/"+got.ID, nil)
	req.Header.Set("Authorization", "Bearer token-drafter.moscow")
	req.Header.Set("Accept", "text/plain")
	resp = env.do(req)
	text := body(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("text: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cable.SHA256Hex([]byte(text)) != got.SHA256 {
		t.Errorf("text hashes to %s, release said %s", cable.SHA256Hex([]byte(text)), got.SHA256)
	}

	// And as JSON: the cable's fields at the top level beside the record's.
	resp = env.api("GET", "/api/v1/cables/"+got.ID, "drafter.moscow", "", "")
	var m map[string]any
	decodeJSON(t, resp, &m)
	for _, k := range []string{"id", "station", "serial", "dtg", "precedence", "classification", "to", "subject", "paragraphs", "signature", "authority", "sha256", "origin", "deliveries", "transmissions", "answered_by"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record JSON has no %q", k)
		}
	}
	if m["classification"] != "SECRET" || m["station"] != "MOSCOW" || m["sha256"] != got.SHA256 {
		t.Errorf("record JSON: %v", m)
	}
	if a, ok := m["authority"].(map[string]any); !ok || a["declassify_on"] != "2036-02-22" {
		t.Errorf("authority = %v", m["authority"])
	}
}

func TestAPIReleaseText(t *testing.T) {
	env := newTestEnv(t)
	resp := env.api("POST", "/api/v1/cables", "drafter.moscow", "text/plain; charset=utf-8", "IMMEDIATE\nFM AMEMBASSY MOSCOW\n...")
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
	}
	resp = env.api("POST", "/api/v1/cables", "drafter.moscow", "text/plain", "BAD TEXT")
	if resp.StatusCode != 422 {
		t.Fatalf("bad text: status %d", resp.StatusCode)
	}
	var e errorBody
	decodeJSON(t, resp, &e)
	if len(e.Errors) != 2 || e.Errors[0].Field != "line 1" {
		t.Errorf("bad text problems: %+v", e.Errors)
	}
}

func TestAPIInvalidDraftNamesEveryProblem(t *testing.T) {
	env := newTestEnv(t)
	body := `{
		"precedence": "SOON",
		"classification": "CONFIDENTIAL",
		"to": [{"station": "WAR", "role": "action"}],
		"tags": [],
		"subject": "",
		"paragraphs": [{"classification": "SECRET", "text": "x"}, {"classification": "XX", "text": ""}],
		"authority": {"classified_by": "", "reason": "1.4 (d)", "declassify_on": "2099-13-45"},
		"serial": 7,
		"received": {"control_number": "1"},
		"colour": "red"
	}`
	for _, path := range []string{"/api/v1/cables", "/api/v1/cables/check"} {
		resp := env.api("POST", path, "drafter.moscow", "application/json", body)
		if resp.StatusCode != 422 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		var e errorBody
		decodeJSON(t, resp, &e)
		fields := map[string]bool{}
		for _, p := range e.Errors {
			fields[p.Field] = true
		}
		for _, want := range []string{"precedence", "classification", "to[0].station", "tags", "subject",
			"paragraphs[1].classification", "paragraphs[1].text", "signature", "authority.classified_by",
			"authority.declassify_on", "colour"} {
			if !fields[want] {
				t.Errorf("%s: no problem for %s in %+v", path, want, e.Errors)
			}
		}
		if fields["serial"] || fields["received"] {
			t.Errorf("%s: fields release assigns are reported, not ignored", path)
		}
		// A field read badly is reported once, not again by validation.
		n := 0
		for _, p := range e.Errors {
			if p.Field == "precedence" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: precedence reported %d times", path, n)
		}
	}
	if len(env.cables.records) != 0 {
		t.Errorf("an invalid draft was released")
	}
}

func TestAPIBadBodies(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct {
		name, ctype, body string
		status            int
	}{
		{"malformed JSON", "application/json", `{"subject": `, 400},
		{"not an object", "application/json", `[1, 2]`, 400},
		{"null", "application/json", `null`, 400},
		{"trailing data", "application/json", `{} {}`, 400},
		{"empty", "application/json", ``, 400},
		{"form", "application/x-www-form-urlencoded", `a=b`, 415},
		{"no type", "", `{}`, 415},
		{"too large", "application/json", `{"subject": "` + strings.Repeat("x", maxDraftBytes) + `"}`, 413},
	} {
		resp := env.api("POST", "/api/v1/cables", "drafter.moscow", tc.ctype, tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
			continue
		}
		var e errorBody
		decodeJSON(t, resp, &e)
		if len(e.Errors) != 1 || e.Errors[0].Field != "body" || e.Error == "" {
			t.Errorf("%s: body %+v", tc.name, e)
		}
	}
}

func TestAPICheck(t *testing.T) {
	env := newTestEnv(t)
	resp := env.api("POST", "/api/v1/cables/check", "drafter.moscow", "application/json", draftJSON(t, validDraft()))
	var ok map[string]bool
	decodeJSON(t, resp, &ok)
	if resp.StatusCode != 200 || !ok["ok"] {
		t.Fatalf("status %d %v", resp.StatusCode, ok)
	}
	if len(env.cables.records) != 0 {
		t.Error("check released the cable")
	}
	resp = env.api("POST", "/api/v1/cables/check", "reader.eur", "application/json", draftJSON(t, validDraft()))
	if resp.StatusCode != 403 {
		t.Errorf("reader checking: status %d, want 403", resp.StatusCode)
	}
}

func TestAPIReadPolicy(t *testing.T) {
	env := newTestEnv(t)
	env.cables.put(receivedRecord())
	resp := env.api("GET", "/api/v1/cables/2026MOSCOW00511", "reader.eur", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("reader.eur: %d", resp.StatusCode)
	}
	var rec map[string]any
	decodeJSON(t, resp, &rec)
	if d, _ := rec["distribution"].(map[string]any); d["action"] != "EUR" {
		t.Errorf("distribution = %v", rec["distribution"])
	}
	if r, _ := rec["received"].(map[string]any); r["control_number"] != "8963" {
		t.Errorf("received = %v", rec["received"])
	}

	absent := env.api("GET", "/api/v1/cables/2026MOSCOW09999", "reader.nea", "", "")
	hidden := env.api("GET", "/api/v1/cables/2026MOSCOW00511", "reader.nea", "", "")
	if absent.StatusCode != 404 || hidden.StatusCode != 404 {
		t.Fatalf("absent %d, hidden %d; want 404 for both", absent.StatusCode, hidden.StatusCode)
	}
	var a, h errorBody
	decodeJSON(t, absent, &a)
	decodeJSON(t, hidden, &h)
	if strings.ReplaceAll(a.Error, "09999", "00511") != h.Error {
		t.Errorf("a hidden cable answers differently from an absent one: %q vs %q", h.Error, a.Error)
	}
}

func TestAPILists(t *testing.T) {
	env := newTestEnv(t)
	env.cables.put(receivedRecord())

	var list listJSON
	resp := env.api("GET", "/api/v1/inbox", "reader.eur", "", "")
	decodeJSON(t, resp, &list)
	if resp.StatusCode != 200 || list.Total != 1 || len(list.Cables) != 1 || list.Cables[0].ID != "2026MOSCOW00511" {
		t.Fatalf("inbox: %d %+v", resp.StatusCode, list)
	}
	resp = env.api("GET", "/api/v1/inbox?office=S", "reader.eur", "", "")
	decodeJSON(t, resp, &list)
	if list.Total != 1 {
		t.Errorf("inbox S: %+v", list)
	}
	if resp := env.api("GET", "/api/v1/inbox?office=NEA", "reader.eur", "", ""); resp.StatusCode != 403 {
		t.Errorf("inbox of another office: %d, want 403", resp.StatusCode)
	}
	resp = env.api("GET", "/api/v1/inbox", "reader.nea", "", "")
	if b := body(t, resp); !strings.Contains(b, `"cables": []`) || !strings.Contains(b, `"total": 0`) {
		t.Errorf("empty inbox: %s", b)
	}
	resp = env.api("GET", "/api/v1/inbox?limit=0&offset=-1", "reader.eur", "", "")
	var e errorBody
	decodeJSON(t, resp, &e)
	if resp.StatusCode != 422 || len(e.Errors) != 2 {
		t.Errorf("bad paging: %d %+v", resp.StatusCode, e)
	}
	resp = env.api("GET", "/api/v1/search?q=soviet", "reader.eur", "", "")
	decodeJSON(t, resp, &list)
	if list.Total != 1 || list.Cables[0].Snippet == "" {
		t.Errorf("search: %+v", list)
	}
	resp = env.api("GET", "/api/v1/sent", "drafter.moscow", "", "")
	decodeJSON(t, resp, &list)
	if list.Total != 1 {
		t.Errorf("sent: %+v", list)
	}
}

func TestAPIMeAndStations(t *testing.T) {
	env := newTestEnv(t)
	var u cable.User
	resp := env.api("GET", "/api/v1/me", "reader.eur", "", "")
	decodeJSON(t, resp, &u)
	if u.Name != "reader.eur" || u.Clearance != cable.Secret {
		t.Errorf("me = %+v", u)
	}
	var st struct {
		Hosted   []string        `json:"hosted"`
		Stations []cable.Station `json:"stations"`
	}
	resp = env.api("GET", "/api/v1/stations", "reader.eur", "", "")
	decodeJSON(t, resp, &st)
	if len(st.Stations) != 4 || st.Stations[1].Code != "MOSCOW" || st.Stations[1].TimeZone != "Europe/Moscow" || !slices.Equal(st.Hosted, []string{"STATE", "MOSCOW"}) {
		t.Errorf("stations = %+v", st)
	}
}

func TestPrefersText(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                   false,
		"*/*":                                false,
		"text/plain":                         true,
		"application/json":                   false,
		"text/plain, application/json":       true,
		"application/json, text/plain":       false, // equal q: the first named wins
		"text/plain;q=0.5, application/json": false,
		"text/plain;q=0":                     false,
		"text/html, text/plain;q=0.9":        true,
	} {
		if got := prefersText(accept); got != want {
			t.Errorf("prefersText(%q) = %v, want %v", accept, got, want)
		}
	}
}

func TestHealthMetricsAndPanics(t *testing.T) {
	env := newTestEnv(t)
	resp := env.do(httptest.NewRequest("GET", "/healthz", nil))
	if b := body(t, resp); resp.StatusCode != 200 || b != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}

	// A panicking handler is a logged 500, and the server goes on.
	env.cables.panic = true
	resp = env.api("GET", "/api/v1/cables/2026MOSCOW00001", "reader.eur", "", "")
	var e errorBody
	decodeJSON(t, resp, &e)
	if resp.StatusCode != 500 || e.Error != "Internal error." {
		t.Errorf("panic: %d %+v", resp.StatusCode, e)
	}
	if !strings.Contains(env.logs.String(), "fake failure") {
		t.Errorf("panic not logged: %s", env.logs.String())
	}
	env.cables.panic = false

	reg := prometheus.NewRegistry()
	reg.MustRegister(env.srv.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sawRoute, sawPanic bool
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "cable_http_panics_total" && m.GetCounter().GetValue() == 1 {
				sawPanic = true
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == "GET /api/v1/cables/{id}" {
					sawRoute = true
				}
			}
		}
	}
	if !sawRoute || !sawPanic {
		t.Errorf("metrics: route seen %v, panic counted %v", sawRoute, sawPanic)
	}
	resp = env.do(httptest.NewRequest("GET", "/metrics", nil))
	if b := body(t, resp); !strings.Contains(b, "cable_http_request_duration_seconds_bucket") {
		t.Errorf("/metrics lacks the request histogram")
	}
	if !strings.Contains(env.logs.String(), "user=reader.eur") || !strings.Contains(env.logs.String(), "status=500") {
		t.Errorf("request log lacks user or status: %s", env.logs.String())
	}
}

func TestHealthFailure(t *testing.T) {
	env := newTestEnv(t)
	env.srv.Health = func(ctx context.Context) error { return errors.New("records: database is locked") }
	resp := env.do(httptest.NewRequest("GET", "/healthz", nil))
	if b := body(t, resp); resp.StatusCode != 503 || !strings.Contains(b, "database is locked") {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}
}

func TestRoutesAndOpenAPIDocument(t *testing.T) {
	env := newTestEnv(t)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	resp := env.do(httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	decodeJSON(t, resp, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range env.srv.Routes() {
		registered[r.Method+" "+r.Pattern] = true
		if !documented[r.Method+" "+r.Pattern] {
			t.Errorf("route %s %s is not documented", r.Method, r.Pattern)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("documented %s is not registered", k)
		}
	}
}

func TestAPIUnencodableRecordIsACleanError(t *testing.T) {
	env := newTestEnv(t)
	rec := receivedRecord()
	rec.Cable.Station = "MOSCOW"
	rec.Cable.Classification = 0 // no JSON form
	env.cables.put(rec)
	resp := env.api("GET", "/api/v1/cables/2026MOSCOW00511", "drafter.moscow", "", "")
	var e errorBody
	decodeJSON(t, resp, &e)
	if resp.StatusCode != 500 || e.Error != "Internal error." {
		t.Errorf("status %d, body %+v", resp.StatusCode, e)
	}
	if !strings.Contains(env.logs.String(), "encode JSON response") {
		t.Error("the encoding failure was not logged")
	}
}

func TestConcurrentRequests(t *testing.T) {
	env := newTestEnv(t)
	env.cables.put(receivedRecord())
	sess, _ := env.signIn(t, readerEUR)
	draft := draftJSON(t, validDraft())
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				var resp *http.Response
				kind := (w + i) % 4
				switch kind {
				case 0:
					resp = env.api("GET", "/api/v1/cables/2026MOSCOW00511", "reader.eur", "", "")
				case 1:
					resp = env.page("/cables/2026MOSCOW00511", sess)
				case 2:
					resp = env.api("POST", "/api/v1/cables", "drafter.moscow", "application/json", draft)
				case 3:
					resp = env.page("/inbox", sess)
				}
				if resp.StatusCode >= 300 {
					errs <- fmt.Sprintf("request kind %d: %s", kind, resp.Status)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Each worker releases on every fourth request: 50 in all.
	if n := len(env.cables.records); n != 1+50 {
		t.Errorf("%d records, want 51", n)
	}
}

// TestReadBody checks a body is read whole whatever its Content-Length
// says, and no further than the limit.
func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		length int64
		max    int64
		tooBig bool
	}{
		{"as announced", "0123456789", 10, 100, false},
		{"unannounced", "0123456789", -1, 100, false},
		{"shorter than announced", "01234", 10, 100, false},
		{"longer than announced", "0123456789", 4, 100, false},
		{"empty", "", 0, 100, false},
		{"over the limit, announced", "0123456789", 10, 5, true},
		{"over the limit, announced under it", "0123456789", 4, 5, true},
		{"at the limit", "01234", 5, 5, false},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		r.ContentLength = tc.length
		got, err := readBody(httptest.NewRecorder(), r, tc.max)
		var maxErr *http.MaxBytesError
		if tc.tooBig {
			if !errors.As(err, &maxErr) {
				t.Errorf("%s: got %q, %v; want a MaxBytesError", tc.name, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.body {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.body)
		}
	}
}
