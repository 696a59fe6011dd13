package centre

import (
	"log/slog"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// TestWaitForgottenOnceOpened: a cable that waited for its station's new
// key and was then opened is forgotten, so that a later one under the same
// name and a newer key, hours on, waits afresh rather than being refused
// at once, and the record does not stay for the life of the process.
func TestWaitForgottenOnceOpened(t *testing.T) {
	c := &Centre{log: slog.New(slog.DiscardHandler)}
	tr := &cable.Transmission{Kind: cable.KindReceipt, CableID: "2026STATE00001", Origin: "STATE"}
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	if !c.awaitTrust(tr, now) {
		t.Fatal("the first cable under an untrusted key does not wait")
	}
	if n := c.waiting.Load(); n != 1 {
		t.Fatalf("%d waiting, want 1", n)
	}
	c.forgetWait(tr) // opened once the operator trusted the key
	if n := c.waiting.Load(); n != 0 {
		t.Errorf("%d waiting after it was opened, want 0", n)
	}
	if _, ok := c.untrusted.Load(waitKey(tr)); ok {
		t.Error("still recorded as waiting after it was opened")
	}
	if !c.awaitTrust(tr, now.Add(2*time.Hour)) {
		t.Error("waiting again two hours later under a newer key: refused at once, want it to wait afresh")
	}
	// The hour runs out: refused, and forgotten.
	if c.awaitTrust(tr, now.Add(2*time.Hour+trustGrace)) {
		t.Error("still waiting after the hour")
	}
	if n := c.waiting.Load(); n != 0 {
		t.Errorf("%d waiting after it was refused, want 0", n)
	}
}
