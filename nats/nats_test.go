package nats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testLogger writes warnings and errors to the test's output.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openTest opens a transport on an embedded server in dir (a fresh
// temporary directory when dir is "") and closes it when the test ends.
func openTest(tb testing.TB, o Options) *Transport {
	tb.Helper()
	if o.StoreDir == "" && o.URL == "" {
		o.StoreDir = tb.TempDir()
	}
	if o.Stations == nil {
		o.Stations = testStations
	}
	if o.Logger == nil {
		o.Logger = testLogger(tb)
	}
	tr, err := Open(context.Background(), o)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := tr.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return tr
}

// seedText returns the text of the model cable, read from the shared
// directory beside the repository; the test is skipped without it.
func seedText(tb testing.TB) []byte {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("repository root not found")
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "shared", "seeds", "000_e3225f346bbef510.txt"))
	if err != nil {
		tb.Skipf("seed cable not available: %v", err)
	}
	return b
}

// testStations are the stations a single test node hosts.
var testStations = []string{"MOSCOW", "STATE", "WAR", "LONDON", "PARIS"}

// key names a transmission in a collector.
func key(tr *cable.Transmission) string { return tr.CableID + "/" + tr.Destination }

func transmission(id, origin, dest string, p cable.Precedence, text []byte) *cable.Transmission {
	return &cable.Transmission{
		CableID:     id,
		Origin:      origin,
		Destination: dest,
		Precedence:  p,
		Text:        text,
		SHA256:      cable.SHA256Hex(text),
		QueuedAt:    time.Date(1946, 2, 22, 21, 0, 0, 123456789, time.UTC),
	}
}

// many returns n small transmissions of precedence p from MOSCOW to dest
// with identifiers starting at serial from.
func many(n, from int, dest string, p cable.Precedence) []*cable.Transmission {
	ts := make([]*cable.Transmission, n)
	for i := range ts {
		id := cable.Identifier(2026, "MOSCOW", from+i)
		ts[i] = transmission(id, "MOSCOW", dest, p, []byte(fmt.Sprintf("UNCLASSIFIED %s\n1. (U) TEXT %d.\n", id, i)))
	}
	return ts
}

// streamMsgs returns how many messages the transport's stream holds.
func streamMsgs(tb testing.TB, tr *Transport) uint64 {
	tb.Helper()
	s, err := tr.js.Stream(context.Background(), tr.opts.Stream)
	if err != nil {
		tb.Fatalf("stream: %v", err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		tb.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

// streamTransmissions returns how many transmissions the transport's
// stream holds, counting those in each batch.
func streamTransmissions(tb testing.TB, tr *Transport) uint64 {
	tb.Helper()
	ctx := context.Background()
	s, err := tr.js.Stream(ctx, tr.opts.Stream)
	if err != nil {
		tb.Fatalf("stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatalf("stream info: %v", err)
	}
	var n uint64
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // acknowledged meanwhile
		}
		if err != nil {
			tb.Fatalf("message %d: %v", seq, err)
		}
		if m.Header.Get(HeaderBatch) == "" {
			n++
			continue
		}
		es, err := decodeBatch(m.Header, m.Data)
		if err != nil {
			tb.Fatalf("message %d: %v", seq, err)
		}
		n += uint64(len(es))
	}
	return n
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline; it is a guard against hanging, not a timing assertion.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// batch is one call of a Receive handler.
type batch struct {
	prec  cable.Precedence   // the first transmission's
	precs []cable.Precedence // each transmission's
	ids   []string
}

// collector is a Receive handler that records what it is handed.
type collector struct {
	mu         sync.Mutex
	batches    []batch
	batchesTrs [][]*cable.Transmission
	got        map[string]*cable.Transmission
	count      int
	// fail, when set, decides whether a batch is refused.
	fail func(call int, ts []*cable.Transmission) error
	// after, when set, runs after a batch is recorded.
	after func(call int, ts []*cable.Transmission)
}

func (c *collector) handle(ctx context.Context, ts []*cable.Transmission) error {
	c.mu.Lock()
	call := len(c.batches)
	b := batch{prec: ts[0].Precedence}
	for _, t := range ts {
		b.ids = append(b.ids, t.CableID+"/"+t.Destination)
		b.precs = append(b.precs, t.Precedence)
	}
	c.batches = append(c.batches, b)
	c.batchesTrs = append(c.batchesTrs, ts)
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		if err := fail(call, ts); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.got == nil {
		c.got = map[string]*cable.Transmission{}
	}
	for _, t := range ts {
		c.got[t.CableID+"/"+t.Destination] = t
		c.count++
	}
	c.mu.Unlock()
	if c.after != nil {
		c.after(call, ts)
	}
	return nil
}

func (c *collector) received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

func (c *collector) snapshot() []batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]batch(nil), c.batches...)
}

// receive runs Receive in the background until the test ends or stop is
// called; stop returns Receive's error.
func receive(tb testing.TB, tr *Transport, station string, h func(context.Context, []*cable.Transmission) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- tr.Receive(ctx, station, h) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(30 * time.Second):
				err = errors.New("Receive did not return after its context ended")
			}
		})
		return err
	}
	tb.Cleanup(func() { _ = stop() })
	return stop
}

func sameTransmission(tb testing.TB, got, want *cable.Transmission) {
	tb.Helper()
	if got == nil {
		tb.Fatalf("%s to %s not received", want.CableID, want.Destination)
	}
	if got.CableID != want.CableID || got.Origin != want.Origin || got.Destination != want.Destination ||
		got.Precedence != want.Precedence || got.SHA256 != want.SHA256 || !got.QueuedAt.Equal(want.QueuedAt) {
		tb.Errorf("envelope: got %+v, want %+v", envelope(got), envelope(want))
	}
	if !bytes.Equal(got.Text, want.Text) {
		tb.Errorf("%s: text differs: got %d bytes, want %d", want.CableID, len(got.Text), len(want.Text))
	}
}

