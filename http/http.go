// Package http serves the cable system over HTTP: the JSON API under
// /api/v1 for programs, the web UI for the people who draft and read
// cables, /healthz and /metrics. It programs only against the domain's
// services; cmd/cable wires the implementations in.
package http

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed openapi.json
var openAPIDoc []byte

// Server is the HTTP face of a node. Set the fields, then call Handler
// once and serve it; the fields must not change afterwards.
type Server struct {
	Cables    cable.CableService
	Users     cable.UserService
	Form      cable.TextForm
	Directory *cable.Directory
	// Stations are the stations hosted by this node.
	Stations []string
	Logger   *slog.Logger
	// Metrics is served at /metrics; when nil, only the server's own
	// collectors are.
	Metrics prometheus.Gatherer
	// Health reports the node's health at /healthz: nil is 200 "ok",
	// an error is 503 with its message.
	Health func(context.Context) error
	// SecureCookies marks cookies Secure; set it when serving over TLS.
	SecureCookies bool
	// Importers rebuild historical records from what an archivist
	// uploads, and Archive files them. The import pages answer only when
	// both are set.
	Importers cable.Importers
	Archive   cable.ArchiveService
	// ImportKey signs the records the import pages carry between
	// requests. Nodes serving one site behind a load balancer share it;
	// when empty, a random key is made when the handler is built, and a
	// preview is good only on the process that made it.
	ImportKey []byte

	once      sync.Once
	handler   http.Handler
	routes    []Route
	duration  *prometheus.HistogramVec
	panics    prometheus.Counter
	pages     map[string]*template.Template
	crossSite *http.CrossOriginProtection
	importKey []byte
}

// Route is one registered API route, as the pattern mux knows it.
type Route struct {
	Method  string
	Pattern string
}

// Handler returns the server's handler, built on the first call; it is
// safe for concurrent use.
func (s *Server) Handler() http.Handler {
	s.init()
	return s.handler
}

// Routes returns every registered API route (the routes the OpenAPI
// document describes), in registration order.
func (s *Server) Routes() []Route {
	s.init()
	return append([]Route(nil), s.routes...)
}

// Collectors returns the server's Prometheus collectors, for the caller
// to register on the registry it serves as Metrics.
func (s *Server) Collectors() []prometheus.Collector {
	s.init()
	return []prometheus.Collector{s.duration, s.panics}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) init() {
	s.once.Do(func() {
		s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "cable",
			Subsystem: "http",
			Name:      "request_duration_seconds",
			Help:      "Time to serve HTTP requests, by method, route pattern and status code.",
			Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "code"})
		s.panics = prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cable",
			Subsystem: "http",
			Name:      "panics_total",
			Help:      "Handler panics recovered by the HTTP server.",
		})
		s.pages = parsePages()
		s.crossSite = http.NewCrossOriginProtection()
		s.importKey = append([]byte(nil), s.ImportKey...)
		if len(s.importKey) == 0 {
			s.importKey = make([]byte, 32)
			rand.Read(s.importKey) // never fails (crypto/rand panics instead)
		}

		mux := http.NewServeMux()

		// Machine routes, documented in openapi.json.
		s.api(mux, "GET /healthz", s.handleHealth)
		s.api(mux, "GET /metrics", s.metricsHandler().ServeHTTP)
		s.api(mux, "GET /api/v1/openapi.json", handleOpenAPI)
		s.api(mux, "POST /api/v1/cables", s.bearer(s.handleCreateCable))
		s.api(mux, "POST /api/v1/cables/check", s.bearer(s.handleCheckCable))
		s.api(mux, "GET /api/v1/cables/{id}", s.bearer(s.handleGetCable))
		s.api(mux, "GET /api/v1/inbox", s.bearer(s.handleInbox))
		s.api(mux, "GET /api/v1/sent", s.bearer(s.handleSent))
		s.api(mux, "GET /api/v1/search", s.bearer(s.handleSearch))
		s.api(mux, "GET /api/v1/me", s.bearer(s.handleMe))
		s.api(mux, "GET /api/v1/stations", s.bearer(s.handleStations))

		// Web UI.
		s.page(mux, "GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		})
		s.page(mux, "GET /signin", s.handleSignInForm)
		s.page(mux, "POST /signin", s.handleSignIn)
		s.page(mux, "POST /signout", s.session(s.handleSignOut))
		s.page(mux, "GET /inbox", s.session(s.handleInboxPage))
		s.page(mux, "GET /sent", s.session(s.handleSentPage))
		s.page(mux, "GET /search", s.session(s.handleSearchPage))
		s.page(mux, "GET /cables/{id}", s.session(s.handleCablePage))
		s.page(mux, "GET /draft", s.session(s.handleDraftForm))
		s.page(mux, "POST /draft", s.session(s.handleDraft))
		s.page(mux, "GET /records/import", s.session(s.handleImportForm))
		s.page(mux, "POST /records/import", s.sessionLimit(maxImportBytes, s.handleImport))
		static, err := fs.Sub(staticFS, "static")
		if err != nil {
			panic(err) // the embedded tree is fixed at build time
		}
		s.page(mux, "GET /static/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			http.StripPrefix("/static/", http.FileServerFS(static)).ServeHTTP(w, r)
		})

		s.handler = s.middleware(mux)
	})
}

// api registers a documented machine route.
func (s *Server) api(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Pattern: path})
	s.page(mux, pattern, h)
}

// page registers a route, noting its pattern for logs and metrics.
func (s *Server) page(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = pattern
		}
		h(w, r)
	})
}

func (s *Server) metricsHandler() http.Handler {
	g := s.Metrics
	if g == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(s.duration, s.panics)
		g = reg
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.logger().Handler(), slog.LevelError)})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.Health != nil {
		if err := s.Health(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err.Error())
			return
		}
	}
	fmt.Fprintln(w, "ok")
}

func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDoc)
}

type ctxKey int

const infoKey ctxKey = 1

// requestInfo is filled in while a request is served, for the log line
// and the metrics written when it ends.
type requestInfo struct {
	route string
	user  string
}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey).(*requestInfo)
	return info
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware logs every request, measures it, recovers from panics and
// sets the headers every response carries.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey, info))
		sw := &statusWriter{ResponseWriter: w}
		h := sw.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.panics.Inc()
				s.logger().ErrorContext(r.Context(), "http handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					if isAPI(r) {
						s.writeJSON(sw, r, http.StatusInternalServerError, errorBody{Error: "Internal error."})
					} else {
						http.Error(sw, "Internal error.", http.StatusInternalServerError)
					}
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			route := info.route
			if route == "" {
				route = "unmatched"
			}
			s.duration.WithLabelValues(r.Method, route, strconv.Itoa(status)).Observe(d.Seconds())
			s.logger().LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", d),
				slog.String("user", info.user),
			)
		}()
		next.ServeHTTP(sw, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// ErrorStatus maps an error code of the domain to its HTTP status. It is
// the one place the mapping is made.
func ErrorStatus(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case cable.EINVALID:
		return http.StatusUnprocessableEntity
	case cable.ENOTFOUND:
		return http.StatusNotFound
	case cable.EFORBIDDEN:
		return http.StatusForbidden
	case cable.ECONFLICT:
		return http.StatusConflict
	case cable.EUNAUTHORIZED:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// setUser notes the acting user for the request log.
func setUser(r *http.Request, u *cable.User) {
	if info := infoFrom(r.Context()); info != nil && u != nil {
		info.user = u.Name
	}
}
