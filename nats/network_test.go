package nats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testDirectory is a small station directory like the demo's.
const testDirectory = `
station STATE headquarters America/New_York SECSTATE WASHDC
office STATE EUR Bureau of European Affairs
station WAR relay UTC WARDEPT WASHDC
station MOSCOW post Europe/Moscow AMEMBASSY MOSCOW
office MOSCOW POL Political Section
station LONDON post Europe/London AMEMBASSY LONDON
`

func testRoutes(tb testing.TB, text string) *cable.Routes {
	tb.Helper()
	dir, err := cable.ParseDirectory([]byte(testDirectory))
	if err != nil {
		tb.Fatal(err)
	}
	r, err := cable.ParseRoutes([]byte(text), dir)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// network is three nodes joined by leaf connections over loopback:
// MOSCOW is a leaf of WAR, WAR a leaf of STATE.
type network struct {
	state, war, moscow *Transport
	opts               map[string]Options
}

// openNetwork opens STATE, WAR and MOSCOW, each its own server, store and
// domain; change, when set, adjusts each node's options first.
func openNetwork(tb testing.TB, change func(station string, o *Options)) *network {
	tb.Helper()
	n := &network{opts: map[string]Options{}}
	open := func(o Options) *Transport {
		station := o.Stations[0]
		o.StoreDir = tb.TempDir()
		o.Domain = station
		if change != nil {
			change(station, &o)
		}
		n.opts[station] = o
		return openTest(tb, o)
	}
	n.state = open(Options{Stations: []string{"STATE"}, LeafListen: "127.0.0.1:0", Routes: testRoutes(tb, "MOSCOW via WAR")})
	n.war = open(Options{Stations: []string{"WAR"}, LeafListen: "127.0.0.1:0", Hub: n.state.LeafURL()})
	n.moscow = open(Options{Stations: []string{"MOSCOW"}, Hub: n.war.LeafURL(), Routes: testRoutes(tb, "* via WAR")})
	// Pin STATE's leaf port, so that it can be reopened at the same address.
	o := n.opts["STATE"]
	o.LeafListen = strings.TrimPrefix(n.state.LeafURL(), "nats://")
	n.opts["STATE"] = o
	n.waitLinks(tb)
	return n
}

func (n *network) waitLinks(tb testing.TB) {
	tb.Helper()
	waitFor(tb, "leaf connections", func() bool {
		return n.state.srv.NumLeafNodes() == 1 && n.war.srv.NumLeafNodes() == 2 && n.moscow.srv.NumLeafNodes() == 1
	})
}

// forward runs Forward in the background until the test ends or stop is
// called; stop returns Forward's error.
func forward(tb testing.TB, tr *Transport, station string, h func(context.Context, []*cable.Transmission) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- tr.Forward(ctx, station, h) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(30 * time.Second):
				err = errors.New("Forward did not return after its context ended")
			}
		})
		return err
	}
	tb.Cleanup(func() { _ = stop() })
	return stop
}

// mixed returns n transmissions from origin to dest cycling through the
// precedences, serials from from.
func mixed(n, from int, origin, dest string) []*cable.Transmission {
	ts := make([]*cable.Transmission, n)
	for i := range ts {
		id := cable.Identifier(2026, origin, from+i)
		p := cable.Precedences()[i%4]
		ts[i] = transmission(id, origin, dest, p, []byte(fmt.Sprintf("SEALED %s %d\x00\xff", id, i)))
	}
	return ts
}

// once checks that every transmission was handed over exactly once
// and byte for byte.
func (c *collector) once(tb testing.TB, ts []*cable.Transmission) {
	tb.Helper()
	seen := map[string]int{}
	for _, b := range c.snapshot() {
		for _, id := range b.ids {
			seen[id]++
		}
	}
	for _, want := range ts {
		if seen[key(want)] != 1 {
			tb.Errorf("%s handed over %d times, want once", key(want), seen[key(want)])
		}
		c.mu.Lock()
		got := c.got[key(want)]
		c.mu.Unlock()
		sameTransmission(tb, got, want)
	}
	if len(seen) != len(ts) {
		tb.Errorf("handed over %d distinct transmissions, want %d", len(seen), len(ts))
	}
}