func envelope(t *cable.Transmission) cable.Transmission {
	e := *t
	e.Text = nil
	return e
}

func TestSendReceive(t *testing.T) {
	seed := seedText(t)
	tr := openTest(t, Options{})
	ctx := context.Background()

	ts := []*cable.Transmission{
		transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Immediate, seed),
		transmission("1946MOSCOW00511", "MOSCOW", "WAR", cable.Immediate, seed),
		transmission("1946MOSCOW00512", "MOSCOW", "STATE", cable.Routine, []byte("SHORT TEXT\n")),
		transmission("1946MOSCOW00513", "MOSCOW", "STATE", cable.Flash, []byte("FLASH TEXT\n")),
	}
	ts[2].SHA256 = "" // the transport computes a missing hash
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := streamMsgs(t, tr); n != 4 {
		t.Fatalf("stream holds %d messages after Send, want 4", n)
	}
	pending, err := tr.Pending(ctx, "STATE")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[cable.Precedence]uint64{cable.Flash: 1, cable.Immediate: 1, cable.Priority: 0, cable.Routine: 1}; fmt.Sprint(pending) != fmt.Sprint(want) {
		t.Errorf("Pending(STATE) before Receive = %v, want %v", pending, want)
	}

	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "three cables at STATE", func() bool { return c.received() == 3 })
	// Acknowledged messages leave the work queue; WAR's stays.
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Receive: %v", err)
	}

	ts[2].SHA256 = cable.SHA256Hex(ts[2].Text)
	for _, want := range []*cable.Transmission{ts[0], ts[2], ts[3]} {
		sameTransmission(t, c.got[key(want)], want)
	}
	if _, ok := c.got[key(ts[1])]; ok {
		t.Error("STATE received WAR's copy")
	}
	// Most urgent first: FLASH, IMMEDIATE, ROUTINE; FLASH in a batch of
	// its own (the ROUTINE cable may share IMMEDIATE's, if it was there).
	var order []cable.Precedence
	for _, b := range c.snapshot() {
		order = append(order, b.precs...)
		if b.prec == cable.Flash && len(b.precs) > 1 {
			t.Errorf("a FLASH batch holds %v", b.precs)
		}
	}
	if fmt.Sprint(order) != fmt.Sprint([]cable.Precedence{cable.Flash, cable.Immediate, cable.Routine}) {
		t.Errorf("transmissions by precedence = %v, want [FLASH IMMEDIATE ROUTINE]", order)
	}
	pending, err = tr.Pending(ctx, "STATE")
	if err != nil {
		t.Fatal(err)
	}
	for p, n := range pending {
		if n != 0 {
			t.Errorf("Pending(STATE)[%s] = %d after receipt", p, n)
		}
	}
	pending, err = tr.Pending(ctx, "WAR")
	if err != nil {
		t.Fatal(err)
	}
	if pending[cable.Immediate] != 1 {
		t.Errorf("Pending(WAR) = %v, want one IMMEDIATE", pending)
	}

	// WAR receives its own copy.
	var w collector
	stopW := receive(t, tr, "WAR", w.handle)
	waitFor(t, "WAR's cable", func() bool { return w.received() == 1 })
	waitFor(t, "WAR's ack", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stopW(); err != nil {
		t.Fatal(err)
	}
	sameTransmission(t, w.got[key(ts[1])], ts[1])
}

