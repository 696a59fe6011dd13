package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

var (
	archivistUser = &cable.User{ID: 4, Name: "archivist", Station: "STATE", Offices: []string{"S"}, Clearance: cable.TopSecret, Roles: []cable.UserRole{cable.RoleArchivist}}
	operatorUser  = &cable.User{ID: 5, Name: "operator", Station: "STATE", Offices: []string{"S"}, Clearance: cable.Confidential, Roles: []cable.UserRole{cable.RoleOperator}}
)

// fakeStamp stands for the transcript importer's stamps: a Go value in
// the record's details, as the real importer gives them.
type fakeStamp struct {
	Page         int      `json:"page"`
	Declassified bool     `json:"declassified"`
	Authority    string   `json:"authority,omitempty"`
	Section      string   `json:"section,omitempty"`
	Letter       string   `json:"letter,omitempty"`
	Reviewer     string   `json:"reviewer,omitempty"`
	Date         string   `json:"date,omitempty"`
	DateWritten  string   `json:"date_as_written,omitempty"`
	Text         []string `json:"text"`
}

// fakeTranscriptRecord is a telegram as the transcript importer rebuilds
// one: invented text in the shape of the seed's first transcript.
func fakeTranscriptRecord() *cable.HistoricalRecord {
	c := &cable.Cable{
		ID: "1946MOSCOW00511", Station: "MOSCOW", Serial: 511, DTG: time.Date(1946, 2, 22, 18, 0, 0, 0, time.UTC),
		Precedence: cable.Routine, Classification: cable.Secret, Handling: []cable.Handling{cable.NoParaphraseNecessary},
		To: []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}}, Tags: []string{"861.00"},
		References: []cable.Reference{{Text: "STATE 284"}},
		Paragraphs: []cable.Paragraph{
			{Number: 1, Classification: cable.Secret, Text: "First paragraph of the rebuilt telegram, rejoined across a page break."},
			{Number: 2, Classification: cable.Secret, Text: "Second paragraph, with a garble (*) kept.\nAnd a second line."},
			{Number: 3, Classification: cable.Unclassified, Text: "A third paragraph marked lower than the whole."},
		},
		Signature:    "KENNAN",
		Received:     &cable.Receipt{Station: "STATE", At: time.Date(1946, 2, 22, 15, 52, 0, 0, time.FixedZone("EST", -5*3600)), ControlNumber: "8963"},
		Distribution: &cable.Distribution{Action: "EUR", Info: []string{"S", "DC/R"}},
	}
	return &cable.HistoricalRecord{
		Kind: "telegram", Source: "transcript", ID: c.ID, Cable: c, ReceivedAt: "STATE",
		Details: map[string]any{
			"via": "WAR", "pages": 19, "garbles": 1, "form": "incoming", "file_code": "861.00/2-2246", "source_sha256": "abc123",
			"declassification": []fakeStamp{
				{Page: 2, Declassified: true, Authority: "E.O. 11652", Section: "302 and 507 or (2)", Text: []string{"DECLASSIFIED"}},
				{Page: 3, Declassified: true, Authority: "E.O. 11652", Section: "9(Z) and 8(Y)", Letter: "Invented letter, Aug. 10, 1972",
					Reviewer: "Q.R.S.", Date: "1973-01-15", DateWritten: "1-15-73", Text: []string{"DECLASSIFIED", "by Q.R.S. Date 1-15-73"}},
				{Page: 4, Authority: "E.O. 11652", Reviewer: "999", DateWritten: "2-30-22", Text: []string{"E.O. 11652"}},
			},
		},
		Warnings: []string{"precedence not written; ROUTINE assumed"},
	}
}

// fakeVolume is what the TEI importer gives for a volume of two
// telegrams and a memorandum, one more document not read.
func fakeVolume() ([]*cable.HistoricalRecord, []cable.Problem) {
	tel := func(id, station string, serial int, dtg time.Time, to, src, title string) *cable.HistoricalRecord {
		c := &cable.Cable{ID: id, Station: station, Serial: serial, DTG: dtg, Precedence: cable.Immediate, Classification: cable.Secret,
			To: []cable.Addressee{{Station: to, Role: cable.RoleAction}}, Tags: []string{"501.XX INVENTED"}, Subject: title,
			Paragraphs: []cable.Paragraph{{Number: 1, Classification: cable.Secret, Text: "Text of " + src + "."}}, Signature: "SMITH"}
		return &cable.HistoricalRecord{Kind: "telegram", Source: "tei", SourceID: src, ID: id, Cable: c, ReceivedAt: to,
			Details: map[string]any{"title": title, "file_code": "501.XX/1-149", "volume": "vol1949",
				"footnotes": []map[string]any{{"n": "1", "id": src + "fn1", "text": "Telegram 12, January 3.", "paragraph": 1}}}}
	}
	memo := &cable.HistoricalRecord{Kind: "memorandum", Source: "tei", SourceID: "d153", ID: "vol1949.d153",
		Cable: &cable.Cable{ID: "vol1949.d153", Station: "STATE", Precedence: cable.Routine, Classification: cable.Confidential, Subject: "An invented memorandum",
			Paragraphs: []cable.Paragraph{{Number: 1, Classification: cable.Confidential, Text: "Conversation."}}},
		Details: map[string]any{"title": "153. An invented memorandum", "volume": "vol1949", "date": "1949-02-03"}}
	return []*cable.HistoricalRecord{
			tel("1949BATAVIA00100", "BATAVIA", 100, time.Date(1949, 2, 2, 12, 0, 0, 0, time.UTC), "STATE", "d152", "152. An invented telegram from Batavia"),
			memo,
			tel("1949STATE00050", "STATE", 50, time.Date(1949, 2, 4, 1, 0, 0, 0, time.UTC), "THEHAGUE", "d154", "154. An invented telegram to The Hague"),
		},
		[]cable.Problem{{Field: "d155", Message: "no date in the invented opener"}}
}