func TestNetworkRelay(t *testing.T) {
	n := openNetwork(t, nil)
	ctx := context.Background()
	seed := seedText(t)

	cab := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Immediate, seed)
	if err := n.moscow.Send(ctx, []*cable.Transmission{cab}); err != nil {
		t.Fatal(err)
	}
	if cab.Hop != "MOSCOW" {
		t.Errorf("Hop after Send at MOSCOW = %q, want MOSCOW (the link may be down)", cab.Hop)
	}
	// A station hosted elsewhere cannot originate here.
	alien := transmission("1946STATE00284", "STATE", "MOSCOW", cable.Routine, []byte("X"))
	if err := n.moscow.Send(ctx, []*cable.Transmission{alien}); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Send from a station not hosted = %v, want EINVALID", err)
	}
	if err := n.moscow.Receive(ctx, "STATE", func(context.Context, []*cable.Transmission) error { return nil }); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Receive for a station not hosted = %v, want EINVALID", err)
	}

	var atMoscow, atWar, atState collector
	forward(t, n.moscow, "MOSCOW", atMoscow.handle)
	forward(t, n.war, "WAR", atWar.handle)
	receive(t, n.state, "STATE", atState.handle)
	waitFor(t, "the cable at STATE", func() bool { return atState.received() == 1 })
	atState.once(t, []*cable.Transmission{cab})
	got := atState.got[key(cab)]
	if !slices.Equal(got.Route, []string{"MOSCOW", "WAR"}) || got.Kind != cable.KindCable {
		t.Errorf("at STATE: route %v kind %q, want [MOSCOW WAR] cable", got.Route, got.Kind)
	}
	waitFor(t, "the forwarders' reports", func() bool { return atMoscow.received() == 1 && atWar.received() == 1 })
	if f := atMoscow.got[key(cab)]; f.Hop != "WAR" || f.Refused != "" || !slices.Equal(f.Route, []string{"MOSCOW"}) {
		t.Errorf("MOSCOW forwarded %+v, want hop WAR route [MOSCOW]", envelope(f))
	}
	if f := atWar.got[key(cab)]; f.Hop != "STATE" || !slices.Equal(f.Route, []string{"MOSCOW", "WAR"}) {
		t.Errorf("WAR forwarded %+v, want hop STATE route [MOSCOW WAR]", envelope(f))
	}

	// The receipt goes back the same way.
	receipt := transmission("1946MOSCOW00511", "STATE", "MOSCOW", cable.Immediate, []byte("cable-receipt-v1\n"))
	receipt.Kind = cable.KindReceipt
	if err := n.state.Send(ctx, []*cable.Transmission{receipt}); err != nil {
		t.Fatal(err)
	}
	if receipt.Hop != "STATE" {
		t.Errorf("receipt Hop = %q, want STATE", receipt.Hop)
	}
	var back, atState2 collector
	forward(t, n.state, "STATE", atState2.handle)
	receive(t, n.moscow, "MOSCOW", back.handle)
	waitFor(t, "the receipt at MOSCOW", func() bool { return back.received() == 1 })
	back.once(t, []*cable.Transmission{receipt})
	if r := back.got[key(receipt)]; r.Kind != cable.KindReceipt || !slices.Equal(r.Route, []string{"STATE", "WAR"}) {
		t.Errorf("receipt at MOSCOW: kind %q route %v, want receipt via [STATE WAR]", r.Kind, r.Route)
	}
	for _, tr := range []*Transport{n.state, n.war, n.moscow} {
		waitFor(t, "every stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	}
}

func TestNetworkLinkDown(t *testing.T) {
	// Raise the unreachable alert at once rather than after a minute; the
	// cleanup restoring it runs last, after the forwarders have stopped.
	t.Cleanup(func(d time.Duration) func() { return func() { unreachableAfter = d } }(unreachableAfter))
	unreachableAfter = 0
	var mu sync.Mutex
	var alerts []string
	n := openNetwork(t, func(_ string, o *Options) {
		o.OnAlert = func(station, reason string) {
			mu.Lock()
			defer mu.Unlock()
			alerts = append(alerts, station+": "+reason)
		}
	})
	ctx := context.Background()
	var atMoscow, atWar collector
	forward(t, n.moscow, "MOSCOW", atMoscow.handle)
	forward(t, n.war, "WAR", atWar.handle)

	// STATE goes down; MOSCOW keeps sending.
	if err := n.state.Close(); err != nil {
		t.Fatal(err)
	}
	ts := mixed(50, 1, "MOSCOW", "STATE")
	if err := n.moscow.Send(ctx, ts); err != nil {
		t.Fatalf("Send with the link down: %v", err)
	}
	// Everything reaches WAR, which keeps it.
	waitFor(t, "the cables at WAR", func() bool {
		q, err := n.war.Queued(ctx, "WAR")
		return err == nil && q[cable.Flash] > 0 && q[cable.Immediate] > 0 && q[cable.Priority] > 0 && q[cable.Routine] > 0 &&
			streamTransmissions(t, n.war) == 50 && streamMsgs(t, n.moscow) == 0
	})
	if atWar.received() != 0 {
		t.Fatalf("WAR reports %d forwarded while STATE is down", atWar.received())
	}
	waitFor(t, "WAR's alert", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(alerts, "WAR: next hop STATE unreachable for over a minute")
	})

	// STATE comes back on the same store and leaf port.
	n.state = openTest(t, n.opts["STATE"])
	n.waitLinks(t)
	waitFor(t, "the backlog at STATE", func() bool { return streamTransmissions(t, n.state) == 50 })
	// WAR drained its backlog most urgent first: the stream's order.
	order, _ := storedOrder(t, n.state)
	if len(order) != 50 || !slices.IsSorted(order) {
		t.Errorf("WAR forwarded the backlog in the order %v, want 50 most urgent first", order)
	}

	var atState collector
	receive(t, n.state, "STATE", atState.handle)
	waitFor(t, "all 50 at STATE", func() bool { return atState.received() == 50 })
	waitFor(t, "the streams to empty", func() bool { return streamMsgs(t, n.state) == 0 && streamMsgs(t, n.war) == 0 })
	atState.once(t, ts)
	for _, tr := range ts {
		if r := atState.got[key(tr)].Route; !slices.Equal(r, []string{"MOSCOW", "WAR"}) {
			t.Fatalf("%s route %v", tr.CableID, r)
		}
	}
	if bs := atState.snapshot(); bs[0].prec != cable.Flash {
		t.Errorf("first batch at STATE is %s, want FLASH", bs[0].prec)
	}
}

