package centre_test

import (
	"context"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/seal"
	"github.com/cable-archive/cable/storetest"
	"github.com/cable-archive/cable/textform"
)

// batches hands each batch sent on in to the receive handler in turn and
// reports the handler's result on out.
type batches struct {
	idle
	in  chan []*cable.Transmission
	out chan error
}

func (b *batches) Receive(ctx context.Context, _ string, h func(context.Context, []*cable.Transmission) error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ts := <-b.in:
			b.out <- h(ctx, ts)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// stationsTrusting returns STATE's keys directory, trusting MOSCOW's
// generation 1, and MOSCOW's sealer, trusting STATE; rotated, MOSCOW has
// moved on to generation 2, which STATE does not trust yet.
func stationsTrusting(t *testing.T, rotated bool) (string, *seal.Keyrings) {
	keys, moscowKeys := t.TempDir(), t.TempDir()
	state, moscow := initKeys(t, keys, "STATE"), initKeys(t, moscowKeys, "MOSCOW")
	if _, err := state.Trust(moscow.Export()); err != nil {
		t.Fatal(err)
	}
	if _, err := moscow.Trust(state.Export()); err != nil {
		t.Fatal(err)
	}
	if rotated {
		if _, err := moscow.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := seal.OpenKeyrings(moscowKeys, []string{"MOSCOW"})
	if err != nil {
		t.Fatal(err)
	}
	return keys, ms
}

// rotatedWithClock runs STATE, its clock clk, its batches handed over
// through tr, MOSCOW rotated to a generation STATE does not trust yet
// (stationsTrusting); ms seals as MOSCOW.
func rotatedWithClock(t *testing.T) (*clock, *batches, *cable.Directory, *seal.Keyrings) {
	keys, ms := stationsTrusting(t, true)
	clk := &clock{t: time.Now().UTC().Truncate(time.Minute)}
	tr := &batches{in: make(chan []*cable.Transmission, 4), out: make(chan error, 4)}
	ce, _, dir := newCentre(t, "STATE", keys, tr, func(cfg *centre.Config) { cfg.Now = clk.now })
	stop := start(ce)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return clk, tr, dir, ms
}

// sealedCable is cable serial of MOSCOW, dated at, sealed to STATE, as it
// arrives there.
func sealedCable(t *testing.T, dir *cable.Directory, ms *seal.Keyrings, at time.Time, serial int) (*cable.Cable, *cable.Transmission) {
	c := storetest.Cable("MOSCOW", at, "After rotation", "Text.")
	c.Serial, c.ID = serial, cable.Identifier(c.DTG.Year(), "MOSCOW", serial)
	text, err := textform.New(dir).Render(c)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ms.Seal("MOSCOW", c.ID, text, []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	return c, &cable.Transmission{Kind: cable.KindCable, CableID: c.ID, Origin: "MOSCOW", Destination: "STATE", Precedence: cable.Routine,
		Text: sealed, SHA256: cable.SHA256Hex(sealed), Route: []string{"MOSCOW", "WAR"}, QueuedAt: at}
}

// TestRelabelledTransmissionNotHeld: a relay relabels the transport
// Cable-Id of a genuine cable under a generation not trusted yet. The
// centre held it under the new name; it now refuses it at once.
func TestRelabelledTransmissionNotHeld(t *testing.T) {
	keys, ms := stationsTrusting(t, true)
	tr := &batches{in: make(chan []*cable.Transmission, 4), out: make(chan error, 4)}
	ce, _, dir := newCentre(t, "STATE", keys, tr)
	stop := start(ce)
	defer stop()
	_, w := sealedCable(t, dir, ms, time.Now().UTC().Truncate(time.Minute), 1)
	w.CableID = cable.Identifier(time.Now().Year(), "MOSCOW", 2) // relabelled
	tr.in <- []*cable.Transmission{w}
	if err := <-tr.out; err != nil {
		t.Fatal(err)
	}
	if w.Later {
		t.Errorf("transmission relabelled %s (signed %s) held for the operator's trust instead of refused", w.CableID, cable.Identifier(time.Now().Year(), "MOSCOW", 1))
	}
}

// TestRelabelledCopyCannotShortenTheWait: the relay relabels MOSCOW's
// genuine cable 00001 (generation 2, not trusted yet) as 00002 at T0. The
// genuine 00002 arrives at T0+50m and waits an hour from then. It was
// refused at T0+61m, the wait keyed by the unsigned Cable-Id header alone;
// it is now keyed by the sealed bytes too.
func TestRelabelledCopyCannotShortenTheWait(t *testing.T) {
	clk, tr, dir, ms := rotatedWithClock(t)
	_, x := sealedCable(t, dir, ms, clk.now(), 1)
	_, y := sealedCable(t, dir, ms, clk.now().Add(50*time.Minute), 2)
	x.CableID = y.CableID // relabelled by the relay
	tr.in <- []*cable.Transmission{x}
	<-tr.out
	clk.add(50 * time.Minute)
	tr.in <- []*cable.Transmission{y}
	if err := <-tr.out; err != nil || !y.Later {
		t.Fatalf("genuine %s: err %v, later %v", y.CableID, err, y.Later)
	}
	clk.add(11 * time.Minute)
	y.Later = false
	tr.in <- []*cable.Transmission{y}
	<-tr.out
	if !y.Later {
		t.Errorf("genuine %s refused 11 minutes after it arrived (the wait began with the relabelled copy)", y.CableID)
	}
}

// TestRotationWaitsDaysForTrust: MOSCOW rotates; STATE's operator has not
// trusted generation 2 a day later. The cable sent meanwhile still waits
// (it was refused, acknowledged and so lost after an hour), until
// cable.RotationGrace is up.
func TestRotationWaitsDaysForTrust(t *testing.T) {
	clk, tr, dir, ms := rotatedWithClock(t)
	c, w := sealedCable(t, dir, ms, clk.now(), 1)
	deliver := func() bool {
		w.Later = false
		tr.in <- []*cable.Transmission{w}
		if err := <-tr.out; err != nil {
			t.Fatal(err)
		}
		return w.Later
	}
	if !deliver() {
		t.Fatalf("cable %s under MOSCOW's generation 2, not trusted yet, refused at once", c.ID)
	}
	clk.add(24 * time.Hour)
	if !deliver() {
		t.Errorf("cable %s refused a day after MOSCOW rotated, before its operator trusted generation 2", c.ID)
	}
	clk.add(cable.RotationGrace)
	if deliver() {
		t.Errorf("cable %s still waiting after the rotation's grace", c.ID)
	}
}
