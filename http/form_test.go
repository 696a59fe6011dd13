package http

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// validForm is the drafting form filled in for validDraft.
func validForm() url.Values {
	return url.Values{
		"precedence":               {"IMMEDIATE"},
		"classification":           {""},
		"action":                   {"STATE"},
		"tags":                     {"prel, ur"},
		"subject":                  {"  Soviet outlook "},
		"paragraph_classification": {"S", "", "U", ""},
		"paragraph_text":           {"Basic features of the post-war Soviet outlook.", "   ", "Further parts follow.", ""},
		"signature":                {"KENNAN"},
		"classified_by":            {"GEORGE F. KENNAN, CHARGE"},
		"reason":                   {"d"},
		"declassify_kind":          {"date"},
		"declassify_date":          {"2036-02-22"},
	}
}

func TestDraftFormDecoding(t *testing.T) {
	f := parseDraftForm(validForm())
	if len(f.Paragraphs) != 2 {
		t.Fatalf("empty paragraph boxes kept: %+v", f.Paragraphs)
	}
	c, ps := f.draft("MOSCOW")
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if want := validDraft(); !reflect.DeepEqual(c, want) {
		gotJSON, _ := json.Marshal(c)
		wantJSON, _ := json.Marshal(want)
		t.Errorf("draft\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if err := cable.Validate(c, cable.ValidateOptions{Directory: testDirectory(t), Drafter: drafterMoscow, At: time.Date(2026, 2, 22, 0, 0, 0, 0, time.UTC), Draft: true}); err != nil {
		t.Errorf("the form's draft is invalid: %v", err)
	}
}

func TestDraftFormClassificationOfTheWhole(t *testing.T) {
	for _, tc := range []struct {
		chosen string
		marks  []string
		want   cable.Classification
	}{
		{"", []string{"U", "S"}, cable.Secret},              // computed from the paragraphs
		{"CONFIDENTIAL", []string{"S"}, cable.Secret},       // may not be lowered below a paragraph
		{"TOP SECRET", []string{"U", "C"}, cable.TopSecret}, // may be raised
		{"", []string{"U"}, cable.Unclassified},
		{"", []string{""}, 0},
	} {
		v := validForm()
		v.Set("classification", tc.chosen)
		v["paragraph_classification"] = tc.marks
		v["paragraph_text"] = make([]string, len(tc.marks))
		for i := range tc.marks {
			v["paragraph_text"][i] = "text"
		}
		c, _ := parseDraftForm(v).draft("MOSCOW")
		if c.Classification != tc.want {
			t.Errorf("chosen %q, marks %v: whole is %v, want %v", tc.chosen, tc.marks, c.Classification, tc.want)
		}
	}
}

func TestDraftFormFields(t *testing.T) {
	v := validForm()
	v.Set("niact", "1")
	v["captions"] = []string{"EXDIS", "NODIS"}
	v["handling"] = []string{"NOFORN"}
	v["info"] = []string{"LONDON"}
	v.Set("references", "STATE 284\r\n\r\n 76 LONDON 17 \n")
	v["reason"] = []string{"d", "b"}
	v.Set("tags", "PREL UR")
	c, ps := parseDraftForm(v).draft("MOSCOW")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	if !reflect.DeepEqual(c.Handling, []cable.Handling{cable.NIACT, cable.NOFORN}) {
		t.Errorf("handling %v", c.Handling)
	}
	if !reflect.DeepEqual(c.Captions, []cable.Caption{cable.NODIS, cable.EXDIS}) {
		t.Errorf("captions %v", c.Captions)
	}
	if !reflect.DeepEqual(c.To, []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}}) {
		t.Errorf("to %v", c.To)
	}
	if !reflect.DeepEqual(c.References, []cable.Reference{{Text: "STATE 284"}, {Text: "76 LONDON 17"}}) {
		t.Errorf("references %v", c.References)
	}
	if c.Authority.Reason != "1.4 (B) AND (D)" {
		t.Errorf("reason %q", c.Authority.Reason)
	}
	if !reflect.DeepEqual(c.Tags, []string{"PREL", "UR"}) {
		t.Errorf("tags %v", c.Tags)
	}

	for kind, value := range map[string]string{"event": "End of the negotiations", "exemption": "50X1-HUM, 2071-02-22"} {
		v := validForm()
		v.Del("declassify_date")
		v.Set("declassify_kind", "")
		v.Set("declassify_"+kind, value)
		c, ps := parseDraftForm(v).draft("MOSCOW")
		if len(ps) != 0 || c.Authority.DeclassifyOn.String() != value {
			t.Errorf("%s: %v, %q", kind, ps, c.Authority.DeclassifyOn)
		}
	}

	// An unclassified cable carries no authority block unless one is typed.
	v = validForm()
	v["paragraph_classification"] = []string{"U", "", "U", ""}
	v.Del("classified_by")
	v.Del("reason")
	v.Del("declassify_date")
	c, _ = parseDraftForm(v).draft("MOSCOW")
	if c.Authority != nil {
		t.Errorf("unclassified draft has authority %+v", c.Authority)
	}

	// Values no form offers are problems, named like validation's.
	v = validForm()
	v.Set("precedence", "SOON")
	v["captions"] = []string{"SECRETISH"}
	v["reason"] = []string{"z"}
	v["paragraph_classification"] = []string{"Q"}
	v.Set("declassify_date", "someday")
	_, ps = parseDraftForm(v).draft("MOSCOW")
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	want := []string{"precedence", "captions", "paragraphs[0].classification", "authority.reason", "authority.declassify_on"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("problem fields %v, want %v", fields, want)
	}
}

