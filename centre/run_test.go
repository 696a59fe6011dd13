package centre_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/seal"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/storetest"
	"github.com/cable-archive/cable/textform"
)

// testDirectory and testRules are the stations, offices and routing rules
// of these tests.
const (
	testDirectory = `station STATE headquarters America/New_York SECSTATE WASHDC
office STATE EUR Bureau of European Affairs
station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW
office MOSCOW POL Political Section
station LONDON post Europe/London AMEMBASSY LONDON
`
	testRules = "at STATE\ndefault -> action EUR\nat MOSCOW\ndefault -> action POL\n"
)

// newCentre makes a centre hosting station, with the keys under keys (as
// `cable station init` lays them out), records in a new SQLite file and
// tr for its transport; each of opts may change its configuration.
func newCentre(t *testing.T, station, keys string, tr cable.Transport, opts ...func(*centre.Config)) (*centre.Centre, *sqlite.DB, *cable.Directory) {
	t.Helper()
	dir, err := cable.ParseDirectory([]byte(testDirectory))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cable.ParseRoutingRules([]byte(testRules), dir)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.OpenKeyrings(keys, []string{station})
	if err != nil {
		t.Fatal(err)
	}
	records, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { records.Close() })
	cfg := centre.Config{
		Records: records, Transport: tr, Form: textform.New(dir), Directory: dir, Rules: rules,
		Stations: []string{station}, Sealer: sealer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := centre.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, records, dir
}

// initKeys makes the keys of station under keys.
func initKeys(t *testing.T, keys, station string) *seal.Keyring {
	t.Helper()
	k, err := seal.Init(filepath.Join(keys, station), station)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// postKeys makes the keys of MOSCOW, which trusts STATE's, and returns
// where they are.
func postKeys(t *testing.T) string {
	t.Helper()
	keys := t.TempDir()
	moscow := initKeys(t, keys, "MOSCOW")
	if _, err := moscow.Trust(initKeys(t, t.TempDir(), "STATE").Export()); err != nil {
		t.Fatal(err)
	}
	return keys
}

// start runs c in the background; stop ends it and returns what Run
// returned.
func start(c *centre.Centre) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// idle is a transport that takes custody of whatever is sent and through
// which nothing arrives: its Receive and Forward wait for their context.
type idle struct{}

func (idle) Send(context.Context, []*cable.Transmission) error { return nil }
func (idle) Receive(ctx context.Context, _ string, _ func(context.Context, []*cable.Transmission) error) error {
	<-ctx.Done()
	return nil
}
func (idle) Forward(ctx context.Context, _ string, _ func(context.Context, []*cable.Transmission) error) error {
	<-ctx.Done()
	return nil
}

// brokenReceiver is a transport whose Receive fails at once, as the NATS
// transport's does when it cannot make its consumers.
type brokenReceiver struct {
	idle
	err error
}

func (b brokenReceiver) Receive(context.Context, string, func(context.Context, []*cable.Transmission) error) error {
	return b.err
}

// TestRunReturnsWhenALoopFails: one loop's failure stops the others and
// Run returns it, instead of leaving the node half running.
func TestRunReturnsWhenALoopFails(t *testing.T) {
	keys := t.TempDir()
	initKeys(t, keys, "STATE")
	broken := errors.New("consumer rx-STATE-Z: stream not found")
	c, _, _ := newCentre(t, "STATE", keys, brokenReceiver{err: broken})
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, broken) || !strings.Contains(err.Error(), "receive STATE") {
			t.Errorf("Run = %v, want the receive loop's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its receive loop failed")
	}
}

// outbox is a transport that takes custody of whatever is sent at once
// and remembers it; nothing arrives.
type outbox struct {
	idle
	mu   sync.Mutex
	sent map[string]int
}

func (o *outbox) Send(_ context.Context, ts []*cable.Transmission) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range ts {
		o.sent[t.CableID+" "+t.Destination]++
	}
	return nil
}