func TestNetworkFlashOvertakesBacklog(t *testing.T) {
	n := openNetwork(t, nil)
	ctx := context.Background()
	const backlog = 3000
	routine := many(backlog, 1, "STATE", cable.Routine)
	for i := 0; i < len(routine); i += BatchSize {
		if err := n.moscow.Send(ctx, routine[i:min(i+BatchSize, len(routine))]); err != nil {
			t.Fatal(err)
		}
	}
	flash := many(1, 900001, "STATE", cable.Flash)
	if err := n.moscow.Send(ctx, flash); err != nil {
		t.Fatal(err)
	}
	var atState collector
	receive(t, n.state, "STATE", atState.handle)
	forward(t, n.war, "WAR", func(context.Context, []*cable.Transmission) error { return nil })
	forward(t, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
	waitFor(t, "every cable at STATE", func() bool { return atState.received() == backlog+1 })
	bs := atState.snapshot()
	flashAt := slices.IndexFunc(bs, func(b batch) bool { return b.prec == cable.Flash })
	t.Logf("FLASH in batch %d of %d at STATE", flashAt, len(bs))
	if flashAt < 0 || flashAt > 1 {
		t.Errorf("FLASH behind a ROUTINE backlog arrived in batch %d, want the first or second", flashAt)
	}
	atState.once(t, append(routine, flash...))
}

func TestSections(t *testing.T) {
	tr := openTest(t, Options{})
	ctx := context.Background()
	// Cable 511 in five sections, 512 whole, 513 in two, interleaved and
	// out of order; the transport dedups a retransmission itself.
	sec := func(id string, i, n int) *cable.Transmission {
		x := transmission(id, "MOSCOW", "STATE", cable.Priority, []byte(fmt.Sprintf("%s SECTION %02d OF %02d", id, i, n)))
		x.Section, x.Sections = i, n
		return x
	}
	five := []*cable.Transmission{sec("1946MOSCOW00511", 1, 5), sec("1946MOSCOW00511", 2, 5), sec("1946MOSCOW00511", 3, 5),
		sec("1946MOSCOW00511", 4, 5), sec("1946MOSCOW00511", 5, 5)}
	two := []*cable.Transmission{sec("1946MOSCOW00513", 1, 2), sec("1946MOSCOW00513", 2, 2)}
	whole := many(1, 512, "STATE", cable.Priority)[0]
	for _, set := range [][]*cable.Transmission{
		{five[2], two[1], five[0]}, {five[4], whole}, {five[2], five[0]}, {two[0], five[1]},
	} {
		if err := tr.Send(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	// A second copy that escaped the duplicate window (another message id).
	dup := &natsgo.Msg{Subject: "cable.STATE.in.P", Header: encodeHeader(five[1], five[1].SHA256, tr.opts.Stream, "STATE", []string{"MOSCOW"}), Data: five[1].Text}
	dup.Header.Set(jetstream.MsgIDHeader, "another")
	if _, err := tr.js.PublishMsg(ctx, dup); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(ctx, []*cable.Transmission{five[3]}); err != nil {
		t.Fatal(err)
	}

	var batches [][]*cable.Transmission
	var mu sync.Mutex
	stop := receive(t, tr, "STATE", func(_ context.Context, ts []*cable.Transmission) error {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, ts)
		return nil
	})
	waitFor(t, "every transmission", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, b := range batches {
			n += len(b)
		}
		return n == 8
	})
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var got511 []*cable.Transmission
	total := 0
	for _, b := range batches {
		total += len(b)
		var in []*cable.Transmission
		for _, x := range b {
			if x.CableID == "1946MOSCOW00511" {
				in = append(in, x)
			}
		}
		if len(in) > 0 {
			if got511 != nil {
				t.Errorf("cable 511 split over batches")
			}
			got511 = in
		}
	}
	if total != 8 {
		t.Errorf("handed over %d transmissions, want 8 (5 + 2 sections and a whole cable)", total)
	}
	if len(got511) != 5 {
		t.Fatalf("cable 511: %d sections in its batch, want 5", len(got511))
	}
	for i, x := range got511 {
		if x.Section != i+1 || x.Sections != 5 || x.Refused != "" || x.Incomplete {
			t.Errorf("position %d holds section %d of %d (refused %q)", i, x.Section, x.Sections, x.Refused)
		}
		sameTransmission(t, x, five[i])
	}
}

func TestSectionsIncomplete(t *testing.T) {
	tr := openTest(t, Options{SectionTimeout: 100 * time.Millisecond})
	ctx := context.Background()
	var ts []*cable.Transmission
	for _, i := range []int{1, 2, 4} {
		x := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Flash, []byte(fmt.Sprintf("SECTION %d", i)))
		x.Section, x.Sections = i, 5
		ts = append(ts, x)
	}
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "the incomplete cable", func() bool { return c.received() == 1 })
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := c.got["1946MOSCOW00511/STATE"]
	if !got.Incomplete || got.Text != nil || got.Refused != "" || got.Sections != 5 || got.Origin != "MOSCOW" ||
		got.Precedence != cable.Flash || got.Destination != "STATE" {
		t.Errorf("got %+v, want an incomplete FLASH cable of 5 sections without text", envelope(got))
	}
	if len(c.snapshot()) != 1 {
		t.Errorf("handler called %d times, want once", len(c.snapshot()))
	}
}