// fakeImporters refuses a source starting with BAD and otherwise gives
// the records above.
type fakeImporters struct{}

func (fakeImporters) Transcript(src []byte) (*cable.HistoricalRecord, error) {
	if bytes.HasPrefix(src, []byte("BAD")) {
		return nil, cable.Invalid("cannot import the transcript", []cable.Problem{{Field: "form", Message: "no telegram found"}})
	}
	return fakeTranscriptRecord(), nil
}

func (fakeImporters) TEI(src []byte) ([]*cable.HistoricalRecord, []cable.Problem, error) {
	if bytes.HasPrefix(src, []byte("BAD")) {
		return nil, nil, cable.Invalid("cannot read the volume", []cable.Problem{{Field: "line 1", Message: "not XML"}})
	}
	recs, ps := fakeVolume()
	return recs, ps, nil
}

// fakeArchive files records into fakeCables as the centre would: once,
// and only for an archivist or operator. Like the SQLite store, it
// refuses an identifier that is not a cable identifier.
type fakeArchive struct {
	cables *fakeCables
	mu     sync.Mutex
	filed  []*cable.HistoricalRecord
}

func (a *fakeArchive) FileHistorical(ctx context.Context, u *cable.User, r *cable.HistoricalRecord) (*cable.Record, error) {
	if !u.HasRole(cable.RoleArchivist) && !u.HasRole(cable.RoleOperator) {
		return nil, cable.Errorf(cable.EFORBIDDEN, "%s may not file historical records", u.Name)
	}
	if _, _, _, err := cable.ParseIdentifier(r.ID); err != nil {
		return nil, fmt.Errorf("file %s: %w", r.ID, cable.Invalid("invalid arrivals", []cable.Problem{{Field: "arrivals[0].cable.id", Message: cable.ErrorMessage(err)}}))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.filed {
		if f.ID == r.ID {
			return nil, cable.Errorf(cable.ECONFLICT, "%s is already in the holding", r.ID)
		}
	}
	a.filed = append(a.filed, r)
	c := r.Cable.Clone()
	c.ID = r.ID
	if c.Distribution == nil {
		c.Distribution = &cable.Distribution{Action: "S", Info: []string{}}
	}
	if c.Received == nil {
		c.Received = &cable.Receipt{Station: r.ReceivedAt, At: c.DTG, ControlNumber: "1"}
	}
	text, _ := fakeForm{}.Render(c)
	rec := &cable.Record{Cable: c, Text: text, SHA256: cable.SHA256Hex(text), Origin: cable.OriginHistorical, StoredAt: time.Now()}
	a.cables.put(rec)
	return rec, nil
}

func (a *fakeArchive) get(id string) *cable.HistoricalRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.filed {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func newArchiveEnv(t testing.TB) (*testEnv, *fakeArchive) {
	t.Helper()
	env := newTestEnv(t)
	arch := &fakeArchive{cables: env.cables}
	env.srv.Importers = fakeImporters{}
	env.srv.Archive = arch
	env.users.users[archivistUser.Name] = archivistUser
	env.users.users[operatorUser.Name] = operatorUser
	return env, arch
}

// upload posts the upload form as multipart, with file when name is set.
func (env *testEnv) upload(t testing.TB, c *http.Cookie, fields map[string]string, name string, file []byte) *http.Response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/records/import", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(c)
	return env.do(req)
}

var (
	payloadField = regexp.MustCompile(`name="payload" value="([^"]+)"`)
	inputValue   = regexp.MustCompile(`<input id="f-([a-z_]+)" name="[a-z_]+" type="text" value="([^"]*)"`)
)

// correctionForm reads the correction form of a preview page as a browser
// would post it.
func correctionForm(t testing.TB, page, csrf string) url.Values {
	t.Helper()
	m := payloadField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no payload on the page:\n%s", page)
	}
	v := url.Values{"csrf": {csrf}, "payload": {html.UnescapeString(m[1])}}
	for _, in := range inputValue.FindAllStringSubmatch(page, -1) {
		v.Set(in[1], html.UnescapeString(in[2]))
	}
	for _, sel := range []string{"precedence", "classification"} {
		re := regexp.MustCompile(`(?s)name="` + sel + `".*?<option value="([^"]+)" selected>`)
		if m := re.FindStringSubmatch(page); m != nil {
			v.Set(sel, m[1])
		}
	}
	for _, m := range regexp.MustCompile(`name="handling" value="([^"]+)" checked`).FindAllStringSubmatch(page, -1) {
		v.Add("handling", html.UnescapeString(m[1]))
	}
	if m := regexp.MustCompile(`(?s)name="references" rows="2" spellcheck="false"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page); m != nil {
		v.Set("references", html.UnescapeString(m[1]))
	}
	for _, m := range regexp.MustCompile(`(?s)name="paragraph" rows="\d+"[^>]*>(.*?)</textarea>`).FindAllStringSubmatch(page, -1) {
		// A browser posts a textarea's line breaks as CRLF.
		v.Add("paragraph", strings.ReplaceAll(html.UnescapeString(m[1]), "\n", "\r\n"))
	}
	return v
}

func TestImportTranscriptFlow(t *testing.T) {
	env, arch := newArchiveEnv(t)
	sess, csrf := env.signIn(t, archivistUser)

	resp := env.page("/records/import", sess)
	page := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, `<a href="/records/import" id="nav-import" aria-current="page">Import</a>`) {
		t.Fatalf("upload form: %d\n%s", resp.StatusCode, page)
	}

	source := "DEPARTMENT OF STATE\nINCOMING TELEGRAM\n<b>an invented transcript</b> & its furniture\n"
	resp = env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "transcript"}, `C:\scans\kennan.txt`, []byte(source))
	page = body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`<span class="mono" id="record-id">1946MOSCOW00511</span> <small>telegram from kennan.txt</small>`,
		`id="source-text" tabindex="0" aria-label="Transcript as uploaded">DEPARTMENT OF STATE` + "\nINCOMING TELEGRAM\n&lt;b&gt;an invented transcript&lt;/b&gt; &amp; its furniture",
		`<div class="banner cls-s" id="preview-banner"`,
		`ROUTINE 221800Z FEB 46`, // fakeForm's rendering of the record
		`1. (S) First paragraph of the rebuilt telegram`,
		`KENNAN`,
		`via <span class="mono" id="detail-via">WAR</span>`,
		`<dd id="detail-pages">19</dd>`,
		`<dd class="mono" id="detail-file-code">861.00/2-2246</dd>`,
		`<dt>source sha256</dt><dd>abc123</dd>`,
		`<tr title="DECLASSIFIED / by Q.R.S. Date 1-15-73"><td>3</td><td>DECLASSIFIED</td><td>E.O. 11652</td><td>9(Z) and 8(Y)</td><td>Invented letter, Aug. 10, 1972</td><td>Q.R.S.</td><td>1973-01-15</td></tr>`,
		`<td>4</td><td>—</td><td>E.O. 11652</td><td></td><td></td><td>999</td><td>2-30-22 (as written)</td>`,
		`<li>precedence not written; ROUTINE assumed</li>`,
		`<dd class="mono" id="preview-control">8963</dd>`,
		`Fri 22 Feb 1946 21:00 MSK`, // the DTG at Moscow
		`<dd id="preview-action">EUR</dd>`,
		`<input id="f-station" name="station" type="text" value="MOSCOW"`,
		`<input id="f-serial" name="serial" type="text" value="511"`,
		`<input id="f-dtg" name="dtg" type="text" value="1946-02-22 18:00"`,
		`<input id="f-received_time" name="received_time" type="text" value="1946-02-22 20:52"`,
		`<input id="f-control_number" name="control_number" type="text" value="8963"`,
		`<input id="f-dist_info" name="dist_info" type="text" value="S, DC/R"`,
		`<input type="checkbox" name="handling" value="NO PARAPHRASE NECESSARY" checked>`,
		`<option value="SECRET" selected>SECRET</option>`,
		`Second paragraph, with a garble (*) kept.` + "\nAnd a second line.</textarea>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>an invented") {
		t.Error("the source is not escaped")
	}

	// Preview again with the subject corrected: no problem, the
	// corrections shown.
	form := correctionForm(t, page, csrf)
	if got := len(form["paragraph"]); got != 3 {
		t.Fatalf("the form holds %d paragraphs", got)
	}
	form.Set("subject", "THE LONG TELEGRAM")
	form.Set("do", "preview")
	resp = env.post("/records/import", sess, form)
	page = body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="check-ok"`) {
		t.Fatalf("preview again: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"SUBJECT: THE LONG TELEGRAM", `<dd id="detail-corrected">subject</dd>`, `value="THE LONG TELEGRAM"`} {
		if !strings.Contains(page, want) {
			t.Errorf("second preview lacks %q", want)
		}
	}
	if len(arch.filed) != 0 {
		t.Fatal("Preview again filed the record")
	}

	// File: the record as imported with the one correction, then the
	// cable view with the flash.
	form.Set("do", "file")
	resp = env.post("/records/import", sess, form)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/cables/1946MOSCOW00511" {
		t.Fatalf("file: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
	}
	if c := cookieNamed(resp, flashCookie); c == nil || c.Value != url.QueryEscape("Filed 1946MOSCOW00511") {
		t.Errorf("flash %v", c)
	}
	got := arch.get("1946MOSCOW00511")
	if got == nil {
		t.Fatal("nothing filed")
	}
	want, _ := normalizeRecords([]*cable.HistoricalRecord{fakeTranscriptRecord()})
	w := want[0]
	w.Cable.Subject = "THE LONG TELEGRAM"
	if !reflect.DeepEqual(got.Cable.Paragraphs, w.Cable.Paragraphs) {
		t.Errorf("paragraphs changed on the way:\n got %+v\nwant %+v", got.Cable.Paragraphs, w.Cable.Paragraphs)
	}
	if !got.Cable.Received.At.Equal(w.Cable.Received.At) || got.Cable.Received.ControlNumber != "8963" || got.Cable.Received.Station != "STATE" {
		t.Errorf("receipt %+v", got.Cable.Received)
	}
	got.Cable.Received, w.Cable.Received = nil, nil
	if !reflect.DeepEqual(got.Cable, w.Cable) {
		t.Errorf("filed cable differs:\n got %+v\nwant %+v", got.Cable, w.Cable)
	}
	if c := stringsOf(got.Details["corrected"]); !reflect.DeepEqual(c, []string{"subject"}) {
		t.Errorf("corrected %v", got.Details["corrected"])
	}
	if got.Details["via"] != "WAR" || len(detailList(got.Details["declassification"])) != 3 || got.Kind != "telegram" || got.Source != "transcript" {
		t.Errorf("details not kept: %+v", got)
	}

	// Filing twice: the holding has it.
	resp = env.post("/records/import", sess, form)
	page = body(t, resp)
	if resp.StatusCode != 409 || !strings.Contains(page, "1946MOSCOW00511 is already in the holding") || !strings.Contains(page, `<a href="/cables/1946MOSCOW00511" id="held-link">`) {
		t.Errorf("second filing: %d\n%s", resp.StatusCode, page)
	}

	// The cable view says it is historical; reader.eur reads it.
	reader, _ := env.signIn(t, readerEUR)
	resp = env.page("/cables/1946MOSCOW00511", reader)
	page = body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="historical-note"`) || !strings.Contains(page, "<dd>historical</dd>") {
		t.Errorf("cable view of the historical record: %d\n%s", resp.StatusCode, page)
	}
	resp = env.page("/cables/2026MOSCOW00511", reader)
	if strings.Contains(body(t, resp), "historical-note") {
		t.Error("a released cable is called historical")
	}
}

func TestImportPastedText(t *testing.T) {
	env, _ := newArchiveEnv(t)
	sess, csrf := env.signIn(t, operatorUser)
	// A pasted transcript, URL-encoded as a form without a file input posts it.
	resp := env.post("/records/import", sess, url.Values{"csrf": {csrf}, "kind": {"transcript"}, "text": {"INCOMING TELEGRAM\r\nline\r\n"}})
	page := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, "from the pasted transcript") || !strings.Contains(page, ">INCOMING TELEGRAM\nline\n</pre>") {
		t.Fatalf("pasted: %d\n%s", resp.StatusCode, page)
	}
}

func TestImportUploadProblems(t *testing.T) {
	env, _ := newArchiveEnv(t)
	sess, csrf := env.signIn(t, archivistUser)

	resp := env.upload(t, sess, map[string]string{"csrf": csrf, "text": "  "}, "", nil)
	page := body(t, resp)
	if resp.StatusCode != 422 {
		t.Fatalf("empty upload: %d", resp.StatusCode)
	}
	for _, want := range []string{`<p class="field-error" id="e-kind">Choose what the source is`, `<p class="field-error" id="e-source">Choose a file or paste the text.</p>`, `<a href="#f-kind">Kind</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("empty upload lacks %q", want)
		}
	}

	resp = env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "transcript", "text": "BAD text kept"}, "", nil)
	page = body(t, resp)
	if resp.StatusCode != 422 || !strings.Contains(page, "form: no telegram found") || !strings.Contains(page, ">BAD text kept</textarea>") {
		t.Errorf("unreadable transcript: %d\n%s", resp.StatusCode, page)
	}
	resp = env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "tei"}, "v.xml", []byte("BAD"))
	if page := body(t, resp); resp.StatusCode != 422 || !strings.Contains(page, "line 1: not XML") {
		t.Errorf("unreadable volume: %d", resp.StatusCode)
	}

	// Without the anti-forgery token an upload is refused before anything is read.
	resp = env.upload(t, sess, map[string]string{"kind": "transcript"}, "k.txt", []byte("x"))
	if resp.StatusCode != 403 {
		t.Errorf("upload without token: %d", resp.StatusCode)
	}
}

