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
	// owedWait bounds how long a puller holds back a less urgent batch
	// while the server reports more urgent messages pending that have not
	// arrived yet.
	owedWait   = time.Second
	ackTimeout = 10 * time.Second
	// fetchWait is how long one pull request waits for messages. On
	// shutdown a puller lets the request in flight run out, handing back
	// what it brings, so that no message is left with the server
	// believing it delivered: fetchWait bounds that wait.
	fetchWait = time.Second
	// maxHeld is the most transmissions a lane holds: a batch brings
	// many at once.
	maxHeld = 4 * BatchSize
	// fetchBytes is what one pull request asks for at most, unless a
	// single message may be larger.
	fetchBytes = 16 << 20
	// maxHeldSections bounds the sections Receive holds while it waits
	// for the rest of their cables (see receiver.bound).
	maxHeldSections = 8 * BatchSize
	// rxMaxAckPending leaves room for the held sections beside the batches
	// in flight, and for the transmissions the handler keeps for later:
	// they stay pending at the server while they wait, and were they to
	// fill the allowance, the precedence would stop for every station.
	rxMaxAckPending = maxHeldSections + 64*BatchSize
)

// maxHeldBytes bounds the bytes of the sections Receive holds while it
// waits for the rest of their cables (see receiver.bound); a variable so
// that a test need not send hundreds of megabytes.
var maxHeldBytes = 256 << 20

// ConsumerName returns the durable consumer that receives precedence p
// for station: rx-MOSCOW-Z.
func ConsumerName(station string, p cable.Precedence) string {
	return "rx-" + station + "-" + p.Prosign()
}

// Receive delivers transmissions addressed to station, which this node
// hosts, to h in batches of at most Options.ReceiveBatch, most urgent
// first: while a more urgent message is waiting no less urgent batch is
// handed over, and a FLASH message arriving while a ROUTINE backlog
// drains goes out in the next batch. A batch begins with the most urgent
// messages held; unless they are FLASH, the less urgent ones held fill
// the rest of it, most urgent first, while nothing more urgent is still to
// come from the server, so that a receiving centre does not pay a commit
// for each precedence of a mixed stream. A FLASH batch holds
// only FLASH, and so waits for nothing less urgent. Every message of a
// batch is acknowledged, and so removed from the stream, once h returns
// nil; if h fails the batch is delivered again after Options.RetryDelay.
//
// The sections of a cable (Sections > 1) are held until every one of the
// same cable id, kind and origin is here, then handed over together in one
// batch, in section order; a second copy of a held section is dropped. A
// cable of which no new section arrives for Options.SectionTimeout (or
// one that alone is more than can be held: 256 MiB or 2048 sections) is
// handed over as one transmission with Incomplete set and no text, and
// its sections are acknowledged: the centre decides whether it was a
// duplicate or a truncation. When the sections of several cables are more
// than can be held, the cable begun last is handed back to come again
// after Options.RetryDelay, once the others have had room to complete.
//
// A malformed message (bad envelope, text not matching its SHA-256, a
// section outside its cable's sections, oversize) is handed to h with
// Transmission.Refused set, so the receiver can record it; h must never
// store it as a cable.
//
// Receive blocks until ctx is done and returns nil, or returns a fatal
// error; after Close it returns ErrClosed. Several Receive calls for one
// station, in one process or many, share its durable consumers and so
// share the work (a cable's sections may then be split between them and
// come out incomplete: run one per station when cables are sectioned).
func (t *Transport) Receive(ctx context.Context, station string, h func(context.Context, []*cable.Transmission) error) error {
	if err := t.checkStation(station, h); err != nil {
		return err
	}
	if err := t.enter(); err != nil {
		return err
	}
	defer t.active.Done()

	ctx, cancel := t.closingContext(ctx)
	defer cancel()

	r := &receiver{groups: map[groupKey]*sectionGroup{}}
	p := &puller{
		t: t, station: station, h: h, log: t.log.With("station", station),
		maxAckPending: rxMaxAckPending,
		consumer: func(p cable.Precedence) (string, string, string) {
			return ConsumerName(station, p), t.inSubject(station, p), fmt.Sprintf("%s cables for %s", p, station)
		},
	}
	r.p = p
	p.deliver, p.wake, p.housekeep, p.extra, p.onExit = r.deliver, r.wake, r.expire, r.held, r.release
	err := p.run(ctx)
	if err == nil && errors.Is(context.Cause(ctx), ErrClosed) {
		return ErrClosed
	}
	return err
}