// TestSectionsPastBoundComeBack: the sections of two cables are more than
// can be held. The cable begun last is handed back and comes again once
// the first has completed; neither is handed over incomplete. Handing over
// the oldest as incomplete, as before, lost a cable whose last section was
// still on its way.
func TestSectionsPastBoundComeBack(t *testing.T) {
	t.Cleanup(func(b int) func() { return func() { maxHeldBytes = b } }(maxHeldBytes))
	maxHeldBytes = 110 // three sections of 35 bytes, not four
	tr := openTest(t, Options{RetryDelay: 200 * time.Millisecond})
	ctx := context.Background()
	sec := func(id string, i int) *cable.Transmission {
		x := transmission(id, "MOSCOW", "STATE", cable.Priority, []byte(fmt.Sprintf("%s SECTION %02d OF 03 ..", id, i)))
		x.Section, x.Sections = i, 3
		return x
	}
	a, b := "1946MOSCOW00511", "1946MOSCOW00512"
	if err := tr.Send(ctx, []*cable.Transmission{sec(a, 1), sec(a, 2), sec(b, 1), sec(b, 2)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*cable.Transmission
	stop := receive(t, tr, "STATE", func(_ context.Context, ts []*cable.Transmission) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ts...)
		return nil
	})
	time.Sleep(100 * time.Millisecond) // the four are held, or one cable handed back
	if err := tr.Send(ctx, []*cable.Transmission{sec(a, 3), sec(b, 3)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both cables", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 6 || slices.ContainsFunc(got, func(x *cable.Transmission) bool { return x.Incomplete })
	})
	mu.Lock()
	var order []string
	for _, x := range got {
		order = append(order, fmt.Sprintf("%s %d/%d incomplete=%v", x.CableID, x.Section, x.Sections, x.Incomplete))
	}
	want := []string{a + " 1/3 incomplete=false", a + " 2/3 incomplete=false", a + " 3/3 incomplete=false",
		b + " 1/3 incomplete=false", b + " 2/3 incomplete=false", b + " 3/3 incomplete=false"}
	mu.Unlock()
	if !slices.Equal(order, want) {
		t.Fatalf("handed over\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestHostile publishes with core NATS, bypassing Send, onto a station's
// subjects: everything is refused and acknowledged, the lane keeps going.
func TestHostile(t *testing.T) {
	tr := openTest(t, Options{Stations: []string{"STATE", "WAR", "MOSCOW"}, MaxPayload: 64 << 10})
	ctx := context.Background()
	good := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Routine, []byte("GOOD"))
	hdr := func(mod func(natsgo.Header)) natsgo.Header {
		h := encodeHeader(good, good.SHA256, tr.opts.Stream, "STATE", []string{"MOSCOW"})
		h.Del(jetstream.MsgIDHeader)
		mod(h)
		return h
	}
	big := bytes.Repeat([]byte("A"), tr.MaxPayload()+1)
	bad := []*natsgo.Msg{
		{Subject: "cable.STATE.in.R", Data: []byte("\x00\xffgarbage")},
		{Subject: "cable.STATE.in.R", Header: natsgo.Header{"Cable-Id": {"\r\n"}}, Data: []byte("x")},
		{Subject: "cable.STATE.in.R", Header: hdr(func(h natsgo.Header) { h.Set(HeaderSection, "7"); h.Set(HeaderSections, "5") }), Data: good.Text},
		{Subject: "cable.STATE.in.R", Header: hdr(func(h natsgo.Header) { h.Set(HeaderSection, "1"); h.Set(HeaderSections, "100") }), Data: good.Text},
		{Subject: "cable.STATE.in.R", Header: hdr(func(h natsgo.Header) { h.Set(HeaderSections, "5") }), Data: good.Text},
		{Subject: "cable.STATE.in.R", Header: hdr(func(h natsgo.Header) { h.Set(HeaderSHA256, cable.SHA256Hex(big)) }), Data: big},
		{Subject: "cable.STATE.in.R", Header: hdr(func(natsgo.Header) {}), Data: []byte("TAMPERED")},
		{Subject: "cable.STATE.in.R", Header: hdr(func(h natsgo.Header) { h.Set(HeaderDestination, "WAR") }), Data: good.Text},
		// Forwarding: garbage, a loop, a route too long.
		{Subject: "cable.WAR.fwd.LONDON.R", Data: []byte("garbage")},
		{Subject: "cable.WAR.fwd.LONDON.R", Header: hdr(func(h natsgo.Header) {
			h.Set(HeaderDestination, "LONDON")
			h.Set(HeaderRoute, "MOSCOW LONDON")
		}), Data: good.Text},
		{Subject: "cable.WAR.fwd.LONDON.R", Header: hdr(func(h natsgo.Header) {
			h.Set(HeaderDestination, "LONDON")
			h.Set(HeaderRoute, "MOSCOW AA BB CC DD EE FF GG")
		}), Data: good.Text},
	}
	// A good one for STATE held at WAR: forwarded within the node.
	local := transmission("1946MOSCOW00512", "MOSCOW", "STATE", cable.Routine, []byte("LOCAL"))
	bad = append(bad, &natsgo.Msg{Subject: "cable.WAR.fwd.STATE.R", Header: encodeHeader(local, local.SHA256, tr.opts.Stream, "WAR", []string{"MOSCOW"}), Data: local.Text})
	for _, m := range bad {
		if err := tr.nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hostile messages in the stream", func() bool { return streamMsgs(t, tr) == uint64(len(bad)) })
	if err := tr.Send(ctx, []*cable.Transmission{good}); err != nil {
		t.Fatal(err)
	}

	var rx, fw collector
	stopR := receive(t, tr, "STATE", rx.handle)
	stopF := forward(t, tr, "WAR", fw.handle)
	waitFor(t, "every message handed over", func() bool { return rx.received() == 10 && fw.received() == 4 })
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	if err := errors.Join(stopR(), stopF()); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, b := range append(rx.snapshot(), fw.snapshot()...) {
		if b.prec != cable.Routine {
			t.Errorf("a batch of %s, want the lane's ROUTINE", b.prec)
		}
	}
	rx.mu.Lock()
	var all []*cable.Transmission
	for _, b := range rx.batchesTrs {
		all = append(all, b...)
	}
	rx.mu.Unlock()
	fw.mu.Lock()
	for _, b := range fw.batchesTrs {
		all = append(all, b...)
	}
	fw.mu.Unlock()
	for _, x := range all {
		if x.Refused != "" {
			refused++
			continue
		}
		if x.CableID != good.CableID && x.CableID != local.CableID || x.Destination != "STATE" {
			t.Errorf("accepted %+v", envelope(x))
		}
	}
	sameTransmission(t, rx.got[key(local)], local)
	if r := rx.got[key(local)].Route; !slices.Equal(r, []string{"MOSCOW", "WAR"}) {
		t.Errorf("forwarded within the node: route %v, want [MOSCOW WAR]", r)
	}
	if refused != 11 {
		t.Errorf("%d refused, want 11", refused)
	}
}

func TestDiskBudget(t *testing.T) {
	t.Cleanup(func(d time.Duration) func() { return func() { alertCheckEvery = d } }(alertCheckEvery))
	alertCheckEvery = 20 * time.Millisecond
	var mu sync.Mutex
	alerts := map[string][]string{}
	onAlert := func(station, reason string) {
		mu.Lock()
		defer mu.Unlock()
		alerts[station] = append(alerts[station], reason)
	}
	alerted := func(station, substr string) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(alerts[station], func(r string) bool { return strings.Contains(r, substr) })
	}
	const budget = 64 << 10
	n := openNetwork(t, func(station string, o *Options) {
		o.OnAlert = onAlert
		o.SyncAlways = true
		if station == "WAR" {
			o.MaxBytes = budget
		}
	})
	ctx := context.Background()
	ts := make([]*cable.Transmission, 100)
	for i := range ts {
		ts[i] = transmission(cable.Identifier(2026, "MOSCOW", i+1), "MOSCOW", "STATE", cable.Precedences()[i%4], bytes.Repeat([]byte{byte(i)}, 2<<10))
	}
	if err := n.moscow.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	// WAR's forwarder is not running: WAR fills up and refuses the rest,
	// which stays at MOSCOW.
	forward(t, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
	waitFor(t, "MOSCOW's alert", func() bool { return alerted("MOSCOW", "next hop WAR refused custody: no space") })
	waitFor(t, "WAR's alert", func() bool { return alerted("WAR", "disk budget") })
	// A batch being handed on is held at both hops for a moment (stored
	// at WAR, not yet let go at MOSCOW), never at neither: wait for the
	// hand-overs under way to settle.
	var atWar, atMoscow uint64
	settled := func() bool {
		atWar, atMoscow = streamTransmissions(t, n.war), streamTransmissions(t, n.moscow)
		return atWar+atMoscow == 100 && atMoscow > 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	t.Logf("WAR holds %d, MOSCOW %d; alerts %v", atWar, atMoscow, alerts)
	mu.Unlock()
	if atWar+atMoscow != 100 || atMoscow == 0 {
		t.Errorf("WAR holds %d and MOSCOW %d, want 100 between them, some at MOSCOW", atWar, atMoscow)
	}

	// WAR drains: everything arrives, once.
	var atState collector
	receive(t, n.state, "STATE", atState.handle)
	forward(t, n.war, "WAR", func(context.Context, []*cable.Transmission) error { return nil })
	waitFor(t, "all 100 at STATE", func() bool { return atState.received() == 100 })
	atState.once(t, ts)
}

// TestSendFull: Send refuses with ErrFull when the node's own stream is
// out of space, and raises the alert.
func TestSendFull(t *testing.T) {
	var alerts []string
	var mu sync.Mutex
	tr := openTest(t, Options{MaxBytes: 16 << 10, OnAlert: func(station, reason string) {
		mu.Lock()
		defer mu.Unlock()
		alerts = append(alerts, station+": "+reason)
	}})
	ctx := context.Background()
	var err error
	sent := 0
	for i := 1; i < 100 && err == nil; i++ {
		x := transmission(cable.Identifier(2026, "MOSCOW", i), "MOSCOW", "STATE", cable.Routine, bytes.Repeat([]byte("A"), 1<<10))
		if err = tr.Send(ctx, []*cable.Transmission{x}); err == nil {
			sent++
		}
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Send into a full stream = %v, want ErrFull", err)
	}
	if n := streamMsgs(t, tr); n != uint64(sent) {
		t.Errorf("stream holds %d, %d sent", n, sent)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) == 0 || !strings.HasPrefix(alerts[0], "MOSCOW: custody refused") {
		t.Errorf("alerts %q", alerts)
	}
}

// BenchmarkNetwork measures cables carried end to end over three nodes
// joined by leaf connections on loopback, every one syncing each write
// (SyncAlways): 4 KB opaque transmissions sent at MOSCOW in batches of
// BatchSize, forwarded by MOSCOW to WAR and by WAR to STATE, received at
// STATE. Beside it, "raw" is JetStream alone over the same topology: a
// client of MOSCOW's server publishes the same bytes asynchronously to a
// stream on STATE (captured across both leaf links, synced), waiting for
// every acknowledgement.
func BenchmarkNetwork(b *testing.B) {
	sync := func(_ string, o *Options) {
		o.SyncAlways = true
		o.Logger = testLogger(b)
	}
	b.Run("cables", func(b *testing.B) {
		n := openNetwork(b, sync)
		ts := benchTexts(b.N)
		var c collector
		forward(b, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
		forward(b, n.war, "WAR", func(context.Context, []*cable.Transmission) error { return nil })
		receive(b, n.state, "STATE", c.handle)
		b.SetBytes(benchTextSize)
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < len(ts); i += BatchSize {
			if err := n.moscow.Send(context.Background(), ts[i:min(i+BatchSize, len(ts))]); err != nil {
				b.Fatal(err)
			}
		}
		waitFor(b, "every cable at STATE", func() bool { return c.received() >= b.N })
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cables/s")
	})
	b.Run("raw", func(b *testing.B) {
		n := openNetwork(b, sync)
		ctx := context.Background()
		if _, err := n.state.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage,
		}); err != nil {
			b.Fatal(err)
		}
		js, err := jetstream.New(n.moscow.nc)
		if err != nil {
			b.Fatal(err)
		}
		// The stream's interest reaches MOSCOW across both links.
		waitFor(b, "the raw stream's interest at MOSCOW", func() bool {
			_, err := js.Publish(ctx, "raw.probe", []byte("x"))
			return err == nil
		})
		ts := benchTexts(b.N)
		b.SetBytes(benchTextSize)
		b.ResetTimer()
		start := time.Now()
		publishAllAsync(b, js, "raw.to.STATE.R", ts)
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	})
}

// TestForwarderWakesWhenLinkComesUp: with a back-off longer than the test
// waits, the backlog still moves once the hub is back, because the
// forwarder is woken when its leaf link comes up.
func TestForwarderWakesWhenLinkComesUp(t *testing.T) {
	t.Cleanup(func(lo, hi, u time.Duration) func() {
		return func() { minBackoff, maxBackoff, unreachableAfter = lo, hi, u }
	}(minBackoff, maxBackoff, unreachableAfter))
	minBackoff, maxBackoff, unreachableAfter = time.Hour, time.Hour, 0
	var mu sync.Mutex
	tried := false
	n := openNetwork(t, func(_ string, o *Options) {
		o.OnAlert = func(station, reason string) {
			mu.Lock()
			defer mu.Unlock()
			tried = tried || station == "WAR" && strings.Contains(reason, "next hop STATE unreachable")
		}
	})
	ctx := context.Background()
	forward(t, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
	forward(t, n.war, "WAR", func(context.Context, []*cable.Transmission) error { return nil })
	if err := n.state.Close(); err != nil {
		t.Fatal(err)
	}
	ts := mixed(8, 1, "MOSCOW", "STATE")
	if err := n.moscow.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	// WAR has tried STATE, failed, and backs off for an hour.
	waitFor(t, "WAR to give up on STATE for now", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return tried
	})
	n.state = openTest(t, n.opts["STATE"])
	n.waitLinks(t)
	var atState collector
	receive(t, n.state, "STATE", atState.handle)
	waitFor(t, "the backlog at STATE", func() bool { return atState.received() == len(ts) })
	atState.once(t, ts)
}

// TestSetRoutes: new routes take effect in a running forwarder.
func TestSetRoutes(t *testing.T) {
	n := openNetwork(t, nil)
	ctx := context.Background()
	forward(t, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
	first := many(1, 1, "STATE", cable.Routine)
	if err := n.moscow.Send(ctx, first); err != nil {
		t.Fatal(err)
	}
	// By the routes it opened with: via WAR, whose forwarder is not running.
	waitFor(t, "the first cable at WAR", func() bool { return streamTransmissions(t, n.war) == 1 })
	n.moscow.SetRoutes(nil) // direct
	second := many(1, 2, "STATE", cable.Routine)
	if err := n.moscow.Send(ctx, second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second cable at STATE", func() bool { return streamTransmissions(t, n.state) == 1 })
	if n := streamTransmissions(t, n.war); n != 1 {
		t.Errorf("WAR holds %d, want only the first", n)
	}
}

// TestRouteViaItself: a relay given a route via itself (the posts' routes
// file copied to it) sends the cable on direct; it neither drops it as a
// duplicate of its own custody nor holds it.
func TestRouteViaItself(t *testing.T) {
	n := openNetwork(t, func(station string, o *Options) {
		if station == "WAR" {
			o.Routes = testRoutes(t, "* via WAR")
		}
	})
	ctx := context.Background()
	ts := mixed(6, 1, "MOSCOW", "STATE")
	if err := n.moscow.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	var atWar, atState collector
	forward(t, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
	forward(t, n.war, "WAR", atWar.handle)
	receive(t, n.state, "STATE", atState.handle)
	waitFor(t, "the cables at STATE", func() bool { return atState.received() == len(ts) })
	atState.once(t, ts)
	waitFor(t, "WAR's reports", func() bool { return atWar.received() == len(ts) })
	for _, tr := range ts {
		if f := atWar.got[key(tr)]; f.Hop != "STATE" || f.Refused != "" {
			t.Errorf("WAR forwarded %+v, want hop STATE", envelope(f))
		}
	}
	waitFor(t, "WAR's stream to empty", func() bool { return streamMsgs(t, n.war) == 0 })
}

// TestHeldSectionOutlivesSlowHandler: a section held for the rest of its
// cable stays in custody while the handler takes longer than AckWait over
// another cable; the server's second delivery of the held section is not
// mistaken for a duplicate and acknowledged, which would remove the only
// stored copy.
func TestHeldSectionOutlivesSlowHandler(t *testing.T) {
	tr := openTest(t, Options{AckWait: 300 * time.Millisecond, SectionTimeout: time.Minute})
	ctx := context.Background()
	part := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Routine, []byte("SECTION 1"))
	part.Section, part.Sections = 1, 2
	if err := tr.Send(ctx, []*cable.Transmission{part}); err != nil {
		t.Fatal(err)
	}
	slow := transmission("1946MOSCOW00512", "MOSCOW", "STATE", cable.Routine, []byte("WHOLE"))
	if err := tr.Send(ctx, []*cable.Transmission{slow}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handled := 0
	stop := receive(t, tr, "STATE", func(_ context.Context, ts []*cable.Transmission) error {
		for _, x := range ts {
			if x.CableID == slow.CableID {
				time.Sleep(1500 * time.Millisecond) // five times AckWait
				mu.Lock()
				handled++
				mu.Unlock()
			}
			if x.CableID == part.CableID {
				t.Errorf("cable %s handed over with only one of its two sections: %+v", x.CableID, envelope(x))
			}
		}
		return nil
	})
	waitFor(t, "the slow cable handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handled >= 1
	})
	time.Sleep(time.Second) // time for redeliveries to come round
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, tr); n != 1 {
		t.Errorf("stream holds %d messages after the receiver stopped, want 1: the held section", n)
	}
}

// TestForwardKeepsRefusedUntilRecorded: a message the forwarder refuses
// stays in custody until the handler has recorded the refusal; a handler
// that fails sees it again.
func TestForwardKeepsRefusedUntilRecorded(t *testing.T) {
	tr := openTest(t, Options{Stations: []string{"WAR"}, RetryDelay: 50 * time.Millisecond})
	if err := tr.nc.PublishMsg(&natsgo.Msg{Subject: "cable.WAR.fwd.LONDON.R", Data: []byte("garbage")}); err != nil {
		t.Fatal(err)
	}
	if err := tr.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the garbage in the stream", func() bool { return streamMsgs(t, tr) == 1 })
	var mu sync.Mutex
	calls := 0
	forward(t, tr, "WAR", func(_ context.Context, ts []*cable.Transmission) error {
		mu.Lock()
		defer mu.Unlock()
		if len(ts) != 1 || ts[0].Refused == "" {
			t.Errorf("handed %d transmissions, want the one refused", len(ts))
		}
		calls++
		if calls == 1 {
			return errors.New("records store unavailable")
		}
		return nil
	})
	waitFor(t, "the refusal recorded on the second try", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls >= 2
	})
	waitFor(t, "the stream to empty", func() bool { return streamMsgs(t, tr) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("handler called %d times, want 2", calls)
	}
}

// TestLeafLinksUncompressed checks that every leaf link, on both of its
// ends, runs without compression: what it carries is ciphertext.
func TestLeafLinksUncompressed(t *testing.T) {
	n := openNetwork(t, nil)
	for name, tr := range map[string]*Transport{"STATE": n.state, "WAR": n.war, "MOSCOW": n.moscow} {
		lz, err := tr.srv.Leafz(nil)
		if err != nil {
			t.Fatalf("%s: leafz: %v", name, err)
		}
		if len(lz.Leafs) == 0 {
			t.Fatalf("%s: no leaf links", name)
		}
		for _, l := range lz.Leafs {
			if l.Compression != "off" {
				t.Errorf("%s: leaf link to %s has compression %q, want off", name, l.Name, l.Compression)
			}
		}
	}
}
