package main

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/url"
	"sort"
	"strings"
	"testing"

	cablehttp "github.com/cable-archive/cable/http"
)

// oaDoc is an OpenAPI document as plain JSON values.
type oaDoc map[string]any

// resolve follows a local $ref ("#/components/schemas/Cable") until it
// reaches a value that is not a reference.
func (d oaDoc) resolve(t *testing.T, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	for range 20 {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = map[string]any(d)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			next, ok := cur.(map[string]any)[part]
			if !ok {
				t.Fatalf("unresolvable $ref %s", ref)
			}
			cur = next
		}
		m, _ = cur.(map[string]any)
	}
	t.Fatalf("$ref chain too long at %v", m)
	return nil
}

// check validates value against schema for what the API promises:
// type, required properties, properties, items, enum, const, oneOf and
// anyOf. It returns every mismatch, each with its JSON path.
func (d oaDoc) check(t *testing.T, schema any, value any, path string) []string {
	t.Helper()
	s := d.resolve(t, schema)
	if s == nil {
		return nil
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }

	for _, key := range []string{"oneOf", "anyOf"} {
		alts, ok := s[key].([]any)
		if !ok {
			continue
		}
		matched := false
		for _, alt := range alts {
			if len(d.check(t, alt, value, path)) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			fail("matches none of %s", key)
		}
	}
	for _, sub := range oaList(s["allOf"]) {
		errs = append(errs, d.check(t, sub, value, path)...)
	}
	if typ, ok := s["type"]; ok {
		types := oaList(typ)
		okType := false
		for _, ty := range types {
			if oaIsType(value, ty.(string)) {
				okType = true
			}
		}
		if !okType {
			fail("is %s, want type %v", oaTypeOf(value), typ)
			return errs
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(value) {
				found = true
			}
		}
		if !found {
			fail("%v is not one of %v", value, enum)
		}
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(value) {
		fail("%v is not the constant %v", value, c)
	}
	if obj, ok := value.(map[string]any); ok {
		for _, r := range oaList(s["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				fail("lacks required property %q", r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, v := range obj {
			if ps, ok := props[k]; ok {
				errs = append(errs, d.check(t, ps, v, path+"."+k)...)
			}
		}
	}
	if arr, ok := value.([]any); ok {
		if items, ok := s["items"]; ok {
			for i, v := range arr {
				errs = append(errs, d.check(t, items, v, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func oaList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

func oaIsType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "null":
		return v == nil
	}
	return false
}

func oaTypeOf(v any) string {
	for _, ty := range []string{"null", "object", "array", "string", "boolean", "integer", "number"} {
		if oaIsType(v, ty) {
			return ty
		}
	}
	return fmt.Sprintf("%T", v)
}

// oaCase is one request sent for a documented operation.
type oaCase struct {
	name        string
	token       string
	query       url.Values
	id          string
	contentType string
	body        []byte
	accept      string
	want        string // the status expected, as the document keys it
}

func TestOpenAPIDocumentMatchesTheServer(t *testing.T) {
	n := startTestNode(t)
	status, h, b := apiCall(t, "GET", n.URL+"/api/v1/openapi.json", "", "", "", nil)
	if status != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %q", status, h.Get("Content-Type"))
	}
	var doc oaDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi version %q, want 3.1.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info lacks title or version: %v", info)
	}
	schemes, _ := doc.resolve(t, doc["components"])["securitySchemes"].(map[string]any)
	if bearer := doc.resolve(t, schemes["bearer"]); bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("no bearer security scheme: %v", schemes)
	}
	paths, _ := doc["paths"].(map[string]any)

	// The documented routes are exactly the registered ones.
	documented := map[string]bool{}
	for p, item := range paths {
		for method := range item.(map[string]any) {
			documented[strings.ToUpper(method)+" "+p] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range (&cablehttp.Server{}).Routes() {
		registered[r.Method+" "+r.Pattern] = true
	}
	for k := range registered {
		if !documented[k] {
			t.Errorf("registered route %s is not documented", k)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("documented route %s is not registered", k)
		}
	}

	// Then every documented operation answers as documented.
	drafter := n.Token(t, "drafter.moscow")
	validJSON, _ := json.Marshal(apiDraft("OPENAPI CHECK"))
	invalidJSON, _ := json.Marshal(map[string]any{"subject": "", "paragraphs": []any{}})
	released := apiRelease(t, n, drafter, "application/json", validJSON)

	keys := make([]string, 0, len(documented))
	for k := range documented {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		method, path, _ := strings.Cut(key, " ")
		op := doc.resolve(t, paths[path].(map[string]any)[strings.ToLower(method)])
		responses := op["responses"].(map[string]any)
		secured := true
		if sec, ok := op["security"].([]any); ok && len(sec) == 0 {
			secured = false
		}
		token := ""
		if secured {
			token = drafter
		}
		var body map[string]any
		if rb, ok := op["requestBody"]; ok {
			body, _ = doc.resolve(t, rb)["content"].(map[string]any)
		}

		cases := []oaCase{{name: "valid", token: token, id: released.ID, want: "2xx"}}
		if body != nil {
			cases[0].contentType, cases[0].body = "application/json", validJSON
			if _, ok := body["text/plain"]; ok {
				cases = append(cases, oaCase{name: "valid text", token: token, contentType: "text/plain", body: apiTextDraft("OPENAPI TEXT CHECK"), want: "2xx"})
			}
		}
		if strings.Contains(path, "{id}") {
			cases = append(cases, oaCase{name: "as text", token: token, id: released.ID, accept: "text/plain", want: "200"})
		}
		if _, ok := responses["401"]; ok {
			c := oaCase{name: "no token", id: released.ID, want: "401"}
			if body != nil {
				c.contentType, c.body = "application/json", validJSON
			}
			cases = append(cases, c)
		}
		if _, ok := responses["404"]; ok {
			cases = append(cases, oaCase{name: "missing", token: token, id: released.ID[:len(released.ID)-5] + "99999", want: "404"})
		}
		if _, ok := responses["422"]; ok {
			if body != nil {
				cases = append(cases, oaCase{name: "invalid", token: token, contentType: "application/json", body: invalidJSON, want: "422"})
			} else {
				cases = append(cases, oaCase{name: "bad paging", token: token, query: url.Values{"limit": {"0"}}, want: "422"})
			}
		}
		if _, ok := responses["400"]; ok && body != nil {
			cases = append(cases, oaCase{name: "malformed", token: token, contentType: "application/json", body: []byte(`{"subject":`), want: "400"})
		}
		if _, ok := responses["415"]; ok && body != nil {
			cases = append(cases, oaCase{name: "form body", token: token, contentType: "application/x-www-form-urlencoded", body: []byte("a=b"), want: "415"})
		}
		if _, ok := responses["403"]; ok && path == "/api/v1/inbox" {
			cases = append(cases, oaCase{name: "other office", token: token, query: url.Values{"office": {"EUR"}}, want: "403"})
		}
		if path == "/api/v1/search" {
			cases[0].query = url.Values{"q": {"openapi"}}
		}

		for _, c := range cases {
			target := n.URL + strings.ReplaceAll(path, "{id}", c.id)
			if c.query != nil {
				target += "?" + c.query.Encode()
			}
			status, h, b := apiCall(t, method, target, c.token, c.contentType, c.accept, c.body)
			label := fmt.Sprintf("%s (%s): %d", key, c.name, status)
			code := fmt.Sprint(status)
			if c.want == "2xx" && (status < 200 || status > 299) || c.want != "2xx" && code != c.want {
				t.Errorf("%s, want %s: %s", label, c.want, oaShort(b))
				continue
			}
			resp, ok := responses[code]
			if !ok {
				resp, ok = responses["default"]
			}
			if !ok {
				t.Errorf("%s is not a documented response", label)
				continue
			}
			content, _ := doc.resolve(t, resp)["content"].(map[string]any)
			mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
			media, ok := content[mt]
			if !ok {
				t.Errorf("%s: Content-Type %q is not documented (%v)", label, mt, oaKeys(content))
				continue
			}
			if mt != "application/json" {
				continue
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Errorf("%s: body is not JSON: %v", label, err)
				continue
			}
			for _, e := range doc.check(t, doc.resolve(t, media)["schema"], v, "body") {
				t.Errorf("%s: %s", label, e)
			}
		}
	}
}

func oaKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func oaShort(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
