package centre_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/storetest"
)

// partialCustody takes only the first part of the first Send into custody
// (the stream filled up, or the node stopped mid-Send) and fails that Send;
// every later Send succeeds. What it holds, its forwarder hands on to WAR.
type partialCustody struct {
	idle
	mu      sync.Mutex
	calls   int
	parts   int            // sections of the first Send's cable
	custody map[string]int // "cable section" -> times taken
	fwd     chan []*cable.Transmission
}

func (p *partialCustody) Send(_ context.Context, ts []*cable.Transmission) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.calls == 1 {
		p.parts = ts[0].Sections
	}
	take, err := ts, error(nil)
	if p.calls == 1 && len(ts) > 1 {
		take, err = ts[:1], errors.New("nats: send: not every transmission taken into custody: stream full")
	}
	var moved []*cable.Transmission
	for _, t := range take {
		p.custody[fmt.Sprintf("%s %d", t.CableID, t.Section)]++
		m := *t
		m.Hop = "WAR"
		moved = append(moved, &m)
	}
	p.fwd <- moved
	return err
}

func (p *partialCustody) Forward(ctx context.Context, _ string, h func(context.Context, []*cable.Transmission) error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ts := <-p.fwd:
			h(ctx, ts)
		}
	}
}

// TestPartialCustodyOfSectionsIsResent: a cable cut into sections of which
// only the first reached custody must have its other sections sent again.
// TestPartialCustodyOfSectionsIsResent: the transport takes the first
// section of a cable and fails on the rest (the post's stream full), while
// the forwarder reports that first section at WAR. The report used to mark
// the whole transmission sent, so the other sections were never sent: the
// cable reached STATE truncated. The hop is now recorded apart, and the
// transmission stays queued until the transport has taken it whole.
func TestPartialCustodyOfSectionsIsResent(t *testing.T) {
	ctx := context.Background()
	keys := postKeys(t)
	tr := &partialCustody{custody: map[string]int{}, fwd: make(chan []*cable.Transmission, 64)}
	c, records, _ := newCentre(t, "MOSCOW", keys, tr, func(cfg *centre.Config) { cfg.SectionLimit = 4096 })
	drafter := &cable.User{Name: "drafter", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}}
	stop := start(c)
	long := storetest.Cable("MOSCOW", time.Now(), "Long", storetest.Text(12000, 1))
	rec0, err := c.Release(ctx, drafter, long)
	if err != nil {
		t.Fatal(err)
	}
	id := rec0.Cable.ID
	time.Sleep(5 * time.Second) // two more passes of the transmitter at least
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.parts < 2 {
		t.Fatalf("not cut into sections as the test needs: %v", tr.custody)
	}
	var missing []int
	for s := 1; s <= tr.parts; s++ {
		if tr.custody[fmt.Sprintf("%s %d", id, s)] == 0 {
			missing = append(missing, s)
		}
	}
	rec, err := records.Cable(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		st := rec.Transmissions[0]
		t.Errorf("sections %v of %d never taken into custody (Send calls %d); the transmission shows %q",
			missing, tr.parts, tr.calls, st.Describe(rec.Cable.Precedence, time.Now()))
	}
}

// fullForReceipts is a transport whose stream refuses the receipts the
// centre sends back (its disk budget is spent) for the first `full`
// Sends; its Receive hands the same batch over again until the handler
// takes it, as JetStream redelivers an unacknowledged batch.
type fullForReceipts struct {
	idle
	mu    sync.Mutex
	full  int
	batch func() []*cable.Transmission
	done  chan int
}

func (f *fullForReceipts) Send(context.Context, []*cable.Transmission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full > 0 {
		f.full--
		return errors.New("nats: send: stream full")
	}
	return nil
}

func (f *fullForReceipts) Receive(ctx context.Context, _ string, h func(context.Context, []*cable.Transmission) error) error {
	for n := 1; ; n++ {
		if err := h(ctx, f.batch()); err == nil {
			f.done <- n
			<-ctx.Done()
			return nil
		}
	}
}

// TestRefusalRecordedOnceWhenReceiptsWait: the receipts of a batch cannot
// go (this node's stream full) three times, so the batch is delivered four
// times. Its refused transmission is recorded once, not at every delivery.
func TestRefusalRecordedOnceWhenReceiptsWait(t *testing.T) {
	ctx := context.Background()
	keys, ms := stationsTrusting(t, false)
	tr := &fullForReceipts{full: 3, done: make(chan int, 1)}
	ce, records, dir := newCentre(t, "STATE", keys, tr)
	_, good := sealedCable(t, dir, ms, time.Now().UTC().Truncate(time.Minute), 1)
	tr.batch = func() []*cable.Transmission {
		g := *good
		return []*cable.Transmission{
			{CableID: "2026MOSCOW00999", Origin: "MOSCOW", Destination: "STATE", Precedence: cable.Routine,
				Text: []byte("garbage"), Refused: "unreadable envelope"},
			&g,
		}
	}
	stop := start(ce)
	var deliveries int
	select {
	case deliveries = <-tr.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the batch was never taken")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	evs, err := records.Events(ctx, cable.EventFilter{Kind: cable.EventSecurity, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Errorf("one refused transmission, delivered %d times in one batch: %d security events, want 1", deliveries, len(evs))
	}
}

// TestReleaseAfterRunStopped: a release arriving once the centre's loops
// have stopped (one failed, Run returned) must fail, not wait for ever.
// TestReleaseAfterRunStopped: a release made after the centre's loops have
// stopped (one failed, and the server is still answering) is refused at
// once, not left waiting until its caller gives up.
func TestReleaseAfterRunStopped(t *testing.T) {
	keys := postKeys(t)
	c, _, _ := newCentre(t, "MOSCOW", keys, brokenReceiver{err: errors.New("consumer gone")})
	if err := c.Run(context.Background()); err == nil {
		t.Fatal("Run returned nil")
	}
	drafter := &cable.User{Name: "drafter", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	t0 := time.Now()
	_, err := c.Release(ctx, drafter, storetest.Cable("MOSCOW", time.Now(), "After the stop", "Text."))
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Release blocked %v until its caller gave up; nothing will ever commit it", time.Since(t0).Round(time.Second))
	}
}

// TestReceiptsMarkedAsSectionsRefused: a relay marks two receipt
// transmissions as the sections of one. Only the first was looked at; the
// second was acknowledged with no record of it. Each is now refused as a
// security event.
func TestReceiptsMarkedAsSectionsRefused(t *testing.T) {
	ctx := context.Background()
	keys, _ := stationsTrusting(t, false)
	tr := &oneBatch{result: make(chan error, 1)}
	ce, records, _ := newCentre(t, "STATE", keys, tr)
	for i := 1; i <= 2; i++ {
		tr.batch = append(tr.batch, &cable.Transmission{Kind: cable.KindReceipt, CableID: "2026MOSCOW00001", Origin: "MOSCOW", Destination: "STATE",
			Precedence: cable.Routine, Section: i, Sections: 2, Text: []byte("receipts"), SHA256: cable.SHA256Hex([]byte("receipts"))})
	}
	stop := start(ce)
	select {
	case err := <-tr.result:
		if err != nil {
			t.Errorf("handler: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the batch was not handled")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	evs, err := records.Events(ctx, cable.EventFilter{Kind: cable.EventSecurity, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Errorf("two receipt transmissions marked as sections: %d security events, want 2", len(evs))
	}
}