func TestFormKey(t *testing.T) {
	c := &cable.Cable{To: []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}}}
	for field, want := range map[string]string{
		"precedence":                   "precedence",
		"classification":               "classification",
		"captions":                     "captions",
		"captions[1]":                  "captions",
		"handling":                     "handling",
		"to":                           "action",
		"to[0].station":                "action",
		"to[1].station":                "info",
		"to[9].role":                   "action",
		"tags[0]":                      "tags",
		"subject":                      "subject",
		"references[1]":                "references",
		"paragraphs":                   "paragraphs",
		"paragraphs[0].text":           "p1",
		"paragraphs[2].classification": "p3",
		"signature":                    "signature",
		"authority":                    "authority",
		"authority.classified_by":      "classified_by",
		"authority.reason":             "reason",
		"authority.declassify_on":      "declassify_on",
		"authority.order":              "authority",
		"station":                      "",
		"":                             "",
	} {
		if got := formKey(field, c); got != want {
			t.Errorf("formKey(%q) = %q, want %q", field, got, want)
		}
	}
}

// draftPost posts the drafting form as the signed-in drafter.
func draftPost(t *testing.T, env *testEnv, v url.Values, action string) (int, string, string) {
	t.Helper()
	sess, csrf := env.signIn(t, drafterMoscow)
	v.Set("csrf", csrf)
	v.Set("do", action)
	resp := env.post("/draft", sess, v)
	return resp.StatusCode, resp.Header.Get("Location"), body(t, resp)
}

func TestDraftPageCheckAndRelease(t *testing.T) {
	env := newTestEnv(t)
	status, _, page := draftPost(t, env, validForm(), "check")
	if status != 200 || !strings.Contains(page, `id="check-ok"`) {
		t.Fatalf("check: %d", status)
	}
	if !strings.Contains(page, `<div class="banner cls-s" id="draft-banner" aria-live="polite">SECRET</div>`) {
		t.Errorf("check: banner is not SECRET")
	}
	if len(env.cables.records) != 0 {
		t.Fatal("check released")
	}

	sess, csrf := env.signIn(t, drafterMoscow)
	v := validForm()
	v.Set("csrf", csrf)
	v.Set("do", "release")
	resp := env.post("/draft", sess, v)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/cables/2026MOSCOW00001" {
		t.Fatalf("release: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	flash := cookieNamed(resp, flashCookie)
	if flash == nil {
		t.Fatal("no flash")
	}
	req := httptest.NewRequest("GET", "/cables/2026MOSCOW00001", nil)
	req.AddCookie(sess)
	req.AddCookie(flash)
	resp = env.do(req)
	if b := body(t, resp); !strings.Contains(b, `<p class="flash" role="status" id="flash">Released 2026MOSCOW00001</p>`) {
		t.Errorf("cable view lacks the flash message")
	}
	if c := cookieNamed(resp, flashCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("flash not cleared")
	}
}

func TestDraftPageShowsEveryProblemBesideItsField(t *testing.T) {
	env := newTestEnv(t)
	v := validForm()
	v.Del("subject")
	v.Del("action")
	v.Set("info", "STATE")
	v["paragraph_classification"] = []string{"S", ""}
	v["paragraph_text"] = []string{"First.", "Second has no mark."}
	v.Set("declassify_date", "2099-01-01")
	v.Set("signature", "KENNAN")
	status, _, page := draftPost(t, env, v, "release")
	if status != 422 {
		t.Fatalf("status %d", status)
	}
	if len(env.cables.records) != 0 {
		t.Fatal("an invalid draft was released")
	}
	for _, want := range []string{
		`<p class="field-error" id="e-subject">a subject is required</p>`,
		`<input id="f-subject" name="subject" aria-invalid="true" aria-describedby="e-subject" type="text" value="" maxlength="400">`,
		`<p class="field-error" id="e-action">at least one action addressee is required</p>`,
		`<p class="field-error" id="e-declassify_on">2099-01-01 is more than 25 years after`,
		`<textarea id="f-p2" name="paragraph_text" rows="5" aria-invalid="true">Second has no mark.</textarea>
    <p class="field-error">each paragraph needs a portion mark`,
		`<a href="#f-subject">Subject</a>: a subject is required`,
		`<a href="#f-p2">Paragraph 2</a>: each paragraph needs a portion mark`,
		// What was typed is kept.
		`<option value="STATE" selected>STATE — SECSTATE WASHDC</option>`,
		`<input id="f-declassify_date" name="declassify_date" type="date" value="2099-01-01">`,
		`<option value="S" selected>(S) SECRET</option>`,
		`<textarea id="f-p3" name="paragraph_text" rows="5"></textarea>`, // an empty box to add one
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<li><a href="#f-`); n < 4 {
		t.Errorf("summary lists %d problems, want at least 4", n)
	}
}

func TestDraftPageRefusesForgery(t *testing.T) {
	env := newTestEnv(t)
	sess, _ := env.signIn(t, drafterMoscow)
	v := validForm()
	v.Set("csrf", "guess")
	v.Set("do", "release")
	if resp := env.post("/draft", sess, v); resp.StatusCode != 403 {
		t.Errorf("forged token: %d", resp.StatusCode)
	}
	if len(env.cables.records) != 0 {
		t.Error("a forged form released a cable")
	}
}
