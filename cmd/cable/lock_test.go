package main

import (
	"context"
	"strings"
	"testing"
)

// TestSecondNodeOnSameDataDirRefused: a second node on a data directory in
// use refuses to start. It used to start: two embedded servers on one
// JetStream store both took custody of, and acknowledged, the same
// messages. Once the first closes, a node starts there again.
func TestSecondNodeOnSameDataDirRefused(t *testing.T) {
	a := startTestNode(t)
	cfg := nodeConfig{Data: a.cfg.Data, Addr: "127.0.0.1:0", Demo: true, Logger: testLogger(t)}
	b, err := startNode(context.Background(), cfg)
	if err == nil {
		b.Close()
		t.Fatal("a second node started on a data directory in use")
	}
	if !strings.Contains(err.Error(), "in use by another cable node") {
		t.Errorf("refused with %q, want it to say the directory is in use", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := startNode(context.Background(), cfg)
	if err != nil {
		t.Fatalf("after the first node closed: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}
