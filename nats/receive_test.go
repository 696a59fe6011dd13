package nats

import (
	"context"
	"fmt"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/nats-io/nats.go/jetstream"
)

// pendingMsg is a message delivered with pending more behind it.
type pendingMsg struct {
	jetstream.Msg
	pending uint64
}

func (m *pendingMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumPending: m.pending}, nil
}

// TestTakeWaitsForMoreUrgent checks that less urgent messages top up a
// batch only once nothing more urgent is still to come: the server's
// pending count, or the rest of a batch message the pump is still
// handing over.
func TestTakeWaitsForMoreUrgent(t *testing.T) {
	p := &puller{t: &Transport{opts: Options{ReceiveBatch: 8}}}
	for _, pr := range cable.Precedences() {
		p.lanes = append(p.lanes, &lane{p: pr})
	}
	r := &receiver{p: p}
	immediate, routine := p.lanes[1], p.lanes[3]
	now := time.Now()

	// Two of a batch of three IMMEDIATE have arrived, the server has
	// nothing more: the third is still in the pump's hands.
	b := &batchMsg{m: &pendingMsg{}, size: 3}
	immediate.take(&entry{b: b, index: 0})
	immediate.take(&entry{b: b, index: 1})
	for range 4 {
		routine.take(&pendingMsg{})
	}
	batch, precs := r.take(immediate, now)
	if fmt.Sprint(precs) != "[IMMEDIATE IMMEDIATE]" || len(batch) != 2 {
		t.Fatalf("with an IMMEDIATE on its way, took %v", precs)
	}

	// The last of the batch arrives, then a message after which the
	// server reports one more IMMEDIATE.
	immediate.take(&entry{b: b, index: 2})
	immediate.take(&pendingMsg{pending: 1})
	if _, precs = r.take(immediate, now); fmt.Sprint(precs) != "[IMMEDIATE IMMEDIATE]" {
		t.Fatalf("with an IMMEDIATE pending at the server, took %v", precs)
	}

	// Nothing more urgent to come: ROUTINE fills the batch.
	immediate.take(&pendingMsg{})
	if _, precs = r.take(immediate, now); fmt.Sprint(precs) != "[IMMEDIATE ROUTINE ROUTINE ROUTINE ROUTINE]" {
		t.Fatalf("with nothing more urgent to come, took %v", precs)
	}
}

// TestReceiveKeepsHeldAliveWhileBusy: a lane always ready kept the run
// loop from its wait, where alone it told the server that what it holds is
// in progress, and handler calls shorter than AckWait/3 never ticked
// handle's own: ROUTINE held behind a long IMMEDIATE backlog was
// delivered again after AckWait and handed over twice.
func TestReceiveKeepsHeldAliveWhileBusy(t *testing.T) {
	tr := openTest(t, Options{AckWait: 2 * time.Second, ReceiveBatch: 32})
	ctx := context.Background()
	routine := many(50, 1, "STATE", cable.Routine)
	immediate := many(6000, 10001, "STATE", cable.Immediate)
	if err := tr.Send(ctx, routine); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(immediate); i += BatchSize {
		if err := tr.Send(ctx, immediate[i:min(i+BatchSize, len(immediate))]); err != nil {
			t.Fatal(err)
		}
	}
	c := collector{after: func(int, []*cable.Transmission) { time.Sleep(20 * time.Millisecond) }}
	receive(t, tr, "STATE", c.handle)
	waitFor(t, "every cable", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.got) == 6050
	})
	time.Sleep(time.Second)
	seen := map[string]int{}
	for _, b := range c.snapshot() {
		for _, id := range b.ids {
			seen[id]++
		}
	}
	twice := 0
	for _, x := range routine {
		if seen[key(x)] > 1 {
			twice++
		}
	}
	t.Logf("handed over %d transmissions for 6050 cables", c.received())
	if twice > 0 {
		t.Errorf("%d of the 50 ROUTINE, held in their lane from the start, handed over twice", twice)
	}
}