func (t *Transport) checkStation(station string, h func(context.Context, []*cable.Transmission) error) error {
	if !cable.ValidStationCode(station) {
		return cable.Errorf(cable.EINVALID, "%q is not a station code", station)
	}
	if !t.hosted[station] {
		return cable.Errorf(cable.EINVALID, "station %s is not hosted by this node", station)
	}
	if h == nil {
		return cable.Errorf(cable.EINVALID, "no handler")
	}
	return nil
}

// lane is one precedence of a puller: its consumer, the goroutine that
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
	// retryAt, when in the future, holds the lane back: nothing it holds
	// can be handled before then (Forward's next hops are backing off).
	retryAt time.Time
	// taken, when set, hears the stream sequence of each message taken.
	taken func(seq uint64)
}

func (l *lane) take(m jetstream.Msg) {
	l.held = append(l.held, m)
	l.retryAt = time.Time{} // it may be for a next hop that is not backing off
	if md, err := m.Metadata(); err == nil {
		if l.taken != nil {
			l.taken(md.Sequence.Stream)
		}
		l.owed = md.NumPending
		if e, ok := m.(*entry); ok {
			// The rest of its batch is on its way too, in the pump's hands.
			l.owed += uint64(e.b.size - 1 - e.index)
		}
	} else if l.owed > 0 {
		l.owed--
	}
}

// fill moves everything ch holds into held. The consumer's MaxAckPending
// bounds it; what is held is kept alive (puller.keepAlive).
func (l *lane) fill() {
	for len(l.held) < maxHeld {
		select {
		case m := <-l.ch:
			l.take(m)
		default:
			return
		}
	}
}

// recv is the lane's channel while it holds fewer than maxHeld messages,
// else nil, so that a full lane takes nothing more until it hands some
// over (the pump then waits, and the server keeps the rest).
func (l *lane) recv() <-chan jetstream.Msg {
	if len(l.held) >= maxHeld {
		return nil
	}
	return l.ch
}

// ready reports whether the lane holds messages it may hand over now.
func (l *lane) ready(now time.Time) bool {
	return len(l.held) > 0 && !now.Before(l.retryAt)
}

// puller pulls a station's messages of one kind (Receive's in subjects,
// Forward's fwd subjects) through one durable consumer per precedence, its
// lanes, and hands them to deliver most urgent lane first.
type puller struct {
	t             *Transport
	station       string
	h             func(context.Context, []*cable.Transmission) error
	log           *slog.Logger
	lanes         []*lane
	maxAckPending int
	// consumer names the durable consumer of precedence p, its filter
	// subject and its description.
	consumer func(p cable.Precedence) (name, filter, description string)
	// deliver handles the next messages of l, taking them from l.held. It
	// returns fatal errors only.
	deliver func(ctx context.Context, l *lane) error
	// wake, when set, returns when housekeep is due next (zero: never).
	wake      func() time.Time
	housekeep func(ctx context.Context) error
	// onLinkUp, when set, runs when a leaf link of the node comes up.
	onLinkUp func(now time.Time)
	// taken, when set, hears the stream sequence of each message a lane
	// takes.
	taken func(seq uint64)
	// extra, when set, lists messages held outside the lanes, kept alive
	// with them; onExit hands them back.
	extra  func() []jetstream.Msg
	onExit func()
}

// consumer creates or updates the durable consumer cfg on the stream. A
// consumer made by an earlier version with its state on disk cannot be
// changed to keep it in memory: it is deleted and made again, which loses
// nothing, as the work queue still holds every message not acknowledged.
func (t *Transport) consumer(ctx context.Context, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	cons, err := t.js.CreateOrUpdateConsumer(ctx, t.opts.Stream, cfg)
	if err == nil || !cfg.MemoryStorage {
		return cons, err
	}
	old, ierr := t.js.Consumer(ctx, t.opts.Stream, cfg.Durable)
	if ierr != nil || old.CachedInfo().Config.MemoryStorage {
		return nil, err
	}
	if derr := t.js.DeleteConsumer(ctx, t.opts.Stream, cfg.Durable); derr != nil {
		return nil, fmt.Errorf("%w (and deleting the consumer to make it again: %v)", err, derr)
	}
	t.log.Info("consumer made again with its state in memory", "stream", t.opts.Stream, "consumer", cfg.Durable)
	return t.js.CreateOrUpdateConsumer(ctx, t.opts.Stream, cfg)
}