// TestUnsealableDoNotHoldUpTheOutbox: more transmissions than a
// transmitter's batch that cannot be sealed (released before their
// destination's key was withdrawn) stay queued with one alert each, and
// a cable queued behind them is sent all the same.
func TestUnsealableDoNotHoldUpTheOutbox(t *testing.T) {
	ctx := context.Background()
	keys := postKeys(t)
	out := &outbox{sent: map[string]int{}}
	c, records, _ := newCentre(t, "MOSCOW", keys, out)

	// LONDON was never trusted here: its cables cannot be sealed.
	const stuck = 600
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	var cs []*cable.Cable
	for i := range stuck {
		c := storetest.Cable("MOSCOW", at, fmt.Sprintf("Stuck %d", i), "Text.")
		c.To = []cable.Addressee{{Station: "LONDON", Role: cable.RoleAction}}
		cs = append(cs, c)
	}
	storetest.Release(t, records, cs...)
	behind := storetest.Release(t, records, storetest.Cable("MOSCOW", at.Add(time.Minute), "Behind them", "Text."))[0].Record.Cable.ID

	stop := start(c)
	deadline := time.Now().Add(20 * time.Second)
	for {
		out.mu.Lock()
		n := out.sent[behind+" STATE"]
		out.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, queued behind %d that cannot be sealed, not sent", behind, stuck)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // another pass of the outbox at least
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	if len(out.sent) != 1 {
		t.Errorf("sent %d transmissions, want only %s", len(out.sent), behind)
	}
	out.mu.Unlock()
	alerts, err := records.Events(ctx, cable.EventFilter{Kind: cable.EventAlert, Limit: 10 * stuck})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != stuck {
		t.Errorf("%d alerts, want one for each of the %d that cannot be sealed", len(alerts), stuck)
	}
	pending, err := records.PendingTransmissions(ctx, 10*stuck)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != stuck {
		t.Errorf("%d transmissions queued, want the %d that cannot be sealed", len(pending), stuck)
	}
}

// sends is a transport that takes custody of whatever is sent at once
// and hands each Send's precedences to ch.
type sends struct {
	idle
	ch chan []cable.Precedence
}

func (s sends) Send(_ context.Context, ts []*cable.Transmission) error {
	var ps []cable.Precedence
	for _, t := range ts {
		ps = append(ps, t.Precedence)
	}
	s.ch <- ps
	return nil
}

// TestTransmitterPace: a release other than FLASH waits for the
// transmitter's pace, here an hour, to go out with whatever is released
// meanwhile; a FLASH release wakes the transmitter at once, and what
// waited goes with it.
func TestTransmitterPace(t *testing.T) {
	ctx := context.Background()
	keys := postKeys(t)
	out := sends{ch: make(chan []cable.Precedence, 16)}
	c, records, _ := newCentre(t, "MOSCOW", keys, out, func(cfg *centre.Config) { cfg.TransmitPace = time.Hour })
	// A cable queued before the centre starts goes out in its first
	// round; the pace counts from there.
	storetest.Release(t, records, storetest.Cable("MOSCOW", time.Now(), "Queued before", "Text."))
	stop := start(c)
	defer stop()
	select {
	case <-out.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the cable queued before the start not sent")
	}
	drafter := &cable.User{Name: "drafter", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}}
	release := func(subject string, p cable.Precedence) {
		t.Helper()
		d := storetest.Cable("MOSCOW", time.Now(), subject, "Text.")
		d.Precedence = p
		if _, err := c.Release(ctx, drafter, d); err != nil {
			t.Fatal(err)
		}
	}

	release("Routine", cable.Routine)
	release("Priority", cable.Priority)
	select {
	case ps := <-out.ch:
		t.Fatalf("sent %v within its pace", ps)
	case <-time.After(500 * time.Millisecond):
	}
	release("Flash", cable.Flash)
	select {
	case ps := <-out.ch:
		if want := []cable.Precedence{cable.Flash, cable.Priority, cable.Routine}; !slices.Equal(ps, want) {
			t.Errorf("sent %v, want %v", ps, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a FLASH release not sent at once")
	}
}

// oneBatch is a transport that hands one batch to the receive handler and
// reports what the handler made of it.
type oneBatch struct {
	idle
	batch  []*cable.Transmission
	result chan error
}

func (o *oneBatch) Receive(ctx context.Context, _ string, h func(context.Context, []*cable.Transmission) error) error {
	o.result <- h(ctx, o.batch)
	<-ctx.Done()
	return nil
}

// TestUntrustedGenerationWaitsAlone: a cable signed under a key generation
// the receiver does not trust yet is kept for later on its own; the rest
// of its batch is done with, a refusal in it recorded once rather than at
// every redelivery of the whole batch.
func TestUntrustedGenerationWaitsAlone(t *testing.T) {
	ctx := context.Background()
	// MOSCOW rotates; STATE's operator has not trusted the new generation.
	keys, ms := stationsTrusting(t, true)
	tr := &oneBatch{result: make(chan error, 1)}
	ce, records, dir := newCentre(t, "STATE", keys, tr)
	c, waiting := sealedCable(t, dir, ms, time.Now().UTC().Truncate(time.Minute), 1)
	garbage := &cable.Transmission{CableID: "1946MOSCOW00999", Origin: "MOSCOW", Destination: "STATE", Precedence: cable.Routine,
		Text: []byte("garbage"), Refused: "unreadable envelope"}
	tr.batch = []*cable.Transmission{garbage, waiting}

	stop := start(ce)
	var handled error
	select {
	case handled = <-tr.result:
	case <-time.After(20 * time.Second):
		t.Fatal("the batch was not handled")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if handled != nil {
		t.Errorf("handler returned %v, want nil: only the cable under the new generation waits", handled)
	}
	if !waiting.Later || garbage.Later {
		t.Errorf("Later: waiting cable %v, refused garbage %v; want true, false", waiting.Later, garbage.Later)
	}
	if _, err := records.Cable(ctx, c.ID); cable.ErrorCode(err) != cable.ENOTFOUND {
		t.Errorf("the waiting cable was stored: %v", err)
	}
	evs, err := records.Events(ctx, cable.EventFilter{Kind: cable.EventSecurity})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].CableID != garbage.CableID {
		t.Errorf("security events %+v, want the garbage's refusal alone", evs)
	}
}
