package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// owedWait bounds how long Receive holds back a less urgent batch
	// while the server reports more urgent messages pending that have not
	// arrived yet.
	owedWait   = time.Second
	ackTimeout = 10 * time.Second
	// fetchWait is how long one pull request waits for messages. On
	// shutdown Receive lets the request in flight run out, handing back
	// what it brings, so that no message is left with the server
	// believing it delivered: fetchWait bounds that wait.
	fetchWait = time.Second
)

// ConsumerName returns the durable consumer that receives precedence p
// for station: rx-MOSCOW-Z.
func ConsumerName(station string, p cable.Precedence) string {
	return "rx-" + station + "-" + p.Prosign()
}

// Receive delivers transmissions addressed to station to h in batches of
// at most BatchSize, one precedence per batch, most urgent first: while a
// more urgent message is waiting no less urgent batch is handed over, and
// a FLASH message arriving while a ROUTINE backlog drains goes out in the
// next batch. Every message of a batch is acknowledged, and so removed
// from the stream, once h returns nil; if h fails the batch is delivered
// again after Options.RetryDelay. A malformed message (bad envelope, text
// not matching its SHA-256) is handed to h with Transmission.Refused set,
// so the receiver can record it; h must never store it as a cable.
//
// Receive blocks until ctx is done and returns nil, or returns a fatal
// error; after Close it returns ErrClosed. Several Receive calls for one
// station, in one process or many, share its durable consumers and so
// share the work.
func (t *Transport) Receive(ctx context.Context, station string, h func(context.Context, []*cable.Transmission) error) error {
	if !cable.ValidStationCode(station) {
		return cable.Errorf(cable.EINVALID, "%q is not a station code", station)
	}
	if h == nil {
		return cable.Errorf(cable.EINVALID, "no handler")
	}
	if err := t.enter(); err != nil {
		return err
	}
	defer t.active.Done()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-t.closing:
			cancel(ErrClosed)
		case <-ctx.Done():
		}
	}()

	r := &receiver{t: t, station: station, h: h, log: t.log.With("station", station)}
	err := r.run(ctx)
	if err == nil && errors.Is(context.Cause(ctx), ErrClosed) {
		return ErrClosed
	}
	return err
}

// lane is one precedence of a receiver: its consumer, the goroutine that
// pulls from it into ch, and the messages taken from ch not yet handed over.
type lane struct {
	p    cable.Precedence
	cons jetstream.Consumer
	ch   chan jetstream.Msg
	held []jetstream.Msg
	// owed is how many messages the server last reported pending on the
	// consumer, not yet delivered: while it is above zero more are on
	// their way even if none has arrived.
	owed uint64
}

func (l *lane) take(m jetstream.Msg) {
	l.held = append(l.held, m)
	if md, err := m.Metadata(); err == nil {
		l.owed = md.NumPending
	} else if l.owed > 0 {
		l.owed--
	}
}

// fill moves what ch holds into held, up to a batch.
func (l *lane) fill() {
	for len(l.held) < BatchSize {
		select {
		case m := <-l.ch:
			l.take(m)
		default:
			return
		}
	}
}

type receiver struct {
	t       *Transport
	station string
	h       func(context.Context, []*cable.Transmission) error
	log     *slog.Logger
	lanes   []*lane
}

