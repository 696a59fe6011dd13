package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
)

// testNode is a running demo node for end-to-end tests.
type testNode struct {
	*node
	// Passwords are the demo users' passwords.
	Passwords map[string]string
}

// startTestNode starts a demo node (every demo station, demo users and
// traffic) on a free port over a fresh data directory, stopped when the
// test ends.
func startTestNode(t *testing.T) *testNode {
	t.Helper()
	return startTestNodeWith(t, nodeConfig{})
}

func startTestNodeWith(t *testing.T, cfg nodeConfig) *testNode {
	t.Helper()
	if cfg.Data == "" {
		cfg.Data = t.TempDir()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Demo = true
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	n, err := startNode(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return &testNode{node: n, Passwords: n.DemoPasswords}
}

// Token returns a new API bearer token for the named user.
func (n *testNode) Token(t *testing.T, user string) string {
	t.Helper()
	tok, err := centre.CreateAPIToken(context.Background(), n.records, user, time.Now)
	if err != nil {
		t.Fatalf("token for %s: %v", user, err)
	}
	return tok
}

// testLogger logs to the test's output when -v is given, else nowhere.
func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() && os.Getenv("CABLE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestRoutesReload: an edited routes file takes effect without a restart;
// one with mistakes is refused, each mistake logged, and the routes in
// force stay.
func TestRoutesReload(t *testing.T) {
	d := dataDir{path: t.TempDir()}
	if err := d.ensure(); err != nil {
		t.Fatal(err)
	}
	dir, err := d.directory()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.path, routesFile)
	if err := os.WriteFile(path, []byte("* via WAR\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*cable.Routes
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs, mu: &mu}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := newFileWatch(path)
	go func() {
		defer close(done)
		watchRoutes(ctx, w, dir, 10*time.Millisecond, func(r *cable.Routes) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, r)
		}, log)
	}()
	defer func() { cancel(); <-done }()
	write := func(s string, at time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Two mistakes: both named, nothing set.
	write("STATE via NOWHERE\nLONDON by WAR\n", time.Now().Add(time.Minute))
	wait("the refusal", func() bool { return strings.Contains(logs.String(), "routes not reloaded") })
	mu.Lock()
	out, n := logs.String(), len(got)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("routes with mistakes were set")
	}
	if !strings.Contains(out, "line 1") || !strings.Contains(out, "line 2") {
		t.Errorf("not every mistake named:\n%s", out)
	}

	// A good file takes effect.
	write("STATE via LONDON\n", time.Now().Add(2*time.Minute))
	wait("the new routes", func() bool { return len(got) == 1 })
	mu.Lock()
	r := got[0]
	mu.Unlock()
	if hop := r.NextHop("STATE"); hop != "LONDON" {
		t.Errorf("next hop to STATE = %s, want LONDON", hop)
	}
	if hop := r.NextHop("PARIS"); hop != "PARIS" {
		t.Errorf("next hop to PARIS = %s, want PARIS direct", hop)
	}
}

// syncWriter serialises writes to w.
type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