// TestReceiveFillsBatches checks that a batch of IMMEDIATE is filled with
// the less urgent messages waiting, most urgent first, and that a FLASH
// batch carries nothing else.
func TestReceiveFillsBatches(t *testing.T) {
	F, O, R := cable.Flash, cable.Immediate, cable.Routine
	for _, tc := range []struct {
		size int
		want [][]cable.Precedence
	}{
		{0, [][]cable.Precedence{{F, F}, {O, O, O, R, R, R, R}}},
		{4, [][]cable.Precedence{{F, F}, {O, O, O, R}, {R, R, R}}},
	} {
		t.Run(fmt.Sprint("receive batch ", tc.size), func(t *testing.T) {
			tr := openTest(t, Options{ReceiveBatch: tc.size})
			var ts []*cable.Transmission
			ts = append(ts, many(4, 20, "STATE", R)...)
			ts = append(ts, many(3, 10, "STATE", O)...)
			ts = append(ts, many(2, 1, "STATE", F)...)
			var got [][]cable.Precedence
			for _, b := range sendAllThenReceive(t, tr, ts) {
				got = append(got, b.precs)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("batches %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReceiveFilledBatchKeepsSectionsInOrder: a sectioned IMMEDIATE cable
// completed in a batch topped up with ROUTINE is handed over before the
// ROUTINE, not after it.
func TestReceiveFilledBatchKeepsSectionsInOrder(t *testing.T) {
	tr := openTest(t, Options{})
	ts := many(2, 1, "STATE", cable.Flash)
	ts = append(ts, many(3, 10, "STATE", cable.Routine)...)
	for i := 1; i <= 2; i++ {
		x := transmission("2026MOSCOW00020", "MOSCOW", "STATE", cable.Immediate, []byte(fmt.Sprintf("SECTION %02d OF 02", i)))
		x.Section, x.Sections = i, 2
		ts = append(ts, x)
	}
	var got []cable.Precedence
	for _, b := range sendAllThenReceive(t, tr, ts) {
		got = append(got, b.precs...)
	}
	want := []cable.Precedence{cable.Flash, cable.Flash, cable.Immediate, cable.Immediate, cable.Routine, cable.Routine, cable.Routine}
	if !slices.Equal(got, want) {
		t.Errorf("handed over %v, want %v", got, want)
	}
}

// sendAllThenReceive sends ts, all for STATE, receives them and returns
// the batches they came in. The first batch's handler waits until the
// server has delivered every message, so that every lane holds its
// messages when the next batch is taken.
func sendAllThenReceive(t *testing.T, tr *Transport, ts []*cable.Transmission) []batch {
	t.Helper()
	if err := tr.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	c := collector{fail: func(call int, _ []*cable.Transmission) error {
		if call == 0 {
			waitFor(t, "every message delivered", func() bool { return undelivered(t, tr, "STATE") == 0 })
			time.Sleep(100 * time.Millisecond)
		}
		return nil
	}}
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "every transmission", func() bool { return c.received() == len(ts) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return c.snapshot()
}

// undelivered is how many messages for station the server has not yet
// delivered to its receive consumers.
func undelivered(tb testing.TB, tr *Transport, station string) uint64 {
	tb.Helper()
	var n uint64
	for _, p := range cable.Precedences() {
		cons, err := tr.js.Consumer(context.Background(), tr.opts.Stream, ConsumerName(station, p))
		if err != nil {
			tb.Fatal(err)
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		n += info.NumPending
	}
	return n
}

func TestHandlerErrorRedelivers(t *testing.T) {
	tr := openTest(t, Options{RetryDelay: 50 * time.Millisecond})
	ts := many(3, 1, "STATE", cable.Priority)
	if err := tr.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	// Refuse every batch holding a cable not seen before.
	seenOnce := map[string]bool{}
	c := collector{fail: func(_ int, ts []*cable.Transmission) error {
		var err error
		for _, x := range ts {
			if !seenOnce[key(x)] {
				seenOnce[key(x)] = true
				err = errors.New("records unavailable")
			}
		}
		return err
	}}
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "redelivery", func() bool { return c.received() == 3 })
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	bs := c.snapshot()
	if len(bs) < 2 {
		t.Fatalf("handler called %d times, want the refused batch and its redelivery", len(bs))
	}
	seen := map[string]int{}
	for _, b := range bs {
		for _, id := range b.ids {
			seen[id]++
		}
	}
	for _, want := range ts {
		if seen[key(want)] < 2 {
			t.Errorf("%s handed over %d times, want refused, then accepted", want.CableID, seen[key(want)])
		}
		sameTransmission(t, c.got[key(want)], want)
	}
}

func TestReopenKeepsUnsent(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ts := many(10, 1, "LONDON", cable.Routine)

	tr, err := Open(ctx, Options{StoreDir: dir, Logger: testLogger(t), Stations: testStations})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tr.Send(ctx, ts); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}

	tr = openTest(t, Options{StoreDir: dir})
	pending, err := tr.Pending(ctx, "LONDON")
	if err != nil {
		t.Fatal(err)
	}
	if pending[cable.Routine] == 0 {
		t.Fatalf("after reopen Pending = %v, want ROUTINE", pending)
	}
	if n := streamTransmissions(t, tr); n != 10 {
		t.Fatalf("after reopen the stream holds %d transmissions, want 10", n)
	}
	var c collector
	stop := receive(t, tr, "LONDON", c.handle)
	waitFor(t, "ten cables after reopen", func() bool { return c.received() == 10 })
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range ts {
		sameTransmission(t, c.got[key(want)], want)
	}
}

func TestReopenKeepsUnacknowledged(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ts := many(300, 1, "PARIS", cable.Routine) // more than one batch in flight
	// A long AckWait: messages fetched and not handed over must come back
	// after the restart at once, not after AckWait; the refused batch
	// comes back after RetryDelay.
	opts := Options{StoreDir: dir, Logger: testLogger(t), Stations: testStations, AckWait: time.Hour, RetryDelay: 100 * time.Millisecond}

	tr, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	refused := make(chan struct{}, 1)
	c := collector{fail: func(int, []*cable.Transmission) error {
		select {
		case refused <- struct{}{}:
		default:
		}
		return errors.New("disk full")
	}}
	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- tr.Receive(rctx, "PARIS", c.handle) }()
	<-refused
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Receive after cancel = %v, want nil", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	tr = openTest(t, opts)
	pending, err := tr.Pending(ctx, "PARIS")
	if err != nil {
		t.Fatal(err)
	}
	if pending[cable.Routine] == 0 {
		t.Fatalf("after reopen Pending = %v, want ROUTINE", pending)
	}
	if n := streamTransmissions(t, tr); n != 300 {
		t.Fatalf("after reopen the stream holds %d transmissions, want 300", n)
	}
	var ok collector
	stop := receive(t, tr, "PARIS", ok.handle)
	defer func() {
		p, _ := tr.Pending(ctx, "PARIS")
		t.Logf("received %d, pending %v, refused %v", ok.received(), p, c.snapshot())
		for _, x := range ts {
			if ok.got[key(x)] == nil {
				t.Logf("missing %s", x.CableID)
			}
		}
	}()
	waitFor(t, "every cable after reopen", func() bool { return ok.received() == 300 })
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range ts {
		sameTransmission(t, ok.got[key(want)], want)
	}
}

func TestCloseStopsReceive(t *testing.T) {
	tr, err := Open(context.Background(), Options{StoreDir: t.TempDir(), Logger: testLogger(t), Stations: testStations})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	var c collector
	go func() { errc <- tr.Receive(context.Background(), "STATE", c.handle) }()
	if err := tr.Send(context.Background(), many(1, 1, "STATE", cable.Flash)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one cable", func() bool { return c.received() == 1 })
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Receive after Close = %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Receive still running after Close")
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestDedup(t *testing.T) {
	tr := openTest(t, Options{})
	ctx := context.Background()
	one := many(1, 511, "STATE", cable.Immediate)[0]
	if err := tr.Send(ctx, []*cable.Transmission{one}); err != nil {
		t.Fatal(err)
	}
	again := *one
	if err := tr.Send(ctx, []*cable.Transmission{&again}); err != nil {
		t.Fatal(err)
	}
	// Twice in one Send: packed once, so the message is the same as the
	// first Send's.
	twice := *one
	if err := tr.Send(ctx, []*cable.Transmission{&twice, &twice}); err != nil {
		t.Fatal(err)
	}
	if twice.Hop != "STATE" {
		t.Errorf("hop of the transmission given twice = %q, want STATE", twice.Hop)
	}
	if n := streamMsgs(t, tr); n != 1 {
		t.Fatalf("stream holds %d messages after sending one transmission four times, want 1", n)
	}
	// A batch sent again whole is stored once too.
	pair := many(2, 600, "STATE", cable.Immediate)
	for range 2 {
		if err := tr.Send(ctx, pair); err != nil {
			t.Fatal(err)
		}
	}
	if n, m := streamMsgs(t, tr), streamTransmissions(t, tr); n != 2 || m != 3 {
		t.Fatalf("stream holds %d messages, %d transmissions after a batch of two sent twice; want 2 and 3", n, m)
	}
	// The same cable to another destination is another transmission.
	other := *one
	other.Destination = "LONDON"
	if err := tr.Send(ctx, []*cable.Transmission{&other}); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, tr); n != 3 {
		t.Fatalf("stream holds %d messages, want 3", n)
	}

	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "the cables", func() bool { return c.received() >= 3 })
	waitFor(t, "ack", func() bool { return streamMsgs(t, tr) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := c.received(); n != 3 {
		t.Errorf("received %d, want 3", n)
	}
}

// checkBatches checks that no batch exceeds BatchSize, that each hands
// over its transmissions most urgent first and with the precedence they
// were sent with, and that a FLASH batch holds only FLASH.
func checkBatches(t *testing.T, bs []batch, byID map[string]cable.Precedence) {
	t.Helper()
	for i, b := range bs {
		if len(b.ids) > BatchSize {
			t.Errorf("batch %d holds %d, more than %d", i, len(b.ids), BatchSize)
		}
		for j, id := range b.ids {
			if byID[id] != b.precs[j] {
				t.Errorf("batch %d hands over %s as %s, sent as %s", i, id, b.precs[j], byID[id])
			}
			if j > 0 && b.precs[j] < b.precs[j-1] {
				t.Errorf("batch %d hands over %s after %s", i, b.precs[j], b.precs[j-1])
			}
		}
		if b.prec == cable.Flash && b.precs[len(b.precs)-1] != cable.Flash {
			t.Errorf("FLASH batch %d holds %v", i, b.precs)
		}
	}
}

func TestPrecedenceBacklog(t *testing.T) {
	tr := openTest(t, Options{})
	ctx := context.Background()
	routine := many(5000, 1, "STATE", cable.Routine)
	priority := many(300, 10001, "STATE", cable.Priority)
	flash := many(10, 20001, "STATE", cable.Flash)
	byID := map[string]cable.Precedence{}
	for _, set := range [][]*cable.Transmission{routine, priority, flash} {
		for i := 0; i < len(set); i += BatchSize {
			if err := tr.Send(ctx, set[i:min(i+BatchSize, len(set))]); err != nil {
				t.Fatal(err)
			}
		}
		for _, x := range set {
			byID[key(x)] = x.Precedence
		}
	}

	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "every cable", func() bool { return c.received() == 5310 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	bs := c.snapshot()
	checkBatches(t, bs, byID)
	// Every FLASH before any PRIORITY, every PRIORITY before any ROUTINE.
	last := cable.Flash
	counts := map[cable.Precedence]int{}
	for i, b := range bs {
		for _, p := range b.precs {
			if p < last {
				t.Fatalf("batch %d hands over %s after %s", i, p, last)
			}
			last = p
			counts[p]++
		}
	}
	if counts[cable.Flash] != 10 || counts[cable.Priority] != 300 || counts[cable.Routine] != 5000 {
		t.Errorf("received by precedence %v", counts)
	}
	if bs[0].prec != cable.Flash {
		t.Errorf("first batch is %s, want FLASH", bs[0].prec)
	}
}

func TestFlashDuringBacklog(t *testing.T) {
	tr := openTest(t, Options{})
	ctx := context.Background()
	const backlog = 20000
	routine := many(backlog, 1, "STATE", cable.Routine)
	for i := 0; i < len(routine); i += BatchSize {
		if err := tr.Send(ctx, routine[i:min(i+BatchSize, len(routine))]); err != nil {
			t.Fatal(err)
		}
	}
	flash := many(1, 900001, "STATE", cable.Flash)

	const sendAt = 5 // the batch during which the FLASH is sent
	c := collector{after: func(call int, ts []*cable.Transmission) {
		if call == sendAt {
			if err := tr.Send(ctx, flash); err != nil {
				t.Error(err)
			}
		}
		time.Sleep(5 * time.Millisecond) // a slow records store
	}}
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "every cable", func() bool { return c.received() == backlog+1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	bs := c.snapshot()
	flashAt := -1
	for i, b := range bs {
		if b.prec == cable.Flash {
			flashAt = i
			break
		}
	}
	t.Logf("FLASH sent during batch %d, delivered in batch %d of %d", sendAt, flashAt, len(bs))
	if flashAt <= sendAt || flashAt > sendAt+2 {
		t.Errorf("FLASH sent during batch %d delivered in batch %d, want within the next two", sendAt, flashAt)
	}
}

func TestOversizeRefused(t *testing.T) {
	const limit = 64 << 10
	tr := openTest(t, Options{MaxPayload: limit})
	ctx := context.Background()
	room := tr.MaxPayload()
	if room != limit-envelopeRoom {
		t.Fatalf("MaxPayload = %d, want %d", room, limit-envelopeRoom)
	}
	fits := transmission("2026MOSCOW00001", "MOSCOW", "STATE", cable.Routine, bytes.Repeat([]byte("A"), room))
	big := transmission("2026MOSCOW00002", "MOSCOW", "STATE", cable.Routine, bytes.Repeat([]byte("B"), room+1))

	err := tr.Send(ctx, []*cable.Transmission{fits, big})
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("Send of an oversize transmission = %v, want EINVALID", err)
	}
	ps := cable.ErrorProblems(err)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "2026MOSCOW00002") {
		t.Errorf("problems = %v, want one naming 2026MOSCOW00002", ps)
	}
	if n := streamMsgs(t, tr); n != 0 {
		t.Errorf("a refused Send stored %d messages", n)
	}
	// The largest that fits goes through the real server, byte for byte.
	if err := tr.Send(ctx, []*cable.Transmission{fits}); err != nil {
		t.Fatalf("Send of a transmission exactly at the limit: %v", err)
	}
	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "the large cable", func() bool { return c.received() == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	sameTransmission(t, c.got[key(fits)], fits)
}

func TestSendInvalid(t *testing.T) {
	tr := openTest(t, Options{})
	good := many(1, 1, "STATE", cable.Routine)[0]
	badDest := *good
	badDest.Destination = "state.>"
	badPrec := *good
	badPrec.Precedence = 0
	empty := *good
	empty.Text = nil
	badSum := *good
	badSum.SHA256 = strings.Repeat("0", 64)
	badID := *good
	badID.CableID = "1946 MOSCOW\r\nNats-Msg-Id: x"
	err := tr.Send(context.Background(), []*cable.Transmission{good, &badDest, &badPrec, &empty, &badSum, &badID, nil})
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("Send = %v, want EINVALID", err)
	}
	fields := map[string]bool{}
	for _, p := range cable.ErrorProblems(err) {
		fields[p.Field] = true
	}
	for _, f := range []string{"transmissions[1].destination", "transmissions[2].precedence", "transmissions[3].text",
		"transmissions[4].sha256", "transmissions[5].cable_id", "transmissions[6]"} {
		if !fields[f] {
			t.Errorf("no problem for %s in %v", f, err)
		}
	}
	if fields["transmissions[0]"] || len(fields) != 6 {
		t.Errorf("problems %v, want exactly the six bad transmissions", fields)
	}
	if n := streamMsgs(t, tr); n != 0 {
		t.Errorf("an invalid Send stored %d messages", n)
	}

	if err := tr.Receive(context.Background(), "not a station", func(context.Context, []*cable.Transmission) error { return nil }); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Receive for a bad station = %v, want EINVALID", err)
	}
	if _, err := tr.Pending(context.Background(), "x.y"); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Pending for a bad station = %v, want EINVALID", err)
	}
}

func TestOpenInvalid(t *testing.T) {
	_, err := Open(context.Background(), Options{Stream: "A.B", MaxPayload: -1, Listen: "nowhere"})
	ps := cable.ErrorProblems(err)
	if cable.ErrorCode(err) != cable.EINVALID || len(ps) != 5 {
		t.Fatalf("Open = %v, want EINVALID naming stream, max_payload, store_dir, listen and stations", err)
	}
	_, err = Open(context.Background(), Options{URL: "nats://127.0.0.1:1", Hub: "nats://127.0.0.1:2", LeafListen: "127.0.0.1:0",
		Stations: []string{"STATE", "STATE", "state"}, MaxBytes: -1})
	fields := map[string]int{}
	for _, p := range cable.ErrorProblems(err) {
		fields[p.Field]++
	}
	if want := map[string]int{"hub": 1, "leaf_listen": 1, "stations": 2, "max_bytes": 1, "domain": 1}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("Open = %v, want problems %v", err, want)
	}
	_, err = Open(context.Background(), Options{StoreDir: t.TempDir(), Hub: "http://x", Domain: "A.B", Stations: []string{"WAR"}})
	fields = map[string]int{}
	for _, p := range cable.ErrorProblems(err) {
		fields[p.Field]++
	}
	if want := map[string]int{"hub": 1, "domain": 1}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("Open = %v, want problems %v", err, want)
	}
}

// TestMalformedHandedOverRefused: messages failing the envelope checks
// reach the handler marked Refused (so the centre can record them) and
// leave the stream like any other once acknowledged.
func TestMalformedHandedOverRefused(t *testing.T) {
	tr := openTest(t, Options{})
	ctx := context.Background()
	// Someone else publishes on our subject: no envelope, a lying hash.
	if _, err := tr.js.Publish(ctx, "cable.STATE.in.Z", []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	liar := many(1, 7, "STATE", cable.Flash)[0]
	m := &natsgo.Msg{Subject: "cable.STATE.in.Z", Header: encodeHeader(liar, liar.SHA256, tr.opts.Stream, "STATE", []string{"MOSCOW"}), Data: []byte("tampered")}
	if _, err := tr.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	good := many(1, 8, "STATE", cable.Flash)
	if err := tr.Send(ctx, good); err != nil {
		t.Fatal(err)
	}
	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "all three messages", func() bool { return c.received() == 3 })
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	refused, fine := 0, 0
	c.mu.Lock()
	for id, got := range c.got {
		switch {
		case got.Refused != "":
			refused++
			if got.Precedence != cable.Flash {
				t.Errorf("refused %s has precedence %v, want the lane's FLASH", id, got.Precedence)
			}
		case id == key(good[0]):
			fine++
			sameTransmission(t, got, good[0])
		default:
			t.Errorf("malformed %s handed over without Refused", id)
		}
	}
	c.mu.Unlock()
	if refused != 2 || fine != 1 {
		t.Fatalf("refused %d, good %d; want 2 and 1", refused, fine)
	}
}

// TestListen runs a second transport as a client of the first's
// listening server: the external-server path, without an outside server.
func TestListen(t *testing.T) {
	hub := openTest(t, Options{Listen: "127.0.0.1:0"})
	url := hub.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("ClientURL = %q", url)
	}
	if u := openTest(t, Options{}).ClientURL(); u != "" {
		t.Errorf("in-process ClientURL = %q, want empty", u)
	}
	post := openTest(t, Options{URL: url})
	ts := many(20, 1, "STATE", cable.Priority)
	if err := post.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	var c collector
	stop := receive(t, hub, "STATE", c.handle)
	waitFor(t, "cables from the client", func() bool { return c.received() == 20 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range ts {
		sameTransmission(t, c.got[key(want)], want)
	}
}

func TestDomain(t *testing.T) {
	tr := openTest(t, Options{Domain: "hub", ServerName: "hub-1"})
	ts := many(3, 1, "STATE", cable.Routine)
	if err := tr.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "cables", func() bool { return c.received() == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if info, err := tr.js.AccountInfo(context.Background()); err != nil || info.Domain != "hub" {
		t.Errorf("account info = %+v, %v; want domain hub", info, err)
	}
}

// TestExternalServer runs against the NATS server named by
// CABLE_TEST_NATS, in a stream of its own that it deletes afterwards.
func TestExternalServer(t *testing.T) {
	url := os.Getenv("CABLE_TEST_NATS")
	if url == "" {
		t.Skip("CABLE_TEST_NATS not set")
	}
	stream := fmt.Sprintf("CABLES_TEST_%d", time.Now().UnixNano())
	tr := openTest(t, Options{URL: url, Stream: stream, Stations: []string{"MOSCOW", "STATE"}})
	t.Cleanup(func() {
		if err := tr.js.DeleteStream(context.Background(), stream); err != nil {
			t.Errorf("delete stream %s: %v", stream, err)
		}
	})
	if tr.prefix != "cable-"+stream {
		t.Errorf("subject prefix %q", tr.prefix)
	}
	seed := seedText(t)
	ts := append(many(50, 1, "STATE", cable.Routine), transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Flash, seed))
	if err := tr.Send(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "every cable", func() bool { return c.received() == len(ts) })
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, want := range ts {
		sameTransmission(t, c.got[key(want)], want)
	}
	if bs := c.snapshot(); bs[0].prec != cable.Flash {
		t.Errorf("first batch %s, want FLASH", bs[0].prec)
	}

	// Another node on the same server, hosting LONDON, shares the stream:
	// a cable from MOSCOW waits at MOSCOW until forwarded, then LONDON
	// receives it.
	other := openTest(t, Options{URL: url, Stream: stream, Stations: []string{"LONDON"}})
	toLondon := many(3, 100, "LONDON", cable.Priority)
	if err := tr.Send(context.Background(), toLondon); err != nil {
		t.Fatal(err)
	}
	if toLondon[0].Hop != "MOSCOW" {
		t.Errorf("Hop = %q, want MOSCOW", toLondon[0].Hop)
	}
	var fw, lc collector
	stopF := forward(t, tr, "MOSCOW", fw.handle)
	stopL := receive(t, other, "LONDON", lc.handle)
	waitFor(t, "LONDON's cables", func() bool { return lc.received() == 3 && fw.received() == 3 })
	if err := errors.Join(stopF(), stopL()); err != nil {
		t.Fatal(err)
	}
	lc.once(t, toLondon)
	if h := fw.got[key(toLondon[0])].Hop; h != "LONDON" {
		t.Errorf("forwarded to %q, want LONDON", h)
	}
}

// --- benchmarks -----------------------------------------------------------

const benchTextSize = 4 << 10

func benchTexts(n int) []*cable.Transmission {
	ts := make([]*cable.Transmission, n)
	for i := range ts {
		text := bytes.Repeat([]byte("THE LONG TELEGRAM. "), benchTextSize/19+1)[:benchTextSize]
		copy(text, fmt.Sprintf("%08d", i))
		ts[i] = transmission(cable.Identifier(2026, "MOSCOW", i+1), "MOSCOW", "STATE", cable.Routine, text)
	}
	return ts
}

// BenchmarkSendReceive measures cables carried end to end: Send in
// batches of BatchSize, Receive until every one is handed over and
// acknowledged.
func BenchmarkSendReceive(b *testing.B) {
	tr := openTest(b, Options{Logger: testLogger(b)})
	ts := benchTexts(b.N)
	var c collector
	b.SetBytes(benchTextSize)
	b.ResetTimer()
	start := time.Now()
	stop := receive(b, tr, "STATE", c.handle)
	for i := 0; i < len(ts); i += BatchSize {
		if err := tr.Send(context.Background(), ts[i:min(i+BatchSize, len(ts))]); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, "every cable", func() bool { return c.received() >= b.N })
	waitFor(b, "acks", func() bool { return streamMsgs(b, tr) == 0 })
	elapsed := time.Since(start)
	b.StopTimer()
	if err := stop(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkSend measures custody alone: Send in batches of BatchSize.
func BenchmarkSend(b *testing.B) {
	tr := openTest(b, Options{Logger: testLogger(b)})
	ts := benchTexts(b.N)
	b.SetBytes(benchTextSize)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(ts); i += BatchSize {
		if err := tr.Send(context.Background(), ts[i:min(i+BatchSize, len(ts))]); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// baseline starts an embedded server configured as Open does and returns
// a JetStream client on a plain file-storage stream RAW (subjects raw.>)
// and, beside it, a work-queue stream WORK (subjects work.>).
func baseline(b *testing.B) jetstream.JetStream {
	o := Options{StoreDir: b.TempDir(), Logger: testLogger(b), Stations: testStations}
	if err := o.normalize(); err != nil {
		b.Fatal(err)
	}
	srv, _, err := startServer(o)
	if err != nil {
		b.Fatal(err)
	}
	nc, err := natsgo.Connect("", natsgo.InProcessServer(srv))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: "WORK", Subjects: []string{"work.>"}, Storage: jetstream.FileStorage, Retention: jetstream.WorkQueuePolicy,
	}); err != nil {
		b.Fatal(err)
	}
	return js
}

// BenchmarkBaselinePublishConsume is the raw engine under SendReceive:
// async publish of the same texts to a work-queue stream while a pull
// consumer fetches batches of BatchSize and acknowledges each batch
// (ack all, confirm the last), until the stream is empty.
func BenchmarkBaselinePublishConsume(b *testing.B) {
	js := baseline(b)
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, "WORK", jetstream.ConsumerConfig{
		Durable: "rx", FilterSubject: "work.to.STATE.R", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 4 * BatchSize,
	})
	if err != nil {
		b.Fatal(err)
	}
	ts := benchTexts(b.N)
	b.SetBytes(benchTextSize)
	b.ResetTimer()
	start := time.Now()
	consumed := make(chan error, 1)
	go func() {
		n := 0
		for n < b.N {
			batch, err := cons.Fetch(BatchSize, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				consumed <- err
				return
			}
			var msgs []jetstream.Msg
			for m := range batch.Messages() {
				msgs = append(msgs, m)
			}
			if len(msgs) == 0 {
				continue
			}
			for _, m := range msgs[:len(msgs)-1] {
				if err := m.Ack(); err != nil {
					consumed <- err
					return
				}
			}
			if err := msgs[len(msgs)-1].DoubleAck(ctx); err != nil {
				consumed <- err
				return
			}
			n += len(msgs)
		}
		consumed <- nil
	}()
	publishAllAsync(b, js, "work.to.STATE.R", ts)
	if err := <-consumed; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkBaselinePublish is the raw engine under Send: async publish of
// the same 4 KB texts, waiting for every acknowledgement.
func BenchmarkBaselinePublish(b *testing.B) {
	js := baseline(b)
	ts := benchTexts(b.N)
	b.SetBytes(benchTextSize)
	b.ResetTimer()
	start := time.Now()
	publishAllAsync(b, js, "raw.to.STATE.R", ts)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// publishAllAsync publishes each text to subject without waiting, then
// waits for every acknowledgement: the raw engine at its fastest.
func publishAllAsync(b *testing.B, js jetstream.JetStream, subject string, ts []*cable.Transmission) {
	b.Helper()
	futures := make([]jetstream.PubAckFuture, len(ts))
	for i, t := range ts {
		f, err := js.PublishAsync(subject, t.Text, jetstream.WithStallWait(time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		futures[i] = f
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselinePublishSync publishes one message at a time, waiting
// for each acknowledgement.
func BenchmarkBaselinePublishSync(b *testing.B) {
	js := baseline(b)
	ts := benchTexts(b.N)
	b.SetBytes(benchTextSize)
	b.ResetTimer()
	start := time.Now()
	for _, t := range ts {
		if _, err := js.Publish(context.Background(), "raw.to.STATE.R", t.Text); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// TestServerLoggerQuietensLeafRetries: a hub that is down is one warning
// a minute, not an error a second; other errors pass through.
func TestServerLoggerQuietensLeafRetries(t *testing.T) {
	var buf bytes.Buffer
	l := &serverLogger{l: slog.New(slog.NewTextHandler(&buf, nil)), every: time.Hour}
	for i := range 5 {
		l.Errorf("Error trying to connect as leafnode to remote server %q (attempt %d): refused", "127.0.0.1:7422", i+1)
	}
	l.Errorf("something else broke")
	l.Noticef("Leafnode connection created for account: $G")
	l.Errorf("Error trying to connect as leafnode to remote server %q (attempt %d): refused", "127.0.0.1:7422", 1)
	out := buf.String()
	if n := strings.Count(out, "trying to connect as leafnode"); n != 2 {
		t.Errorf("%d leaf-node retries logged, want 2 (the first, and the first after the link came back):\n%s", n, out)
	}
	if strings.Contains(out, "level=ERROR msg=\"Error trying") {
		t.Errorf("a leaf-node retry logged as an error:\n%s", out)
	}
	if !strings.Contains(out, "level=ERROR msg=\"something else broke\"") {
		t.Errorf("other errors not passed through:\n%s", out)
	}
}

// TestHandlerKeepsSomeForLater: a handler that returns nil but sets Later
// on one transmission has the rest of the batch acknowledged, once, and
// that one handed over again after RetryDelay, until it is taken, byte
// for byte.
func TestHandlerKeepsSomeForLater(t *testing.T) {
	tr := openTest(t, Options{RetryDelay: 100 * time.Millisecond})
	ctx := context.Background()
	// Sent together, they travel as one batch message: the one kept for
	// later must leave it, not bring the others back with it.
	ts := many(3, 1, "STATE", cable.Routine)
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	later := ts[1].CableID
	var mu sync.Mutex
	seen := map[string]int{}
	receive(t, tr, "STATE", func(_ context.Context, got []*cable.Transmission) error {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range got {
			seen[x.CableID]++
			for _, want := range ts {
				if want.CableID == x.CableID && !bytes.Equal(x.Text, want.Text) {
					t.Errorf("%s handed over with other bytes", x.CableID)
				}
			}
			if x.CableID == later && seen[later] < 3 {
				x.Later = true
			}
		}
		return nil
	})
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	mu.Lock()
	defer mu.Unlock()
	for _, x := range ts {
		want := 1
		if x.CableID == later {
			want = 3
		}
		if seen[x.CableID] != want {
			t.Errorf("%s handed over %d times, want %d", x.CableID, seen[x.CableID], want)
		}
	}
}

// TestLaterBacksOff: a transmission the handler keeps for later every
// time comes back after RetryDelay, then twice as long each time, not
// every RetryDelay for the hour it may wait for its station's key.
func TestLaterBacksOff(t *testing.T) {
	tr := openTest(t, Options{RetryDelay: 50 * time.Millisecond})
	ctx := context.Background()
	if err := tr.Send(ctx, many(1, 1, "STATE", cable.Routine)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var at []time.Time
	receive(t, tr, "STATE", func(_ context.Context, got []*cable.Transmission) error {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range got {
			at = append(at, time.Now())
			x.Later = true
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	// 50, 100, 200, 400, 800 ms: six in 1.55 s, the seventh at 3.15 s.
	if len(at) < 4 || len(at) > 7 {
		t.Errorf("handed over %d times in 3 s, want 4 to 7 (every 50 ms would be 60)", len(at))
	}
	// The server hands a message back no sooner than asked: slowness
	// only widens the gaps.
	for i := 1; i < len(at); i++ {
		if gap, least := at[i].Sub(at[i-1]), (50*time.Millisecond<<(i-1))*9/10; gap < least {
			t.Errorf("handed over again after %v the %d time, want at least %v", gap, i, least)
		}
	}
}

// TestLaterSparesOthers: more transmissions kept for later than the
// receiving consumers used to allow pending (3,072) stay pending at the
// server while they wait; the same precedence from other stations still
// arrives meanwhile.
func TestLaterSparesOthers(t *testing.T) {
	tr := openTest(t, Options{RetryDelay: time.Minute})
	ctx := context.Background()
	const waiting = 3200
	mk := func(serial int, origin string) *cable.Transmission {
		id := cable.Identifier(2026, origin, serial)
		return transmission(id, origin, "STATE", cable.Routine, []byte("SEALED "+id))
	}
	for i := range waiting { // one message each, as a post sending one cable a round leaves them
		if err := tr.Send(ctx, []*cable.Transmission{mk(1+i, "PARIS")}); err != nil {
			t.Fatal(err)
		}
	}
	var others []*cable.Transmission
	for i := range 10 {
		others = append(others, mk(1+i, "MOSCOW"))
	}
	if err := tr.Send(ctx, others); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	kept, got := 0, 0
	receive(t, tr, "STATE", func(_ context.Context, ts []*cable.Transmission) error {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range ts {
			if x.Origin == "PARIS" {
				x.Later = true
				kept++
				continue
			}
			got++
		}
		return nil
	})
	waitFor(t, "MOSCOW's cables behind PARIS's kept for later", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got == len(others)
	})
	mu.Lock()
	defer mu.Unlock()
	if kept < waiting {
		t.Errorf("%d of PARIS's %d kept for later before MOSCOW's arrived", kept, waiting)
	}
}

// A node made by an earlier version has durable consumers with their state
// on disk; the embedded server's consumers now keep it in memory. The old
// consumers are made again, and every message the stream holds, delivered
// before or not, still arrives.
func TestConsumersOnDiskMadeAgainInMemory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{StoreDir: dir, Logger: testLogger(t), Stations: testStations, AckWait: time.Hour}
	tr, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := many(40, 1, "PARIS", cable.Routine)
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	for _, p := range cable.Precedences() {
		if _, err := tr.js.CreateOrUpdateConsumer(ctx, tr.opts.Stream, jetstream.ConsumerConfig{
			Durable:       ConsumerName("PARIS", p),
			FilterSubject: tr.inSubject("PARIS", p),
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxDeliver:    -1,
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The old consumer has delivered some of the ROUTINE messages, not
	// acknowledged.
	old, err := tr.js.Consumer(ctx, tr.opts.Stream, ConsumerName("PARIS", cable.Routine))
	if err != nil {
		t.Fatal(err)
	}
	b, err := old.Fetch(1, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range b.Messages() {
	}
	if info, err := old.Info(ctx); err != nil || info.NumAckPending != 1 || info.Config.MemoryStorage {
		t.Fatalf("old consumer %+v, %v; want one delivered, state on disk", info, err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	tr = openTest(t, opts)
	var c collector
	stop := receive(t, tr, "PARIS", c.handle)
	waitFor(t, "every cable", func() bool { return c.received() == len(ts) })
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c.once(t, ts)
	for _, p := range cable.Precedences() {
		cons, err := tr.js.Consumer(ctx, tr.opts.Stream, ConsumerName("PARIS", p))
		if err != nil {
			t.Fatal(err)
		}
		if !cons.CachedInfo().Config.MemoryStorage {
			t.Errorf("consumer %s keeps its state on disk", ConsumerName("PARIS", p))
		}
	}
}