func (r *receiver) run(ctx context.Context) error {
	t := r.t
	for _, p := range cable.Precedences() {
		cons, err := t.js.CreateOrUpdateConsumer(ctx, t.opts.Stream, jetstream.ConsumerConfig{
			Durable:       ConsumerName(r.station, p),
			Description:   fmt.Sprintf("%s cables for %s", p, r.station),
			FilterSubject: t.subject(r.station, p),
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.opts.AckWait,
			MaxDeliver:    -1, // a cable in custody is never dropped
			MaxAckPending: maxAckPending,
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nats: receive %s: consumer %s: %w", r.station, ConsumerName(r.station, p), err)
		}
		r.lanes = append(r.lanes, &lane{p: p, cons: cons, ch: make(chan jetstream.Msg, BatchSize), owed: cons.CachedInfo().NumPending})
	}

	pctx, pcancel := context.WithCancel(ctx)
	errc := make(chan error, len(r.lanes))
	var pumps sync.WaitGroup
	for _, l := range r.lanes {
		pumps.Add(1)
		go func() {
			defer pumps.Done()
			r.pump(pctx, l, errc)
		}()
	}
	defer func() {
		pcancel()
		pumps.Wait()
		r.release()
	}()

	// deadline bounds a wait for owed messages: another receiver sharing
	// the consumer may have taken them.
	var deadline time.Time
	for {
		for _, l := range r.lanes {
			l.fill()
		}
		next := -1
		for i, l := range r.lanes {
			if len(l.held) > 0 {
				next = i
				break
			}
		}
		var timeout <-chan time.Time
		if next > 0 && r.owedBefore(next) {
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(owedWait)
			}
			if now.Before(deadline) {
				timeout = time.After(deadline.Sub(now))
				next = -1 // a more urgent message is on its way: wait for it
			} else {
				for _, l := range r.lanes {
					l.owed = 0
				}
			}
		}
		if next >= 0 {
			deadline = time.Time{}
			if err := r.deliver(ctx, r.lanes[next]); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case m := <-r.lanes[0].ch:
			r.lanes[0].take(m)
		case m := <-r.lanes[1].ch:
			r.lanes[1].take(m)
		case m := <-r.lanes[2].ch:
			r.lanes[2].take(m)
		case m := <-r.lanes[3].ch:
			r.lanes[3].take(m)
		case <-timeout:
		}
	}
}

func (r *receiver) owedBefore(i int) bool {
	for _, l := range r.lanes[:i] {
		if l.owed > 0 {
			return true
		}
	}
	return false
}

// pump moves messages from a lane's consumer to its channel until ctx is
// done or the consumer fails. It pulls with one request at a time and,
// once ctx is done, hands back whatever the last request still brings.
func (r *receiver) pump(ctx context.Context, l *lane, errc chan<- error) {
	for ctx.Err() == nil {
		b, err := l.cons.Fetch(BatchSize, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			errc <- fmt.Errorf("nats: receive %s %s: %w", r.station, l.p, err)
			return
		}
		for m := range b.Messages() {
			select {
			case l.ch <- m:
			case <-ctx.Done():
				r.nak(m, 0)
			}
		}
		if err := b.Error(); err != nil && ctx.Err() == nil {
			if fatalFetchError(err) {
				errc <- fmt.Errorf("nats: receive %s %s: %w", r.station, l.p, err)
				return
			}
			r.log.Warn("nats: pull request failed; retrying", "precedence", l.p.String(), "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// fatalFetchError reports whether a pull request failed for good.
func fatalFetchError(err error) bool {
	return errors.Is(err, natsgo.ErrConnectionClosed) ||
		errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound)
}

// release hands every message fetched but not delivered back to the
// server at once, so that it need not wait out AckWait.
func (r *receiver) release() {
	for _, l := range r.lanes {
		l.fill()
		for len(l.ch) > 0 || len(l.held) > 0 {
			for _, m := range l.held {
				r.nak(m, 0)
			}
			l.held = l.held[:0]
			l.fill()
		}
	}
}

// nak hands m back for redelivery after delay. Even for "at once" it
// names a delay: the server keeps a plain NAK in memory only, so after a
// restart the message would wait out AckWait, while a delayed one is
// written to the consumer's state.
func (r *receiver) nak(m jetstream.Msg, delay time.Duration) {
	err := m.NakWithDelay(max(delay, time.Millisecond))
	if err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
		r.log.Warn("nats: nak failed; the message returns after AckWait", "subject", m.Subject(), "err", err)
	}
}

// deliver hands the next batch of l to the handler and acknowledges it.
// It returns only fatal errors.
func (r *receiver) deliver(ctx context.Context, l *lane) error {
	n := min(len(l.held), BatchSize)
	batch := make([]jetstream.Msg, n)
	copy(batch, l.held)
	l.held = l.held[:copy(l.held, l.held[n:])]

	msgs := batch[:0]
	trs := make([]*cable.Transmission, 0, n)
	for _, m := range batch {
		tr, err := decodeTransmission(m.Headers(), m.Data())
		if err == nil && (tr.Destination != r.station || tr.Precedence != l.p) {
			err = fmt.Errorf("envelope says %s for %s on the %s subject for %s", tr.Precedence, tr.Destination, l.p, r.station)
		}
		if err != nil {
			// The receiving centre records it as a security event and
			// acknowledges it; it is never shown as a cable.
			r.log.Warn("nats: malformed transmission", "subject", m.Subject(), "err", err)
			tr.Refused = err.Error()
			if !tr.Precedence.Valid() {
				tr.Precedence = l.p
			}
		}
		msgs = append(msgs, m)
		trs = append(trs, tr)
	}
	if len(trs) == 0 {
		return nil
	}

	if err := r.handle(ctx, msgs, trs); err != nil {
		delay := r.t.opts.RetryDelay
		if ctx.Err() != nil {
			delay = 0 // shutting down: let the next receiver have it at once
		} else {
			r.log.Warn("nats: handler refused batch; it will be delivered again",
				"precedence", l.p.String(), "count", len(trs), "first", trs[0].CableID, "retry_in", delay, "err", err)
		}
		for _, m := range msgs {
			r.nak(m, delay)
		}
		return nil
	}
	return r.ack(ctx, msgs)
}

// handle runs the handler, telling the server the batch is in progress
// while it runs so that a slow handler does not see it redelivered.
func (r *receiver) handle(ctx context.Context, msgs []jetstream.Msg, trs []*cable.Transmission) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(max(r.t.opts.AckWait/3, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for _, m := range msgs {
					_ = m.InProgress() // best effort: the worst case is a redelivery
				}
			}
		}
	}()
	err := r.h(ctx, trs)
	close(done)
	wg.Wait()
	return err
}

