package centre_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/seal"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/textform"
)

// brokenReceiver is a transport whose Receive fails at once, as the NATS
// transport's does when it cannot make its consumers; everything else
// waits for its context.
type brokenReceiver struct{ err error }

func (b brokenReceiver) Send(context.Context, []*cable.Transmission) error { return nil }
func (b brokenReceiver) Receive(context.Context, string, func(context.Context, []*cable.Transmission) error) error {
	return b.err
}
func (b brokenReceiver) Forward(ctx context.Context, _ string, _ func(context.Context, []*cable.Transmission) error) error {
	<-ctx.Done()
	return nil
}

// TestRunReturnsWhenALoopFails: one loop's failure stops the others and
// Run returns it, instead of leaving the node half running.
func TestRunReturnsWhenALoopFails(t *testing.T) {
	ctx := context.Background()
	dir, err := cable.ParseDirectory([]byte("station STATE headquarters America/New_York SECSTATE WASHDC\noffice STATE EUR Bureau of European Affairs\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cable.ParseRoutingRules([]byte("at STATE\ndefault -> action EUR\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	keys := filepath.Join(data, "keys")
	if _, err := seal.Init(filepath.Join(keys, "STATE"), "STATE"); err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.OpenKeyrings(keys, []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	records, err := sqlite.Open(ctx, filepath.Join(data, "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { records.Close() })
	broken := errors.New("consumer rx-STATE-Z: stream not found")
	c, err := centre.New(centre.Config{
		Records: records, Transport: brokenReceiver{broken}, Form: textform.New(dir), Directory: dir, Rules: rules,
		Stations: []string{"STATE"}, Sealer: sealer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, broken) || !strings.Contains(err.Error(), "receive STATE") {
			t.Errorf("Run = %v, want the receive loop's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its receive loop failed")
	}
}