func TestFormSizeLimit(t *testing.T) {
	env, _ := newArchiveEnv(t)
	sess, csrf := env.signIn(t, drafterMoscow)
	big := strings.Repeat("x", maxFormBytes+1)
	resp := env.post("/draft", sess, url.Values{"csrf": {csrf}, "subject": {big}})
	if page := body(t, resp); resp.StatusCode != 422 || !strings.Contains(page, "larger than 1 MB") {
		t.Errorf("big URL-encoded form: %d", resp.StatusCode)
	}
	// A multipart post to /draft is bounded by the ordinary form limit.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "big.txt")
	fw.Write([]byte(big))
	mw.Close()
	req := httptest.NewRequest("POST", "/draft", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(sess)
	resp = env.do(req)
	if page := body(t, resp); resp.StatusCode != 422 || !strings.Contains(page, "larger than 1 MB") {
		t.Errorf("big multipart form: %d %s", resp.StatusCode, page)
	}
}

func TestImportAccess(t *testing.T) {
	env, arch := newArchiveEnv(t)
	reader, readerCSRF := env.signIn(t, readerEUR)
	page := body(t, env.page("/inbox", reader))
	if strings.Contains(page, "/records/import") {
		t.Error("a reader sees the Import link")
	}
	if resp := env.page("/records/import", reader); resp.StatusCode != 403 {
		t.Errorf("reader GET: %d", resp.StatusCode)
	}
	resp := env.upload(t, reader, map[string]string{"csrf": readerCSRF, "kind": "transcript"}, "k.txt", []byte("x"))
	if b := body(t, resp); resp.StatusCode != 403 || !strings.Contains(b, "reader.eur may not import historical records.") {
		t.Errorf("reader upload: %d", resp.StatusCode)
	}

	// A reader holding an archivist's payload still may not file it.
	arch2, csrf := env.signIn(t, archivistUser)
	form := correctionForm(t, body(t, env.upload(t, arch2, map[string]string{"csrf": csrf, "kind": "transcript"}, "k.txt", []byte("x"))), csrf)
	form.Set("do", "file")
	form.Set("csrf", readerCSRF)
	if resp := env.post("/records/import", reader, form); resp.StatusCode != 403 || len(arch.filed) != 0 {
		t.Errorf("reader filing: %d, filed %d", resp.StatusCode, len(arch.filed))
	}

	op, _ := env.signIn(t, operatorUser)
	if page := body(t, env.page("/records/import", op)); !strings.Contains(page, `id="nav-import"`) {
		t.Error("an operator lacks the Import link")
	}

	// A node without importers has no import pages.
	bare := newTestEnv(t)
	bare.users.users[archivistUser.Name] = archivistUser
	s, _ := bare.signIn(t, archivistUser)
	if resp := bare.page("/records/import", s); resp.StatusCode != 404 {
		t.Errorf("no importers: %d", resp.StatusCode)
	}
	if page := body(t, bare.page("/inbox", s)); strings.Contains(page, "/records/import") {
		t.Error("the Import link shows on a node without importers")
	}
}

func TestImportForgedPayload(t *testing.T) {
	env, arch := newArchiveEnv(t)
	sess, csrf := env.signIn(t, archivistUser)
	page := body(t, env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "transcript"}, "k.txt", []byte("x")))
	form := correctionForm(t, page, csrf)
	form.Set("do", "file")
	good := form.Get("payload")
	bodyPart, mac, _ := strings.Cut(good, ".")

	// A record of one's own making, signed with another key.
	other := &Server{ImportKey: []byte("another server's key")}
	other.init()
	forgedRec := fakeTranscriptRecord()
	forgedRec.Details["declassification"] = "forged"
	foreign, err := other.sealImport(&importPayload{User: "archivist", Issued: time.Now(), Kind: "transcript", Records: []*cable.HistoricalRecord{forgedRec}})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, token := range map[string]string{
		"body changed":     flip(bodyPart, len(bodyPart)/2) + "." + mac,
		"mac changed":      bodyPart + "." + flip(mac, 3),
		"no mac":           bodyPart,
		"empty":            "",
		"garbage":          "not.a.payload",
		"another key":      foreign,
		"mac of the other": bodyPart + "." + strings.SplitN(foreign, ".", 2)[1],
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("payload", token)
		resp := env.post("/records/import", sess, f)
		if b := body(t, resp); resp.StatusCode != 403 || !strings.Contains(b, "was refused") {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}

	// Another user's payload, even an archivist's, is refused.
	op, opCSRF := env.signIn(t, operatorUser)
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf", opCSRF)
	if resp := env.post("/records/import", op, f); resp.StatusCode != 403 {
		t.Errorf("another user's payload: %d", resp.StatusCode)
	}

	// An expired one is refused with a reason.
	old, err := env.srv.sealImport(&importPayload{User: "archivist", Issued: time.Now().Add(-importPayloadTTL - time.Minute), Kind: "transcript", Records: []*cable.HistoricalRecord{fakeTranscriptRecord()}})
	if err != nil {
		t.Fatal(err)
	}
	f.Set("csrf", csrf)
	f.Set("payload", old)
	if resp := env.post("/records/import", sess, f); resp.StatusCode != 422 || !strings.Contains(body(t, resp), "expired") {
		t.Errorf("expired payload: %d", resp.StatusCode)
	}
	if len(arch.filed) != 0 {
		t.Fatalf("a refused payload was filed: %v", arch.filed)
	}

	// The genuine one files.
	if resp := env.post("/records/import", sess, form); resp.StatusCode != 303 {
		t.Fatalf("genuine payload: %d", resp.StatusCode)
	}
}