// ack acknowledges every message of a batch and waits for the server to
// confirm, so that custody is settled before the next batch: a batch is
// one consumer's, and a consumer processes the acknowledgements of one
// connection in order, so the confirmation of the last one, asked for
// after all the others were sent, covers them all. If an acknowledgement
// is lost all the same (a reconnect mid-batch), the server delivers the
// message again after AckWait: the handler sees it twice and the records
// store keeps it once; a cable is never lost.
func (r *receiver) ack(ctx context.Context, msgs []jetstream.Msg) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	last := len(msgs) - 1
	var err error
	for _, m := range msgs[:last] {
		if err = m.Ack(); err != nil {
			break
		}
	}
	if err == nil {
		err = msgs[last].DoubleAck(actx)
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, natsgo.ErrConnectionClosed) {
		return fmt.Errorf("nats: receive %s: ack: %w", r.station, err)
	}
	r.log.Warn("nats: acknowledgement not confirmed; the batch may be delivered again",
		"count", len(msgs), "err", err)
	return nil
}

// Pending returns, for each precedence, how many transmissions addressed
// to station the stream holds: not yet delivered or delivered and not yet
// acknowledged.
func (t *Transport) Pending(ctx context.Context, station string) (map[cable.Precedence]uint64, error) {
	if !cable.ValidStationCode(station) {
		return nil, cable.Errorf(cable.EINVALID, "%q is not a station code", station)
	}
	out := make(map[cable.Precedence]uint64, 4)
	var counts map[string]uint64 // subject counts, fetched if a consumer does not exist yet
	for _, p := range cable.Precedences() {
		cons, err := t.js.Consumer(ctx, t.opts.Stream, ConsumerName(station, p))
		if err == nil {
			info, ierr := cons.Info(ctx)
			if ierr == nil {
				out[p] = info.NumPending + uint64(info.NumAckPending)
				continue
			}
			err = ierr
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("nats: pending %s %s: %w", station, p, err)
		}
		// No one has received yet: count the stream's messages directly.
		if counts == nil {
			s, err := t.js.Stream(ctx, t.opts.Stream)
			if err != nil {
				return nil, fmt.Errorf("nats: pending %s: %w", station, err)
			}
			info, err := s.Info(ctx, jetstream.WithSubjectFilter(t.prefix+".to."+station+".*"))
			if err != nil {
				return nil, fmt.Errorf("nats: pending %s: %w", station, err)
			}
			counts = info.State.Subjects
			if counts == nil {
				counts = map[string]uint64{}
			}
		}
		out[p] = counts[t.subject(station, p)]
	}
	return out, nil
}
