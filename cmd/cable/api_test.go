package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
)

// apiCall sends one request to the node's API and returns the status,
// headers and body.
func apiCall(t *testing.T, method, url, token, contentType, accept string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// apiJSON decodes a JSON response body.
func apiJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// apiDraft is a SECRET draft from MOSCOW for action at STATE, tagged UR,
// in the cable JSON of the API.
func apiDraft(subject string) map[string]any {
	return map[string]any{
		"precedence":     "IMMEDIATE",
		"classification": "SECRET",
		"to":             []map[string]string{{"station": "STATE", "role": "action"}, {"station": "LONDON", "role": "info"}},
		"tags":           []string{"PREL", "UR"},
		"subject":        subject,
		"references":     []map[string]string{{"text": "STATE 284"}},
		"paragraphs": []map[string]any{
			{"number": 1, "classification": "SECRET", "text": "The Soviet government regards the capitalist world as hostile."},
			{"number": 2, "classification": "UNCLASSIFIED", "text": "Further parts follow by separate telegram."},
		},
		"signature": "KENNAN",
		"authority": map[string]string{"classified_by": "GEORGE F. KENNAN, CHARGE", "reason": "1.4 (D)", "declassify_on": time.Now().UTC().AddDate(10, 0, 0).Format(time.DateOnly)},
	}
}

// apiTextDraft is a draft in the canonical text form, written by hand.
func apiTextDraft(subject string) []byte {
	decl := time.Now().UTC().AddDate(10, 0, 0).Format("01/02/2006")
	return []byte("PRIORITY\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nBT\nC O N F I D E N T I A L\n" +
		"E.O. 13526: DECL: " + decl + "\nTAGS: PREL, UR\nSUBJECT: " + subject + "\n" +
		"CLASSIFIED BY: GEORGE F. KENNAN, CHARGE. REASON: 1.4 (D)\n\n" +
		"1. (C) THE PARTY LINE IS NOT BASED ON ANY OBJECTIVE ANALYSIS OF THE\nSITUATION BEYOND RUSSIA'S BORDERS.\n\n" +
		"2. (U) PART TWO FOLLOWS.\n\nKENNAN\nBT\n")
}

var apiIDPattern = regexp.MustCompile(`^\d{4}MOSCOW\d{5}$`)

type apiReleased struct {
	ID     string    `json:"id"`
	Serial int       `json:"serial"`
	DTG    time.Time `json:"dtg"`
	SHA256 string    `json:"sha256"`
}

// apiRelease posts a draft and checks the 201 answer.
func apiRelease(t *testing.T, n *testNode, token, contentType string, body []byte) apiReleased {
	t.Helper()
	status, h, b := apiCall(t, "POST", n.URL+"/api/v1/cables", token, contentType, "", body)
	if status != http.StatusCreated {
		t.Fatalf("release (%s): status %d: %s", contentType, status, b)
	}
	var r apiReleased
	apiJSON(t, b, &r)
	if !apiIDPattern.MatchString(r.ID) || r.Serial < 1 || r.DTG.IsZero() || len(r.SHA256) != 64 {
		t.Fatalf("release answer %s", b)
	}
	if loc := h.Get("Location"); loc != "/api/v1/cables/"+r.ID {
		t.Errorf("Location %q", loc)
	}
	return r
}

// apiWaitInbox polls an office's inbox through the API until id arrives.
func apiWaitInbox(t *testing.T, n *testNode, token, office, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		status, _, b := apiCall(t, "GET", n.URL+"/api/v1/inbox?office="+office+"&limit=200", token, "", "", nil)
		if status != 200 {
			t.Fatalf("inbox %s: %d %s", office, status, b)
		}
		var list struct {
			Total  int              `json:"total"`
			Cables []map[string]any `json:"cables"`
		}
		apiJSON(t, b, &list)
		for _, c := range list.Cables {
			if c["id"] == id {
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never reached the %s inbox", id, office)
	return nil
}

func TestAPIReleaseReceiveRead(t *testing.T) {
	n := startTestNode(t)
	drafter := n.Token(t, "drafter.moscow")
	eur := n.Token(t, "reader.eur")

	body, _ := json.Marshal(apiDraft("SOVIET POSTWAR OUTLOOK"))
	fromJSON := apiRelease(t, n, drafter, "application/json", body)
	fromText := apiRelease(t, n, drafter, "text/plain; charset=utf-8", apiTextDraft("PARTY LINE ON THE OUTSIDE WORLD"))
	if fromText.Serial != fromJSON.Serial+1 {
		t.Errorf("serials %d then %d", fromJSON.Serial, fromText.Serial)
	}

	for _, r := range []apiReleased{fromJSON, fromText} {
		// The text, byte for byte, hashes to what release reported.
		status, h, text := apiCall(t, "GET", n.URL+"/api/v1/cables/"+r.ID, drafter, "", "text/plain", nil)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
			t.Fatalf("%s as text: %d %q", r.ID, status, h.Get("Content-Type"))
		}
		if got := cable.SHA256Hex(text); got != r.SHA256 {
			t.Errorf("%s: text hashes to %s, release said %s", r.ID, got, r.SHA256)
		}
		status, _, b := apiCall(t, "GET", n.URL+"/api/v1/cables/"+r.ID, drafter, "", "application/json", nil)
		if status != 200 {
			t.Fatalf("%s as JSON: %d %s", r.ID, status, b)
		}
		var rec struct {
			ID             string `json:"id"`
			Station        string `json:"station"`
			Classification string `json:"classification"`
			SHA256         string `json:"sha256"`
			Origin         string `json:"origin"`
			Paragraphs     []struct {
				Classification string `json:"classification"`
			} `json:"paragraphs"`
			Transmissions []struct {
				Destination string `json:"destination"`
			} `json:"transmissions"`
		}
		apiJSON(t, b, &rec)
		if rec.ID != r.ID || rec.Station != "MOSCOW" || rec.SHA256 != r.SHA256 || rec.Origin != "released" || len(rec.Paragraphs) != 2 || len(rec.Transmissions) == 0 {
			t.Errorf("%s as JSON: %s", r.ID, b)
		}
	}

	// STATE receives it and its routing rules give it to EUR for action.
	line := apiWaitInbox(t, n, eur, "EUR", fromJSON.ID)
	received, _ := line["received"].(map[string]any)
	dist, _ := line["distribution"].(map[string]any)
	if received == nil || received["control_number"] == "" || received["control_number"] == nil {
		t.Errorf("inbox line without control number: %v", line)
	}
	if dist == nil || dist["action"] != "EUR" {
		t.Errorf("inbox line distribution: %v", line)
	}
	status, _, b := apiCall(t, "GET", n.URL+"/api/v1/cables/"+fromJSON.ID, eur, "", "", nil)
	var seen struct {
		Received     *cable.Receipt      `json:"received"`
		Distribution *cable.Distribution `json:"distribution"`
	}
	apiJSON(t, b, &seen)
	if status != 200 || seen.Received == nil || seen.Received.ControlNumber == "" || seen.Distribution == nil || seen.Distribution.Action != "EUR" {
		t.Errorf("reader.eur reads %d %s", status, b)
	}

	// Search finds it for reader.eur, with a snippet of the match.
	status, _, b = apiCall(t, "GET", n.URL+"/api/v1/search?q=capitalist", eur, "", "", nil)
	var hits struct {
		Total  int `json:"total"`
		Cables []struct {
			ID      string `json:"id"`
			Snippet string `json:"snippet"`
		} `json:"cables"`
	}
	apiJSON(t, b, &hits)
	found := false
	for _, h := range hits.Cables {
		if h.ID == fromJSON.ID {
			found = true
			if !strings.Contains(strings.ToLower(h.Snippet), "capitalist") {
				t.Errorf("snippet %q lacks the word searched for", h.Snippet)
			}
		}
	}
	if status != 200 || !found || hits.Total < 1 {
		t.Errorf("reader.eur search: %d %s", status, b)
	}

	// A reader whose offices it was not distributed to sees nothing, and
	// sees it exactly as a cable that does not exist.
	nea := n.Token(t, "reader.nea")
	status, _, hidden := apiCall(t, "GET", n.URL+"/api/v1/cables/"+fromJSON.ID, nea, "", "", nil)
	missingID := fromJSON.ID[:len(fromJSON.ID)-5] + "99999"
	status2, _, missing := apiCall(t, "GET", n.URL+"/api/v1/cables/"+missingID, nea, "", "", nil)
	if status != 404 || status2 != 404 {
		t.Fatalf("reader.nea: %d for a hidden cable, %d for a missing one; want 404", status, status2)
	}
	if string(bytes.ReplaceAll(missing, []byte(missingID), []byte(fromJSON.ID))) != string(hidden) {
		t.Errorf("hidden %s and missing %s answer differently", hidden, missing)
	}
	if status, _, b := apiCall(t, "GET", n.URL+"/api/v1/search?q=postwar", nea, "", "", nil); status != 200 || bytes.Contains(b, []byte(fromJSON.ID)) {
		t.Errorf("reader.nea search: %d %s", status, b)
	}
}

func TestAPINODISCable(t *testing.T) {
	n := startTestNode(t)
	// No demo drafter holds NODIS; one who does releases the cable.
	u := &cable.User{Name: "drafter.nodis", Station: "MOSCOW", Offices: []string{"EXEC"}, Clearance: cable.Secret,
		Captions: []cable.Caption{cable.NODIS}, Roles: []cable.UserRole{cable.RoleDrafter}}
	if err := centre.AddUser(context.Background(), n.records, n.dir, u, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	d := apiDraft("AMBASSADOR'S PRIVATE CONVERSATION")
	d["captions"] = []string{"NODIS"}
	body, _ := json.Marshal(d)
	r := apiRelease(t, n, n.Token(t, "drafter.nodis"), "application/json", body)

	nodis := n.Token(t, "nodis.s")
	apiWaitInbox(t, n, nodis, "S", r.ID)
	if status, _, b := apiCall(t, "GET", n.URL+"/api/v1/cables/"+r.ID, nodis, "", "", nil); status != 200 {
		t.Errorf("nodis.s: %d %s", status, b)
	}
	readerS := n.Token(t, "reader.s")
	if status, _, b := apiCall(t, "GET", n.URL+"/api/v1/cables/"+r.ID, readerS, "", "", nil); status != 404 {
		t.Errorf("reader.s (no NODIS): %d %s", status, b)
	}
	status, _, b := apiCall(t, "GET", n.URL+"/api/v1/inbox?office=S&limit=200", readerS, "", "", nil)
	if status != 200 || bytes.Contains(b, []byte(r.ID)) {
		t.Errorf("reader.s inbox lists the NODIS cable: %d", status)
	}
	// Nor may drafter.moscow, of the same station, who does not hold NODIS.
	if status, _, _ := apiCall(t, "GET", n.URL+"/api/v1/cables/"+r.ID, n.Token(t, "drafter.moscow"), "", "", nil); status != 404 {
		t.Errorf("drafter.moscow (no NODIS): %d", status)
	}
}

func TestAPIRefusals(t *testing.T) {
	n := startTestNode(t)
	drafter := n.Token(t, "drafter.moscow")

	// An invalid draft gets every problem, each naming its field.
	bad := map[string]any{
		"precedence":     "ROUTINE",
		"classification": "CONFIDENTIAL",
		"to":             []map[string]string{{"station": "WAR", "role": "action"}},
		"subject":        "",
		"paragraphs":     []map[string]any{{"number": 1, "classification": "SECRET", "text": "Marked above the whole."}},
	}
	body, _ := json.Marshal(bad)
	status, _, b := apiCall(t, "POST", n.URL+"/api/v1/cables", drafter, "application/json", "", body)
	if status != 422 {
		t.Fatalf("invalid draft: %d %s", status, b)
	}
	var e struct {
		Error  string          `json:"error"`
		Errors []cable.Problem `json:"errors"`
	}
	apiJSON(t, b, &e)
	fields := map[string]bool{}
	for _, p := range e.Errors {
		fields[p.Field] = true
	}
	for _, f := range []string{"to[0].station", "tags", "subject", "classification", "signature", "authority"} {
		if !fields[f] {
			t.Errorf("no problem named %s in %s", f, b)
		}
	}
	// The text form's problems are named too.
	status, _, b = apiCall(t, "POST", n.URL+"/api/v1/cables", drafter, "text/plain", "", []byte("FM NOWHERE\n\nHELLO\n"))
	apiJSON(t, b, &e)
	if status != 422 || len(e.Errors) == 0 {
		t.Errorf("invalid text draft: %d %s", status, b)
	}

	if status, _, b := apiCall(t, "GET", n.URL+"/api/v1/me", "", "", "", nil); status != 401 || !bytes.Contains(b, []byte(`"error"`)) {
		t.Errorf("no token: %d %s", status, b)
	}
	if status, _, _ := apiCall(t, "GET", n.URL+"/api/v1/inbox", "not-a-token", "", "", nil); status != 401 {
		t.Errorf("unknown token: %d", status)
	}
	if status, _, _ := apiCall(t, "POST", n.URL+"/api/v1/cables", "", "application/json", "", body); status != 401 {
		t.Errorf("release without token: %d", status)
	}
	status, _, b = apiCall(t, "POST", n.URL+"/api/v1/cables", drafter, "application/json", "", []byte(`{"subject": "unfinished`))
	apiJSON(t, b, &e)
	if status != 400 || len(e.Errors) != 1 || e.Errors[0].Field != "body" {
		t.Errorf("malformed JSON: %d %s", status, b)
	}
	// A reader may not release.
	good, _ := json.Marshal(apiDraft("READERS DO NOT RELEASE"))
	if status, _, b := apiCall(t, "POST", n.URL+"/api/v1/cables", n.Token(t, "reader.eur"), "application/json", "", good); status != 403 {
		t.Errorf("reader releasing: %d %s", status, b)
	}
	// Another office's inbox is forbidden.
	if status, _, _ := apiCall(t, "GET", n.URL+"/api/v1/inbox?office=NEA", n.Token(t, "reader.eur"), "", "", nil); status != 403 {
		t.Errorf("another office's inbox: %d", status)
	}
}
