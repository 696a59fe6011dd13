package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Send takes every transmission into this node's custody and returns once
// the node's stream holds each one on file (synced, with SyncAlways). A
// transmission to a station this node hosts goes straight to it
// (Hop = destination); any other waits for Forward at its origin
// (Hop = origin), so a post takes cables while its link is down. Send sets
// tr.Hop. A transmission already in the stream within the duplicate window
// is stored once.
//
// Bad transmissions are refused with EINVALID naming every one before
// anything is sent: a malformed envelope, an origin this node does not
// host, a text longer than MaxPayload. A stream out of space refuses with
// an error holding ErrFull (and raises the alert); any other failed publish
// returns an error naming the cable.
func (t *Transport) Send(ctx context.Context, ts []*cable.Transmission) error {
	if len(ts) == 0 {
		return nil
	}
	if err := t.enter(); err != nil {
		return err
	}
	defer t.active.Done()

	msgs := make([]*natsgo.Msg, len(ts))
	hops := make([]string, len(ts))
	var ps cable.Problems
	for i, tr := range ts {
		field := "transmissions[" + strconv.Itoa(i) + "]"
		n := len(ps)
		sum := checkTransmission(tr, field, &ps)
		if tr == nil {
			continue
		}
		if cable.ValidStationCode(tr.Origin) && !t.hosted[tr.Origin] {
			ps.Add(field+".origin", "cable %s: origin %s is not hosted by this node", tr.CableID, tr.Origin)
		}
		if len(ps) > n || sum == "" {
			continue
		}
		if limit := t.MaxPayload(); len(tr.Text) > limit {
			ps.Add(field+".text", "cable %s to %s is %d bytes, more than the %d the channel carries",
				tr.CableID, tr.Destination, len(tr.Text), limit)
			continue
		}
		subject, hop := t.fwdSubject(tr.Origin, tr.Destination, tr.Precedence), tr.Origin
		if t.hosted[tr.Destination] {
			subject, hop = t.inSubject(tr.Destination, tr.Precedence), tr.Destination
		}
		h := encodeHeader(tr, sum, t.opts.Stream, hop, []string{tr.Origin})
		msgs[i] = &natsgo.Msg{Subject: subject, Header: h, Data: tr.Text}
		hops[i] = hop
	}
	if err := ps.Err("transmission refused"); err != nil {
		return err
	}

	// Transmissions on one subject go as batches: one synced write each.
	out := pack(msgs, t.batchBytes(), nil)
	futures := make([]jetstream.PubAckFuture, len(out))
	for i, o := range out {
		for {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("nats: send: %w", err)
			}
			f, err := t.js.PublishMsgAsync(o.msg, jetstream.WithStallWait(stallWait))
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				continue // the server is behind; wait again, honouring ctx
			}
			if err != nil {
				return fmt.Errorf("nats: send %s: %w", describe(ts, o.of), err)
			}
			futures[i] = f
			break
		}
	}

	var errs []error
	full := false
	for i, f := range futures {
		of := out[i].of
		select {
		case <-f.Ok():
			for _, j := range of {
				ts[j].Hop = hops[j]
			}
		case err := <-f.Err():
			if isFull(err) {
				full = true
				t.alert(ts[of[0]].Origin, fmt.Sprintf("custody refused: stream %s is full (%v)", t.opts.Stream, err))
				err = fmt.Errorf("%w: %w", ErrFull, err)
			}
			for _, j := range of {
				errs = append(errs, fmt.Errorf("cable %s to %s: %w", ts[j].CableID, ts[j].Destination, err))
			}
		case <-ctx.Done():
			return fmt.Errorf("nats: send: waiting for custody of %s: %w", describe(ts, of), ctx.Err())
		}
	}
	if len(errs) > 0 {
		err := fmt.Errorf("nats: send: %d of %d transmissions not taken into custody: %w", len(errs), len(ts), errors.Join(errs...))
		if full {
			t.log.Warn("nats: send refused for lack of space", "err", err)
		}
		return err
	}
	return nil
}

// describe names the transmissions of ts at indexes of, for an error.
func describe(ts []*cable.Transmission, of []int) string {
	s := fmt.Sprintf("cable %s to %s", ts[of[0]].CableID, ts[of[0]].Destination)
	if len(of) > 1 {
		s += fmt.Sprintf(" and %d more in its batch", len(of)-1)
	}
	return s
}

// batchBytes is the largest batch this node makes: what a message may
// carry, and no more than an eighth of the stream's disk budget, so that
// a batch never needs more room than a nearly full stream has.
func (t *Transport) batchBytes() int {
	n := t.MaxPayload() - batchRoom
	if t.opts.MaxBytes > 0 {
		n = int(min(int64(n), t.opts.MaxBytes/8))
	}
	return n
}
