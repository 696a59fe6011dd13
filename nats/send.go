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

// Send publishes every transmission and returns once JetStream has
// acknowledged each one, that is once the stream holds it on file. A
// transmission already in the stream within the duplicate window is
// stored once. Bad transmissions (including any larger than the channel
// carries) are refused with EINVALID naming every one before anything is
// sent; a failed publish returns an error naming the cable.
func (t *Transport) Send(ctx context.Context, ts []*cable.Transmission) error {
	if len(ts) == 0 {
		return nil
	}
	if err := t.enter(); err != nil {
		return err
	}
	defer t.active.Done()

	msgs := make([]*natsgo.Msg, len(ts))
	var ps cable.Problems
	for i, tr := range ts {
		field := "transmissions[" + strconv.Itoa(i) + "]"
		sum := checkTransmission(tr, field, &ps)
		if sum == "" || !tr.Precedence.Valid() || !cable.ValidStationCode(tr.Destination) {
			continue
		}
		h := encodeHeader(tr, sum, t.opts.Stream)
		if size, limit := headerSize(h)+len(tr.Text), t.maxPayload; size > limit {
			ps.Add(field+".text", "cable %s to %s is %d bytes with its envelope, more than the %d the channel carries",
				tr.CableID, tr.Destination, size, limit)
			continue
		}
		msgs[i] = &natsgo.Msg{Subject: t.subject(tr.Destination, tr.Precedence), Header: h, Data: tr.Text}
	}
	if err := ps.Err("transmission refused"); err != nil {
		return err
	}

	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		for {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("nats: send: %w", err)
			}
			f, err := t.js.PublishMsgAsync(m, jetstream.WithStallWait(stallWait))
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				continue // the server is behind; wait again, honouring ctx
			}
			if err != nil {
				return fmt.Errorf("nats: send cable %s to %s: %w", ts[i].CableID, ts[i].Destination, err)
			}
			futures[i] = f
			break
		}
	}

	var errs []error
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, fmt.Errorf("cable %s to %s: %w", ts[i].CableID, ts[i].Destination, err))
		case <-ctx.Done():
			return fmt.Errorf("nats: send: waiting for custody of cable %s to %s: %w", ts[i].CableID, ts[i].Destination, ctx.Err())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("nats: send: %d of %d transmissions not taken into custody: %w", len(errs), len(ts), errors.Join(errs...))
	}
	return nil
}
