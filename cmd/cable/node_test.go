package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

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