func (p *puller) run(ctx context.Context) error {
	t := p.t
	for _, pr := range cable.Precedences() {
		name, filter, desc := p.consumer(pr)
		cons, err := t.consumer(ctx, jetstream.ConsumerConfig{
			Durable:       name,
			Description:   desc,
			FilterSubject: filter,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.opts.AckWait,
			MaxDeliver:    -1, // a cable in custody is never dropped
			MaxAckPending: p.maxAckPending,
			// The stream is a work queue: an acknowledged message is
			// removed from it, and the removal is synced. What the
			// consumer would keep on disk besides (its delivered and
			// acknowledged floors) adds nothing to custody: the embedded
			// server stops and starts with this process, which makes the
			// consumer again, and it delivers what the stream still
			// holds, what was delivered and not acknowledged included.
			// Kept in memory, its state costs no file written and synced
			// ten times a second per consumer. An external server may
			// restart alone, and would lose a consumer kept in memory.
			MemoryStorage: t.opts.URL == "",
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nats: %s: consumer %s: %w", p.station, name, err)
		}
		p.lanes = append(p.lanes, &lane{p: pr, cons: cons, ch: make(chan jetstream.Msg, BatchSize), owed: cons.CachedInfo().NumPending, taken: p.taken})
	}

	pctx, pcancel := context.WithCancel(ctx)
	errc := make(chan error, len(p.lanes))
	var pumps sync.WaitGroup
	for _, l := range p.lanes {
		pumps.Add(1)
		go func() {
			defer pumps.Done()
			p.pump(pctx, l, errc)
		}()
	}
	defer func() {
		pcancel()
		pumps.Wait()
		p.release()
	}()

	keep := time.NewTicker(max(t.opts.AckWait/3, 10*time.Millisecond))
	defer keep.Stop()
	// deadline bounds a wait for owed messages: another puller sharing
	// the consumer may have taken them.
	var deadline time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		// Checked each time round, not only when the loop has nothing to
		// do: while a more urgent lane is busy for longer than AckWait,
		// what the others hold must not be delivered again.
		select {
		case <-keep.C:
			p.keepAlive()
		default:
		}
		now := time.Now()
		if p.wake != nil {
			if w := p.wake(); !w.IsZero() && !now.Before(w) {
				if err := p.housekeep(ctx); err != nil {
					return err
				}
				continue
			}
		}
		for _, l := range p.lanes {
			l.fill()
		}
		next := -1
		for i, l := range p.lanes {
			if l.ready(now) {
				next = i
				break
			}
		}
		var wakeAt time.Time
		if next > 0 && p.owedBefore(next, now) {
			if deadline.IsZero() {
				deadline = now.Add(owedWait)
			}
			if now.Before(deadline) {
				wakeAt = deadline
				next = -1 // a more urgent message is on its way: wait for it
			} else {
				for _, l := range p.lanes {
					l.owed = 0
				}
			}
		}
		if next >= 0 {
			deadline = time.Time{}
			if err := p.deliver(ctx, p.lanes[next]); err != nil {
				return err
			}
			continue
		}
		for _, l := range p.lanes {
			if len(l.held) > 0 && l.retryAt.After(now) && (wakeAt.IsZero() || l.retryAt.Before(wakeAt)) {
				wakeAt = l.retryAt
			}
		}
		if p.wake != nil {
			if w := p.wake(); !w.IsZero() && (wakeAt.IsZero() || w.Before(wakeAt)) {
				wakeAt = w
			}
		}
		var linkUp <-chan struct{}
		if p.onLinkUp != nil {
			linkUp = t.linkChange()
		}
		var timeout <-chan time.Time
		var timer *time.Timer
		if !wakeAt.IsZero() {
			timer = time.NewTimer(max(time.Until(wakeAt), 0))
			timeout = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case m := <-p.lanes[0].recv():
			p.lanes[0].take(m)
		case m := <-p.lanes[1].recv():
			p.lanes[1].take(m)
		case m := <-p.lanes[2].recv():
			p.lanes[2].take(m)
		case m := <-p.lanes[3].recv():
			p.lanes[3].take(m)
		case <-keep.C:
			p.keepAlive()
		case <-linkUp:
			p.onLinkUp(time.Now())
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// owedBefore reports whether a lane more urgent than i, not backing off,
// expects messages.
func (p *puller) owedBefore(i int, now time.Time) bool {
	for _, l := range p.lanes[:i] {
		if l.owed > 0 && !now.Before(l.retryAt) {
			return true
		}
	}
	return false
}

// keepAlive tells the server that every message held is in progress, so
// that a message waiting behind a slow handler, a backing-off next hop or
// the rest of its cable's sections is not delivered again.
func (p *puller) keepAlive() {
	for _, l := range p.lanes {
		for _, m := range l.held {
			_ = m.InProgress() // best effort: the worst case is a redelivery
		}
	}
	if p.extra != nil {
		for _, m := range p.extra() {
			_ = m.InProgress()
		}
	}
}

// pump moves messages from a lane's consumer to its channel until ctx is
// done or the consumer fails. It pulls with one request at a time and,
// once ctx is done, hands back whatever the last request still brings.
func (p *puller) pump(ctx context.Context, l *lane, errc chan<- error) {
	for ctx.Err() == nil {
		// Bounded by bytes as well as count: one message may be a batch
		// of hundreds of transmissions.
		b, err := l.cons.Fetch(BatchSize, jetstream.FetchMaxBytes(p.t.fetchBytes()), jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			errc <- fmt.Errorf("nats: %s %s: %w", p.station, l.p, err)
			return
		}
		for bm := range b.Messages() {
			ms, err := expand(bm, max(p.t.opts.AckWait/6, time.Millisecond))
			if err != nil {
				p.log.Warn("nats: unreadable batch", "subject", bm.Subject(), "err", err)
			}
			for _, m := range ms {
				select {
				case l.ch <- m:
				case <-ctx.Done():
					p.nak(m, 0)
				}
			}
		}
		if err := b.Error(); err != nil && ctx.Err() == nil {
			if fatalFetchError(err) {
				errc <- fmt.Errorf("nats: %s %s: %w", p.station, l.p, err)
				return
			}
			p.log.Warn("nats: pull request failed; retrying", "precedence", l.p.String(), "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// fetchBytes is the most one pull request brings: room for the largest
// message.
func (t *Transport) fetchBytes() int {
	return max(fetchBytes, t.MaxPayload()+64<<10)
}

// fatalFetchError reports whether a pull request failed for good.
func fatalFetchError(err error) bool {
	return errors.Is(err, natsgo.ErrConnectionClosed) ||
		errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound)
}

// release hands every message fetched but not handled back to the server
// at once, so that it need not wait out AckWait.
func (p *puller) release() {
	for _, l := range p.lanes {
		l.fill()
		for len(l.ch) > 0 || len(l.held) > 0 {
			for _, m := range l.held {
				p.nak(m, 0)
			}
			l.held = l.held[:0]
			l.fill()
		}
	}
	if p.onExit != nil {
		p.onExit()
	}
}

// nak hands m back for redelivery after delay. Even for "at once" it
// names a delay: the server keeps a plain NAK in memory only, so after a
// restart the message would wait out AckWait, while a delayed one is
// written to the consumer's state.
func (p *puller) nak(m jetstream.Msg, delay time.Duration) {
	err := m.NakWithDelay(max(delay, time.Millisecond))
	if err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
		p.log.Warn("nats: nak failed; the message returns after AckWait", "subject", m.Subject(), "err", err)
	}
}

// handBack hands msgs back after the handler failed on them: delivered
// again after RetryDelay, or at once when shutting down, so that the next
// receiver has them.
func (p *puller) handBack(ctx context.Context, msgs []jetstream.Msg) {
	delay := p.t.opts.RetryDelay
	if ctx.Err() != nil {
		delay = 0
	}
	for _, m := range msgs {
		p.nak(m, delay)
	}
}

// next takes up to max messages from the front of l.held.
func (l *lane) next(max int) []jetstream.Msg {
	n := min(len(l.held), max)
	batch := make([]jetstream.Msg, n)
	copy(batch, l.held)
	l.held = l.held[:copy(l.held, l.held[n:])]
	return batch
}

// handOver runs the handler on a batch and settles it: acknowledged if h
// returns nil (but for the transmissions it set Later, handed back after
// RetryDelay), handed back after RetryDelay if not. It returns only fatal
// errors.
func (p *puller) handOver(ctx context.Context, pr cable.Precedence, msgs []jetstream.Msg, trs []*cable.Transmission) error {
	if err := p.handle(ctx, msgs, trs); err != nil {
		if ctx.Err() == nil {
			p.log.Warn("nats: handler refused batch; it will be delivered again",
				"precedence", pr.String(), "count", len(trs), "first", trs[0].CableID, "retry_in", p.t.opts.RetryDelay, "err", err)
		}
		p.handBack(ctx, msgs)
		return nil
	}
	if len(trs) == 1 && trs[0].Incomplete {
		if trs[0].Later {
			for _, m := range msgs {
				p.nak(m, laterDelay(m, p.t.opts.RetryDelay))
			}
			return nil
		}
		return p.ack(ctx, msgs)
	}
	done := msgs[:0:0]
	later := 0
	for i, m := range msgs {
		if !trs[i].Later {
			done = append(done, m)
			continue
		}
		later++
		if p.setAside(ctx, m, laterDelay(m, p.t.opts.RetryDelay)) {
			done = append(done, m)
		}
	}
	if later > 0 {
		p.log.Info("nats: handler kept transmissions for later", "precedence", pr.String(), "count", later, "retry_in", p.t.opts.RetryDelay)
	}
	return p.ack(ctx, done)
}

// setAside hands m back to come again after delay, and reports whether it
// was kept apart instead, to be acknowledged by the caller. Handed back,
// one transmission of a batch message would bring the whole message back
// with it, the rest handled again; so a transmission of a batch goes back
// into custody as a message of its own (keepApart) and leaves the batch.
// If that fails, the whole batch comes back after RetryDelay.
func (p *puller) setAside(ctx context.Context, m jetstream.Msg, delay time.Duration) bool {
	e, inBatch := m.(*entry)
	if !inBatch {
		p.nak(m, delay)
		return false
	}
	if err := p.keepApart(ctx, e); err != nil {
		p.log.Warn("nats: could not keep a transmission apart from its batch; the batch comes back whole", "err", err)
		p.nak(m, p.t.opts.RetryDelay)
		return false
	}
	return true
}

// maxLaterDelay bounds the wait before a transmission kept for later is
// handed over again.
const maxLaterDelay = time.Minute

// laterDelay is how long m, kept for later by the handler, waits before it
// is handed over again: retry at first, doubling with each delivery up to
// maxLaterDelay. A station's cables wait so while an operator trusts its
// new key, for up to an hour; thousands of them handed over every few
// seconds, each opened and checked again, would keep the receiving centre
// busy with nothing else.
func laterDelay(m jetstream.Msg, retry time.Duration) time.Duration {
	md, err := m.Metadata()
	if err != nil || md.NumDelivered <= 1 {
		return retry
	}
	return min(retry<<min(md.NumDelivered-1, 16), max(maxLaterDelay, retry))
}

// keepApart stores e, a transmission of a batch message, in this node's
// stream as a message of its own on the same subject, to be handed over
// again; once the stream has it, e may leave the batch. Its message id
// names the batch's place in the stream and e's place in the batch, so
// that keeping the same entry apart twice (the batch delivered again
// after a crash) stores it once.
func (p *puller) keepApart(ctx context.Context, e *entry) error {
	md, err := e.Metadata()
	if err != nil {
		return err
	}
	h := cloneHeader(e.header)
	h.Set(jetstream.ExpectedStreamHeader, p.t.opts.Stream)
	h.Set(jetstream.MsgIDHeader, fmt.Sprintf("apart/%d/%d", md.Sequence.Stream, e.index))
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	_, err = p.t.js.PublishMsg(actx, &natsgo.Msg{Subject: e.Subject(), Header: h, Data: e.data})
	return err
}

// handle runs the handler, telling the server the batch is in progress
// while it runs so that a slow handler does not see it redelivered.
func (p *puller) handle(ctx context.Context, msgs []jetstream.Msg, trs []*cable.Transmission) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(max(p.t.opts.AckWait/3, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for _, m := range msgs {
					_ = m.InProgress() // best effort: the worst case is a redelivery
				}
				// The run loop waits for h, so what it holds (lanes,
				// sections waiting for the rest of their cable) is not
				// touched meanwhile; it must not be redelivered either.
				p.keepAlive()
			}
		}
	}()
	err := p.h(ctx, trs)
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
func (p *puller) ack(ctx context.Context, msgs []jetstream.Msg) error {
	if len(msgs) == 0 {
		return nil
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	msgs, err := settled(msgs)
	if err != nil {
		p.log.Warn("nats: handing back a batch failed; it returns after AckWait", "err", err)
	}
	if len(msgs) == 0 {
		return nil
	}
	last := len(msgs) - 1
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
		return fmt.Errorf("nats: %s: ack: %w", p.station, err)
	}
	p.log.Warn("nats: acknowledgement not confirmed; the batch may be delivered again",
		"count", len(msgs), "err", err)
	return nil
}

// receiver is Receive's side of a puller: it checks what arrives and puts
// sectioned cables back together.
type receiver struct {
	p          *puller
	groups     map[groupKey]*sectionGroup
	heldBytes  int
	heldCount  int
	groupOrder uint64
}

// groupKey names a sectioned cable: its sections share it.
type groupKey struct{ cableID, kind, origin string }

// sectionGroup holds the sections of one cable received so far.
type sectionGroup struct {
	key      groupKey
	seq      uint64 // order of the first section's arrival
	p        cable.Precedence
	dest     string
	sections int
	msgs     map[int]jetstream.Msg
	trs      map[int]*cable.Transmission
	bytes    int
	last     time.Time // when the last new section arrived
}

func (r *receiver) deliver(ctx context.Context, l *lane) error {
	p := r.p
	now := time.Now()
	batch, precs := r.take(l, now)
	var msgs []jetstream.Msg
	var trs []*cable.Transmission
	var drop []jetstream.Msg
	var complete []*sectionGroup
	for i, m := range batch {
		lp := precs[i]
		// The cables a section completed go before the less urgent
		// cables that fill the rest of the batch.
		if len(complete) > 0 && lp != precs[i-1] {
			if err := r.handOverAll(ctx, msgs, trs, complete); err != nil {
				return err
			}
			msgs, trs, complete = nil, nil, nil
		}
		tr, err := decodeTransmission(m.Headers(), m.Data(), p.t.MaxPayload())
		if err == nil && (tr.Destination != p.station || tr.Precedence != lp) {
			err = fmt.Errorf("envelope says %s for %s on the %s subject for %s", tr.Precedence, tr.Destination, lp, p.station)
		}
		if err == nil && tr.Sections > 1 {
			g, dup, gerr := r.add(m, tr, now)
			switch {
			case gerr != nil:
				err = gerr
			case dup:
				drop = append(drop, m)
				continue
			case g != nil:
				complete = append(complete, g)
				continue
			default:
				continue // held until the rest arrives
			}
		}
		if err != nil {
			// The receiving centre records it as a security event and
			// acknowledges it; it is never shown as a cable.
			p.log.Warn("nats: malformed transmission", "subject", m.Subject(), "err", err)
			tr.Refused = err.Error()
			if !tr.Precedence.Valid() {
				tr.Precedence = lp
			}
		}
		msgs = append(msgs, m)
		trs = append(trs, tr)
	}
	for _, m := range drop {
		if err := m.Ack(); err != nil {
			p.log.Warn("nats: ack of a duplicate section failed", "subject", m.Subject(), "err", err)
		}
	}
	if err := r.handOverAll(ctx, msgs, trs, complete); err != nil {
		return err
	}
	return r.bound(ctx)
}

// handOverAll hands over the whole transmissions taken, then the cables
// that sections taken with them completed, whole, several to a batch
// while they fit.
func (r *receiver) handOverAll(ctx context.Context, msgs []jetstream.Msg, trs []*cable.Transmission, complete []*sectionGroup) error {
	p := r.p
	if len(trs) > 0 {
		if err := p.handOver(ctx, trs[0].Precedence, msgs, trs); err != nil {
			return err
		}
	}
	for len(complete) > 0 {
		var gm []jetstream.Msg
		var gt []*cable.Transmission
		for len(complete) > 0 && (len(gt) == 0 || len(gt)+complete[0].sections <= BatchSize) {
			g := complete[0]
			complete = complete[1:]
			for i := 1; i <= g.sections; i++ {
				gm = append(gm, g.msgs[i])
				gt = append(gt, g.trs[i])
			}
		}
		if err := p.handOver(ctx, gt[0].Precedence, gm, gt); err != nil {
			return err
		}
	}
	return nil
}

// take takes the next batch from l, the most urgent lane ready, and,
// unless l is FLASH, tops it up from the less urgent lanes ready, most
// urgent first, while nothing more urgent than them is on its way: a
// less urgent message never goes before a more urgent one the server
// has yet to deliver. precs is the precedence of each message's lane:
// its subject, which its envelope must agree with.
func (r *receiver) take(l *lane, now time.Time) (batch []jetstream.Msg, precs []cable.Precedence) {
	size := r.p.t.opts.ReceiveBatch
	for i, o := range r.p.lanes {
		if o != l && (l.p == cable.Flash || o.p < l.p || !o.ready(now)) {
			continue
		}
		if o != l && r.p.owedBefore(i, now) {
			break
		}
		more := o.next(size - len(batch))
		batch = append(batch, more...)
		for range more {
			precs = append(precs, o.p)
		}
		if len(batch) == size {
			break
		}
	}
	return batch, precs
}

// add holds a section. It returns the group once complete (removed from
// the held ones), or dup for a second copy of a held section, or an error
// for a section that contradicts the others.
func (r *receiver) add(m jetstream.Msg, tr *cable.Transmission, now time.Time) (*sectionGroup, bool, error) {
	key := groupKey{tr.CableID, tr.Kind, tr.Origin}
	g := r.groups[key]
	if g == nil {
		r.groupOrder++
		g = &sectionGroup{key: key, seq: r.groupOrder, p: tr.Precedence, dest: tr.Destination, sections: tr.Sections,
			msgs: map[int]jetstream.Msg{}, trs: map[int]*cable.Transmission{}}
		r.groups[key] = g
	}
	if tr.Sections != g.sections || tr.Precedence != g.p || tr.Destination != g.dest {
		return nil, false, fmt.Errorf("section %d of %d, %s to %s, contradicts the held sections of %s (%d sections, %s to %s)",
			tr.Section, tr.Sections, tr.Precedence, tr.Destination, tr.CableID, g.sections, g.p, g.dest)
	}
	if held, ok := g.msgs[tr.Section]; ok {
		if sameStored(held, m) {
			// The server delivered the held copy again (its AckWait ran
			// out): acknowledging this delivery would remove the only
			// stored copy while the section is only in memory here.
			// Hold the newer delivery instead.
			g.msgs[tr.Section] = m
			return nil, false, nil
		}
		return nil, true, nil
	}
	g.msgs[tr.Section], g.trs[tr.Section] = m, tr
	g.bytes += len(tr.Text)
	g.last = now
	r.heldBytes += len(tr.Text)
	r.heldCount++
	if len(g.msgs) < g.sections {
		return nil, false, nil
	}
	r.remove(g)
	return g, false, nil
}

// sameStored reports whether a and b are deliveries of one stored
// transmission: the same message of the stream, and the same place in it
// when it is a batch.
func sameStored(a, b jetstream.Msg) bool {
	ea, aBatch := a.(*entry)
	eb, bBatch := b.(*entry)
	if aBatch != bBatch || aBatch && ea.index != eb.index {
		return false
	}
	ma, errA := a.Metadata()
	mb, errB := b.Metadata()
	return errA == nil && errB == nil && ma.Stream == mb.Stream && ma.Sequence.Stream == mb.Sequence.Stream
}

func (r *receiver) remove(g *sectionGroup) {
	delete(r.groups, g.key)
	r.heldBytes -= g.bytes
	r.heldCount -= len(g.msgs)
}

// bound keeps the held sections within maxHeldBytes and maxHeldSections:
// past either it hands back the cable begun last, to come again after
// RetryDelay, until one cable is left; if that one alone is past them, it
// is handed over incomplete. Handing over the oldest incomplete instead
// would lose a cable whose last sections were still on their way: the
// centre refuses it as truncated and its sections are acknowledged.
func (r *receiver) bound(ctx context.Context) error {
	for r.heldBytes > maxHeldBytes || r.heldCount > maxHeldSections {
		var newest *sectionGroup
		for _, g := range r.groups {
			if newest == nil || g.seq > newest.seq {
				newest = g
			}
		}
		if len(r.groups) == 1 {
			// No wait would let it complete here.
			r.p.log.Warn("nats: one cable's sections are more than can be held; handing it over incomplete",
				"cable", newest.key.cableID, "held_bytes", r.heldBytes, "held_sections", r.heldCount)
			if err := r.incomplete(ctx, newest); err != nil {
				return err
			}
			continue
		}
		// Handed back, the cable begun last comes back once those begun
		// before it have completed and left room: later, but whole.
		r.p.log.Warn("nats: too many sections held; the cable begun last is handed back for later",
			"cable", newest.key.cableID, "held_bytes", r.heldBytes, "held_sections", r.heldCount, "retry_in", r.p.t.opts.RetryDelay)
		r.remove(newest)
		var apart []jetstream.Msg
		for _, m := range newest.msgs {
			if r.p.setAside(ctx, m, r.p.t.opts.RetryDelay) {
				apart = append(apart, m)
			}
		}
		if err := r.p.ack(ctx, apart); err != nil {
			return err
		}
	}
	return nil
}

// wake is when the first held cable times out.
func (r *receiver) wake() time.Time {
	var w time.Time
	for _, g := range r.groups {
		if at := g.last.Add(r.p.t.opts.SectionTimeout); w.IsZero() || at.Before(w) {
			w = at
		}
	}
	return w
}

// expire hands over every held cable past its section timeout as
// incomplete.
func (r *receiver) expire(ctx context.Context) error {
	now := time.Now()
	for _, g := range r.groups {
		if !now.Before(g.last.Add(r.p.t.opts.SectionTimeout)) {
			if err := r.incomplete(ctx, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// incomplete hands one held cable over as Incomplete and settles its
// sections with the handler's answer.
func (r *receiver) incomplete(ctx context.Context, g *sectionGroup) error {
	r.remove(g)
	var msgs []jetstream.Msg
	var first *cable.Transmission
	for i := 1; i <= g.sections; i++ {
		if m, ok := g.msgs[i]; ok {
			msgs = append(msgs, m)
			if first == nil {
				first = g.trs[i]
			}
		}
	}
	tr := &cable.Transmission{
		CableID: g.key.cableID, Kind: g.key.kind, Origin: g.key.origin, Destination: g.dest,
		Precedence: g.p, Sections: g.sections, QueuedAt: first.QueuedAt, Route: first.Route, Incomplete: true,
	}
	r.p.log.Warn("nats: cable incomplete", "cable", tr.CableID, "origin", tr.Origin, "held", len(msgs), "sections", g.sections)
	return r.p.handOver(ctx, g.p, msgs, []*cable.Transmission{tr})
}

// held lists the messages of every held section.
func (r *receiver) held() []jetstream.Msg {
	var out []jetstream.Msg
	for _, g := range r.groups {
		for _, m := range g.msgs {
			out = append(out, m)
		}
	}
	return out
}

// release hands every held section back at once.
func (r *receiver) release() {
	for _, m := range r.held() {
		r.p.nak(m, 0)
	}
	r.groups = map[groupKey]*sectionGroup{}
	r.heldBytes, r.heldCount = 0, 0
}

// Pending returns, for each precedence, how many messages addressed to
// station the stream holds, not yet delivered or delivered and not yet
// acknowledged; a batch of transmissions counts once.
func (t *Transport) Pending(ctx context.Context, station string) (map[cable.Precedence]uint64, error) {
	return t.pending(ctx, station, ConsumerName, func(p cable.Precedence) string { return t.inSubject(station, p) })
}

// Queued returns, for each precedence, how many messages in custody at
// station wait to be forwarded to their next hop; a batch of
// transmissions counts once.
func (t *Transport) Queued(ctx context.Context, station string) (map[cable.Precedence]uint64, error) {
	return t.pending(ctx, station, ForwardConsumerName, func(p cable.Precedence) string { return t.fwdSubject(station, "*", p) })
}

func (t *Transport) pending(ctx context.Context, station string, name func(string, cable.Precedence) string, subject func(cable.Precedence) string) (map[cable.Precedence]uint64, error) {
	if !cable.ValidStationCode(station) {
		return nil, cable.Errorf(cable.EINVALID, "%q is not a station code", station)
	}
	out := make(map[cable.Precedence]uint64, 4)
	for _, p := range cable.Precedences() {
		cons, err := t.js.Consumer(ctx, t.opts.Stream, name(station, p))
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
		// No consumer yet: count the stream's messages directly.
		s, err := t.js.Stream(ctx, t.opts.Stream)
		if err != nil {
			return nil, fmt.Errorf("nats: pending %s: %w", station, err)
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject(p)))
		if err != nil {
			return nil, fmt.Errorf("nats: pending %s: %w", station, err)
		}
		out[p] = 0
		for _, n := range info.State.Subjects {
			out[p] += n
		}
	}
	return out, nil
}
