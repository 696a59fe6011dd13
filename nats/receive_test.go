package nats

import (
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