func TestImportProblemsBesideFields(t *testing.T) {
	env, arch := newArchiveEnv(t)
	sess, csrf := env.signIn(t, archivistUser)
	page := body(t, env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "transcript"}, "k.txt", []byte("x")))
	form := correctionForm(t, page, csrf)
	form.Set("station", "moscow 1")
	form.Set("serial", "five")
	form.Set("dtg", "yesterday")
	form.Set("action", "STATE, STATE")
	form.Set("dist_action", "")
	form.Set("received_time", "1946-02-21 10:00")
	form.Set("tags", "not a tag!")
	form["paragraph"][1] = "   "
	form["paragraph"][2] = "Corrected third paragraph."
	for _, do := range []string{"preview", "file"} {
		form.Set("do", do)
		resp := env.post("/records/import", sess, form)
		page = body(t, resp)
		if resp.StatusCode != 422 {
			t.Fatalf("%s: %d", do, resp.StatusCode)
		}
		for _, want := range []string{
			`<p class="field-error" id="e-station">station code &#34;MOSCOW 1&#34; must be 2-20 upper-case letters</p>`,
			`<p class="field-error" id="e-serial">&#34;five&#34; is not a number</p>`,
			`<p class="field-error" id="e-dtg">&#34;yesterday&#34; is not a time in UTC`,
			`<p class="field-error" id="e-dist_action">give the action office`,
			`<p class="field-error" id="e-tags">tag &#34;NOT A TAG!&#34;`,
			`<input id="f-serial" name="serial" type="text" value="five" spellcheck="false" aria-invalid="true" aria-describedby="e-serial">`,
			`<a href="#f-station">Station</a>: `,
			`>Corrected third paragraph.</textarea>`,
			`<p class="field-error" id="e-action">STATE is addressed more than once</p>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: page lacks %q", do, want)
			}
		}
	}
	if len(arch.filed) != 0 {
		t.Fatal("a record with problems was filed")
	}

	// Corrected, the emptied paragraph is taken out and the rest renumbered.
	form = correctionForm(t, body(t, env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "transcript"}, "k.txt", []byte("x"))), csrf)
	form["paragraph"][1] = ""
	form.Set("classification", "CONFIDENTIAL")
	form.Set("received_time", "1946-02-21 10:00")
	form.Set("do", "preview")
	page = body(t, env.post("/records/import", sess, form))
	if !strings.Contains(page, `<p class="field-error" id="e-received_time">received 1946-02-21 10:00Z, before it was sent (1946-02-22 18:00Z)</p>`) {
		t.Errorf("receipt before sending not shown:\n%s", page)
	}
	form.Set("received_time", "1946-02-22 20:52")
	form.Set("do", "file")
	if resp := env.post("/records/import", sess, form); resp.StatusCode != 303 {
		t.Fatalf("file: %d %s", resp.StatusCode, body(t, resp))
	}
	got := arch.get("1946MOSCOW00511")
	ps := got.Cable.Paragraphs
	if len(ps) != 2 || ps[1].Number != 2 || !strings.HasPrefix(ps[1].Text, "A third") || ps[0].Classification != cable.Confidential || ps[1].Classification != cable.Unclassified || got.Cable.Classification != cable.Confidential {
		t.Errorf("paragraphs %+v", ps)
	}
	if c := stringsOf(got.Details["corrected"]); !reflect.DeepEqual(c, []string{"classification", "paragraphs[1].text"}) {
		t.Errorf("corrected %v", c)
	}
}

func TestImportTEIFlow(t *testing.T) {
	env, arch := newArchiveEnv(t)
	sess, csrf := env.signIn(t, archivistUser)
	resp := env.upload(t, sess, map[string]string{"csrf": csrf, "kind": "tei"}, "frus.xml", []byte("<TEI/>"))
	page := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("volume: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`TEI volume: 2 telegrams, 1 memorandum, 1 not read`,
		`<tr id="doc-d152">`, `<tr id="doc-d153">`, `<tr id="doc-d154">`,
		`152. An invented telegram from Batavia`,
		`<td data-label="Record" class="mono">1949BATAVIA00100</td>`,
		`<td data-label="Date" class="mono">021200Z FEB 49</td>`,
		`<td data-label="Date" class="mono">1949-02-03</td>`,
		`<button type="submit" name="review" value="2" class="review">Review and file</button>`,
		`<li><span class="mono">d155</span>: no date in the invented opener</li>`,
		`<button type="submit" name="do" value="fileall" id="file-all" class="primary">File all</button>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("volume page lacks %q", want)
		}
	}
	payload := html.UnescapeString(payloadField.FindStringSubmatch(page)[1])

	// Review one document: its own form, the edition's details beside it.
	resp = env.post("/records/import", sess, url.Values{"csrf": {csrf}, "payload": {payload}, "review": {"2"}})
	page = body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("review: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{`id="record-id">1949STATE00050</span>`, `<dt>Document</dt><dd class="mono">d154</dd>`, `<li value="1">Telegram 12, January 3. <small>(paragraph 1)</small></li>`, `value="THEHAGUE"`} {
		if !strings.Contains(page, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	if resp := env.post("/records/import", sess, url.Values{"csrf": {csrf}, "payload": {payload}, "review": {"7"}}); resp.StatusCode != 422 {
		t.Errorf("review of a document not there: %d", resp.StatusCode)
	}
	// The volume's payload holds three records: it is not a correction form.
	if resp := env.post("/records/import", sess, url.Values{"csrf": {csrf}, "payload": {payload}, "do": {"file"}}); resp.StatusCode != 422 {
		t.Errorf("filing the volume as one record: %d", resp.StatusCode)
	}
	review := correctionForm(t, page, csrf)
	review.Set("do", "file")
	if resp := env.post("/records/import", sess, review); resp.StatusCode != 303 || resp.Header.Get("Location") != "/cables/1949STATE00050" {
		t.Fatalf("file one document: %d", resp.StatusCode)
	}

	// File all: each document reported.
	resp = env.post("/records/import", sess, url.Values{"csrf": {csrf}, "payload": {payload}, "do": {"fileall"}})
	page = body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("file all: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`3 documents: 1 filed, 1 already held, 1 refused; 1 not read.`,
		`<tr class="outcome-filed">`,
		`<a href="/cables/1949BATAVIA00100">1949BATAVIA00100</a>`,
		`<span class="state state-held">already held</span> <span class="reason">1949STATE00050 is already in the holding</span>`,
		`<span class="state state-refused">refused</span> <span class="reason">invalid arrivals: arrivals[0].cable.id: malformed cable identifier`,
		`<li><span class="mono">d155</span>: no date in the invented opener</li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("file-all page lacks %q", want)
		}
	}
	if len(arch.filed) != 2 {
		t.Errorf("filed %d records", len(arch.filed))
	}
}

func TestImportFormRoundTrip(t *testing.T) {
	recs, _ := fakeVolume()
	recs = append(recs, fakeTranscriptRecord())
	recs, err := normalizeRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		f := formFromRecord(r)
		// Through the form as a browser posts it.
		v := url.Values{
			"station": {f.Station}, "serial": {f.Serial}, "dtg": {f.DTG}, "precedence": {f.Precedence}, "classification": {f.Classification},
			"handling": f.Handling, "action": {f.Action}, "info": {f.Info}, "tags": {f.Tags}, "references": {strings.ReplaceAll(f.References, "\n", "\r\n")},
			"signature": {f.Signature}, "subject": {f.Subject}, "received_at": {f.ReceivedAt}, "received_time": {f.ReceivedTime},
			"control_number": {f.ControlNumber}, "dist_action": {f.DistAction}, "dist_info": {f.DistInfo},
		}
		for _, p := range f.Paragraphs {
			v.Add("paragraph", strings.ReplaceAll(p, "\n", "\r\n"))
		}
		got, ps := parseImportForm(v).apply(r)
		if len(ps) > 0 {
			t.Errorf("%s: problems %v", r.ID, ps)
		}
		if _, ok := got.Details["corrected"]; ok {
			t.Errorf("%s: unchanged form reported corrections %v", r.ID, got.Details["corrected"])
		}
		if rc := r.Cable.Received; rc != nil && !got.Cable.Received.At.Equal(rc.At) {
			t.Errorf("%s: received %v, want %v", r.ID, got.Cable.Received.At, rc.At)
		}
		want := *r
		want.Cable = r.Cable.Clone()
		if want.Cable.Received != nil {
			want.Cable.Received.At = got.Cable.Received.At
			want.Cable.Received.Station = want.ReceivedAt
		}
		if !reflect.DeepEqual(got, &want) {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(&want)
			t.Errorf("%s: round trip through the form changed the record:\n got %s\nwant %s", r.ID, a, b)
		}
		if ps := checkHistorical(got); len(ps) > 0 {
			t.Errorf("%s: problems %v", r.ID, ps)
		}
	}
}

func TestParseUTC(t *testing.T) {
	want := time.Date(1946, 2, 22, 18, 0, 0, 0, time.UTC)
	for _, s := range []string{"1946-02-22 18:00", " 1946-02-22T18:00 ", "1946-02-22 18:00Z", "1946-02-22T21:00:00+03:00", "221800Z FEB 46", "221800Z feb 1946"} {
		if got, ok := parseUTC(s); !ok || !got.Equal(want) {
			t.Errorf("parseUTC(%q) = %v, %v", s, got, ok)
		}
	}
	if got, ok := parseUTC(""); !ok || !got.IsZero() {
		t.Error("empty is not the zero time")
	}
	for _, s := range []string{"yesterday", "1946-02-30 18:00", "22 Feb 1946"} {
		if _, ok := parseUTC(s); ok {
			t.Errorf("parseUTC(%q) accepted", s)
		}
	}
}

func FuzzOpenImport(f *testing.F) {
	srv := &Server{ImportKey: []byte("fuzz key")}
	srv.init()
	u := archivistUser
	// Sealed deterministically: the fuzzing workers seal it again.
	issued := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	now := issued.Add(time.Hour)
	valid, err := srv.sealImport(&importPayload{User: u.Name, Issued: issued, Kind: "transcript", Records: []*cable.HistoricalRecord{fakeTranscriptRecord()}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid + "x")
	f.Add(strings.Replace(valid, ".", "", 1))
	f.Add("")
	f.Add(".")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, token string) {
		p, err := srv.openImport(token, u, now)
		if err == nil && token != valid {
			t.Fatalf("accepted a token not sealed here: %q", token)
		}
		if err == nil && (len(p.Records) != 1 || p.Records[0].ID != "1946MOSCOW00511") {
			t.Fatalf("opened %+v", p)
		}
		if err != nil && token != valid && cable.ErrorCode(err) != cable.EFORBIDDEN {
			t.Fatalf("refusal %v has code %s", err, cable.ErrorCode(err))
		}
	})
}

func FuzzImportForm(f *testing.F) {
	recs, _ := normalizeRecords([]*cable.HistoricalRecord{fakeTranscriptRecord()})
	orig := recs[0]
	f.Add("station=MOSCOW&serial=511&dtg=1946-02-22+18%3A00&paragraph=a&paragraph=b&paragraph=c")
	f.Add("serial=-1&dtg=221800Z+FEB+46&classification=TS&handling=NIACT&paragraph=&paragraph=&paragraph=")
	f.Add("received_time=x&dist_info=EUR&action=STATE+STATE&references=%0A%0ASTATE+284")
	f.Add("%zz&paragraph=1")
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		before, _ := json.Marshal(orig)
		r, _ := parseImportForm(v).apply(orig)
		after, _ := json.Marshal(orig)
		if !bytes.Equal(before, after) {
			t.Fatal("apply changed the original record")
		}
		c := r.Cable
		for i, p := range c.Paragraphs {
			if p.Number != i+1 || strings.TrimSpace(p.Text) == "" {
				t.Fatalf("paragraph %d: %+v", i, p)
			}
		}
		if r.ID != "" && r.ID != cable.Identifier(c.DTG.UTC().Year(), c.Station, c.Serial) {
			t.Fatalf("identifier %q does not follow the fields", r.ID)
		}
		checkHistorical(r)
	})
}

// benchPayload is an import of the size of the Long Telegram: about 70 KB
// of transcript and a hundred paragraphs.
func benchPayload() *importPayload {
	r := fakeTranscriptRecord()
	r.Cable.Paragraphs = nil
	for i := range 100 {
		r.Cable.Paragraphs = append(r.Cable.Paragraphs, cable.Paragraph{Number: i + 1, Classification: cable.Secret,
			Text: strings.Repeat(fmt.Sprintf("Invented sentence %d of the rebuilt telegram, of about the length of a real one. ", i), 4)})
	}
	recs, _ := normalizeRecords([]*cable.HistoricalRecord{r})
	return &importPayload{User: "archivist", Issued: time.Now(), Kind: "transcript", Name: "k.txt",
		Source: strings.Repeat("-3- #511, February 22, 9 p.m. from Moscow via War\nA line of the transcript as the archive gives it.\n", 700), Records: recs}
}

// BenchmarkImportPayload seals and opens an import's payload, as every
// post of the correction form does.
func BenchmarkImportPayload(b *testing.B) {
	srv := &Server{}
	srv.init()
	p := benchPayload()
	data, _ := json.Marshal(p)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		token, err := srv.sealImport(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.openImport(token, archivistUser, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportPayloadBaseline encodes and decodes the same payload as
// bare JSON: no compression, encoding or signature.
func BenchmarkImportPayloadBaseline(b *testing.B) {
	p := benchPayload()
	data, _ := json.Marshal(p)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		data, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		var q importPayload
		if err := json.Unmarshal(data, &q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportPreviewAgain serves "Preview again" of a hundred-paragraph
// record through the whole handler.
func BenchmarkImportPreviewAgain(b *testing.B) {
	env, _ := newArchiveEnv(b)
	env.srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	sess, csrf := env.signIn(b, archivistUser)
	p := benchPayload()
	token, err := env.srv.sealImport(p)
	if err != nil {
		b.Fatal(err)
	}
	f := formFromRecord(p.Records[0])
	v := url.Values{"csrf": {csrf}, "payload": {token}, "do": {"preview"}, "station": {f.Station}, "serial": {f.Serial}, "dtg": {f.DTG},
		"precedence": {f.Precedence}, "classification": {f.Classification}, "action": {f.Action}, "paragraph": f.Paragraphs}
	form := v.Encode()
	b.SetBytes(int64(len(form)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/records/import", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(sess)
		serve(b, env.h, req)
	}
}

// BenchmarkImportPreviewAgainBaseline is a bare mux parsing the same form
// and executing a template of the source and the paragraphs.
func BenchmarkImportPreviewAgainBaseline(b *testing.B) {
	p := benchPayload()
	tmpl := template.Must(template.New("").Parse(`<!doctype html><pre>{{.Source}}</pre>{{range .Records}}{{range .Cable.Paragraphs}}<textarea>{{.Text}}</textarea>{{end}}{{end}}`))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /records/import", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		tmpl.Execute(w, p)
	})
	f := formFromRecord(p.Records[0])
	form := url.Values{"payload": {strings.Repeat("x", 40000)}, "paragraph": f.Paragraphs}.Encode()
	b.SetBytes(int64(len(form)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/records/import", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		serve(b, mux, req)
	}
}
