package nats

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/nats-io/nats.go/jetstream"
)

// storedOrder lists, in stream order, the precedence (from the subject) and
// key of every transmission tr's stream holds, batches expanded.
func storedOrder(tb testing.TB, tr *Transport) (precs []cable.Precedence, ids []string) {
	tb.Helper()
	ctx := context.Background()
	s, err := tr.js.Stream(ctx, tr.opts.Stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		p, _ := cable.ParsePrecedence(m.Subject[strings.LastIndex(m.Subject, ".")+1:])
		if m.Header.Get(HeaderBatch) == "" {
			precs = append(precs, p)
			ids = append(ids, m.Header.Get(HeaderCableID))
			continue
		}
		es, err := decodeBatch(m.Header, m.Data)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range es {
			precs = append(precs, p)
			ids = append(ids, e.header.Get(HeaderCableID))
		}
	}
	return precs, ids
}

// forwardingHubDown is a network whose MOSCOW and WAR forward and whose hub,
// STATE, is down.
func forwardingHubDown(t *testing.T) *network {
	n := openNetwork(t, nil)
	forward(t, n.moscow, "MOSCOW", func(context.Context, []*cable.Transmission) error { return nil })
	forward(t, n.war, "WAR", func(context.Context, []*cable.Transmission) error { return nil })
	if err := n.state.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestForwardShedBacklogInOrder is TestNetworkLinkDown with a backlog of
// more than a batch of each precedence. WAR's forwarder sheds what it
// holds beyond a batch for STATE while STATE is down; when STATE returns
// the less urgent wait for the shed to come back, so the backlog still
// arrives most urgent first, once each.
func TestForwardShedBacklogInOrder(t *testing.T) {
	n := forwardingHubDown(t)
	ctx := context.Background()
	const total = 1600 // 400 of each precedence
	ts := mixed(total, 1, "MOSCOW", "STATE")
	for i := 0; i < total; i += BatchSize {
		if err := n.moscow.Send(ctx, ts[i:min(i+BatchSize, total)]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the backlog at WAR", func() bool {
		return streamTransmissions(t, n.war) >= total && streamMsgs(t, n.moscow) == 0
	})
	time.Sleep(6 * time.Second) // WAR tries STATE a few times, backing off

	n.state = openTest(t, n.opts["STATE"])
	n.waitLinks(t)
	waitFor(t, "the backlog at STATE", func() bool { return streamMsgs(t, n.war) == 0 })
	precs, ids := storedOrder(t, n.state)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	t.Logf("STATE holds %d transmissions, %d distinct, %d duplicates", len(ids), len(seen), dups)
	if len(seen) != total {
		t.Errorf("STATE holds %d distinct cables, want %d", len(seen), total)
	}
	if !slices.IsSorted(precs) {
		// Summarise the order as runs.
		var runs []string
		for i := 0; i < len(precs); {
			j := i
			for j < len(precs) && precs[j] == precs[i] {
				j++
			}
			runs = append(runs, precs[i].Prosign()+":"+strconv.Itoa(j-i))
			i = j
		}
		t.Errorf("WAR forwarded the backlog out of precedence order: %v", runs)
	}
}

// TestForwardShedKeepsBatchesWhole: WAR holds batches of 25 FLASH for
// STATE, which is down. A batch that straddles the batch WAR keeps is kept
// whole, not shed in part: handed back in part it would come back whole
// once the rest was forwarded, and that rest would be forwarded twice.
func TestForwardShedKeepsBatchesWhole(t *testing.T) {
	n := forwardingHubDown(t)
	ctx := context.Background()
	const total = 400
	ts := many(total, 1, "STATE", cable.Flash)
	for i := 0; i < total; i += 25 {
		if err := n.moscow.Send(ctx, ts[i:i+25]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "MOSCOW to forward", func() bool { return streamMsgs(t, n.moscow) == 0 })
	}
	waitFor(t, "the backlog at WAR", func() bool { return streamTransmissions(t, n.war) >= total })
	time.Sleep(6 * time.Second)
	n.state = openTest(t, n.opts["STATE"])
	n.waitLinks(t)
	waitFor(t, "WAR to empty", func() bool { return streamMsgs(t, n.war) == 0 })
	_, ids := storedOrder(t, n.state)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	t.Logf("STATE holds %d transmissions, %d distinct", len(ids), len(seen))
	if len(ids) != len(seen) {
		t.Errorf("WAR forwarded %d transmissions twice", len(ids)-len(seen))
	}
}

// TestForwardDownHopSparesOtherHops: WAR holds over a thousand PRIORITY
// messages for MOSCOW, which is down, ahead of PRIORITY for STATE, which
// is up. What is shed for MOSCOW stays pending at the server; with the
// consumers' allowance as it was (4 batches) it filled the allowance, and
// PRIORITY for STATE never came while ROUTINE for STATE flowed.
func TestForwardDownHopSparesOtherHops(t *testing.T) {
	n := openNetwork(t, nil)
	ctx := context.Background()
	if err := n.moscow.Close(); err != nil {
		t.Fatal(err)
	}
	mk := func(serial int, dest string, p cable.Precedence) *cable.Transmission {
		id := cable.Identifier(2026, "WAR", serial)
		return transmission(id, "WAR", dest, p, []byte("SEALED "+id))
	}
	// One message each: what a hub releasing one cable a cycle leaves.
	for i := range 4*BatchSize + 100 {
		if err := n.war.Send(ctx, []*cable.Transmission{mk(1+i, "MOSCOW", cable.Priority)}); err != nil {
			t.Fatal(err)
		}
	}
	var toState []*cable.Transmission
	for i := range 10 {
		toState = append(toState, mk(5001+i, "STATE", cable.Priority), mk(6001+i, "STATE", cable.Routine))
	}
	if err := n.war.Send(ctx, toState); err != nil {
		t.Fatal(err)
	}
	var atState collector
	receive(t, n.state, "STATE", atState.handle)
	forward(t, n.war, "WAR", func(context.Context, []*cable.Transmission) error { return nil })
	deadline := time.Now().Add(15 * time.Second)
	for atState.received() < len(toState) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	counts := map[cable.Precedence]int{}
	for _, b := range atState.snapshot() {
		for _, p := range b.precs {
			counts[p]++
		}
	}
	if counts[cable.Priority] != 10 || counts[cable.Routine] != 10 {
		t.Errorf("at STATE %v, want 10 PRIORITY and 10 ROUTINE: one precedence stuck behind MOSCOW's backlog", counts)
	}
}
