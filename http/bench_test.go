package http

import (
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

// The benchmarks serve through the whole handler (middleware, auth,
// routing, encoding, templates) over in-memory fakes, each beside a
// baseline doing the bare work with the standard library in the same run.

func benchEnv(b *testing.B) (*testEnv, *cable.Record) {
	env := newTestEnv(b)
	env.srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := receivedRecord()
	env.cables.put(rec)
	return env, rec
}

func serve(b *testing.B, h http.Handler, req *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
}

func BenchmarkAPIGetCable(b *testing.B) {
	env, _ := benchEnv(b)
	req := httptest.NewRequest("GET", "/api/v1/cables/2026MOSCOW00511", nil)
	req.Header.Set("Authorization", "Bearer token-reader.eur")
	b.ReportAllocs()
	for b.Loop() {
		serve(b, env.h, req)
	}
}

// BenchmarkAPIGetCableBaseline is a bare mux writing the same record as JSON.
func BenchmarkAPIGetCableBaseline(b *testing.B) {
	_, rec := benchEnv(b)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cables/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(newRecordJSON(rec))
	})
	req := httptest.NewRequest("GET", "/api/v1/cables/2026MOSCOW00511", nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, mux, req)
	}
}

func BenchmarkCablePage(b *testing.B) {
	env, _ := benchEnv(b)
	sess, _ := env.signIn(b, readerEUR)
	req := httptest.NewRequest("GET", "/cables/2026MOSCOW00511", nil)
	req.AddCookie(sess)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, env.h, req)
	}
}

// BenchmarkCablePageBaseline is a bare mux executing a one-line template
// of the cable's text.
func BenchmarkCablePageBaseline(b *testing.B) {
	_, rec := benchEnv(b)
	tmpl := template.Must(template.New("").Parse(`<!doctype html><title>{{.Cable.ID}}</title><pre>{{printf "%s" .Text}}</pre>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cables/{id}", func(w http.ResponseWriter, r *http.Request) {
		tmpl.Execute(w, rec)
	})
	req := httptest.NewRequest("GET", "/cables/2026MOSCOW00511", nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, mux, req)
	}
}

// longDraft is validDraft with about 4 KB of text in ten paragraphs, the
// size of the network benchmark's cables.
func longDraft() *cable.Cable {
	c := validDraft()
	c.Paragraphs = nil
	for i := 1; i <= 10; i++ {
		c.Paragraphs = append(c.Paragraphs, cable.Paragraph{Number: i, Classification: cable.Secret,
			Text: strings.Repeat("Basic features of the post-war Soviet outlook, \"as put forward\" by the official machine. ", 4)})
	}
	return c
}

// BenchmarkDecodeDraftJSON reads a 4 KB draft as the API does (plain:
// one pass) and, for comparison, through encoding/json, as DecodeDraftJSON
// reads a draft that is not plain.
func BenchmarkDecodeDraftJSON(b *testing.B) {
	data, _ := json.Marshal(longDraft())
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*cable.Cable, []cable.Problem, error)
	}{{"one-pass", DecodeDraftJSON}, {"encoding-json", decodeDraftJSON}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ps, err := bc.decode(data); err != nil || len(ps) > 0 {
					b.Fatal(err, ps)
				}
			}
		})
	}
}

// BenchmarkDecodeDraftJSONBaseline unmarshals straight into a cable.
func BenchmarkDecodeDraftJSONBaseline(b *testing.B) {
	data, _ := json.Marshal(longDraft())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var c cable.Cable
		if err := json.Unmarshal(data, &c); err != nil {
			b.Fatal(err)
		}
	}
}
