package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// forwardTimeout bounds the wait for a next hop's acknowledgement.
	forwardTimeout = 10 * time.Second
	// forwardBatch is the most handed on to next hops at once. A FLASH
	// cable waits for the batch in flight, each message synced at the
	// next hop, so the batch is kept short.
	forwardBatch = 64
)

// unreachableAfter is how long a next hop refuses custody before the
// alert; a variable so that tests need not wait.
var unreachableAfter = time.Minute

// maxShedDelay bounds how long what is shed for a next hop that is down
// stays with the server before it is tried again; a variable so that
// tests need not wait.
var maxShedDelay = 30 * time.Second

// fwdMaxAckPending is the forwarding consumers' allowance of messages
// delivered and not yet acknowledged. What is shed for a next hop that is
// down counts against it while the server holds it back, so it is large:
// only when one precedence has more messages than this waiting for hops
// that are down does that precedence stop for the other hops too. What
// this process holds at once is bounded by maxHeld, not by this.
const fwdMaxAckPending = 64 * BatchSize

// minBackoff and maxBackoff bound the wait before a next hop that refused
// custody is tried again; variables so that a test can make the back-off
// longer than it waits.
var (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 4 * time.Second
)

// ForwardConsumerName returns the durable consumer that forwards
// precedence p from station: fwd-MOSCOW-Z.
func ForwardConsumerName(station string, p cable.Precedence) string {
	return "fwd-" + station + "-" + p.Prosign()
}

// Forward takes each transmission in custody at station, which this node
// hosts, and not addressed to it, and hands it to its next hop by
// Options.Routes, most urgent first with the same lanes as Receive. The
// next hop has custody once its stream acknowledges the publish; only then
// is the message acknowledged here. Forward reads the envelope only (and
// checks the text against its SHA-256); it appends station to the route.
//
// After each batch h gets the transmissions forwarded (Hop set to the next
// hop, Route to the stations that have held it, Text nil) and those
// refused (Refused set: malformed envelope, routing loop, a route longer
// than cable.MaxHops). Those refused are acknowledged, and so dropped from
// custody, once h returns nil; if h fails they are handed back after
// Options.RetryDelay, to be refused and handed to h again. What was
// forwarded has passed custody whatever h returns. A next hop that does
// not take custody (link down, its stream full) leaves the transmissions
// here: they are tried again after a back-off of up to a few seconds, for
// ever, and Options.OnAlert hears of a full next hop or one unreachable
// for over a minute.
//
// Forward blocks until ctx is done and returns nil, or returns a fatal
// error; after Close it returns ErrClosed.
func (t *Transport) Forward(ctx context.Context, station string, h func(context.Context, []*cable.Transmission) error) error {
	if err := t.checkStation(station, h); err != nil {
		return err
	}
	if err := t.enter(); err != nil {
		return err
	}
	defer t.active.Done()

	ctx, cancel := t.closingContext(ctx)
	defer cancel()

	f := &forwarder{hops: map[string]*hopState{}, limits: map[string]int{}, shedSeqs: map[uint64]hopLane{}, shedWait: map[hopLane]*shedWait{}}
	p := &puller{
		t: t, station: station, h: h, log: t.log.With("station", station, "role", "forward"),
		maxAckPending: fwdMaxAckPending,
		consumer: func(p cable.Precedence) (string, string, string) {
			return ForwardConsumerName(station, p), t.fwdSubject(station, "*", p), fmt.Sprintf("%s cables at %s for other stations", p, station)
		},
	}
	f.p = p
	p.deliver = f.deliver
	p.onLinkUp = f.linkUp
	p.taken = f.returned
	err := p.run(ctx)
	if err == nil && errors.Is(context.Cause(ctx), ErrClosed) {
		return ErrClosed
	}
	return err
}

// forwarder is Forward's side of a puller.
type forwarder struct {
	p    *puller
	hops map[string]*hopState
	// limits are the batch limits of next hops that refused a batch for
	// lack of space.
	limits map[string]int
	// shedSeqs are the stream sequences of the messages shed (handed back
	// to the server for later while their next hop was down), and
	// shedWait what is still out of each lane for each next hop. Until it
	// is back, or long overdue, less urgent messages for that hop wait:
	// a hop that returns gets its backlog most urgent first.
	shedSeqs map[uint64]hopLane
	shedWait map[hopLane]*shedWait
}

// hopLane is a next hop and a precedence.
type hopLane struct {
	hop string
	p   cable.Precedence
}

// shedWait is what a lane has shed for a next hop and not seen again.
type shedWait struct {
	out   int
	until time.Time // when to stop waiting for it: due back, and a margin
}

// hopState is a next hop that has refused custody.
type hopState struct {
	failures  int
	retryAt   time.Time
	downSince time.Time
}

// packLimit is the most transmissions sent to next in one batch: fewer
// after it refused a batch for lack of space, since a smaller one may
// still fit its disk budget.
func (f *forwarder) packLimit(next string) int {
	if n, ok := f.limits[next]; ok {
		return n
	}
	return maxBatch
}

// packed adjusts next's batch limit after a batch of n: halved when it
// was refused for lack of space, doubled back when it was taken whole.
func (f *forwarder) packed(next string, n int, err error) {
	limit := f.packLimit(next)
	switch {
	case err != nil && isFull(err) && n > 1:
		f.limits[next] = max(1, n/2)
	case err == nil && n >= limit && limit < maxBatch:
		f.limits[next] = min(maxBatch, limit*2)
	}
}

// nextHop is the station that takes custody of what m carries next. A
// route via the forwarding station itself (a relay given the posts'
// routes file, or a node hosting both a post and its relay) is one
// already followed: from here the cable goes direct. Followed literally
// it would go back into this station's own custody under the same
// message id, which JetStream takes for a duplicate and drops.
func (f *forwarder) nextHop(m jetstream.Msg) (dest, next string) {
	t := f.p.t
	dest = t.fwdDestination(m.Subject())
	if t.hosted[dest] || !cable.ValidStationCode(dest) {
		return dest, dest
	}
	next = t.routes.Load().NextHop(dest)
	if next == f.p.station {
		next = dest
	}
	return dest, next
}

// ready reports whether a message of precedence p may go to hop now, and
// if not, when it may be tried next.
func (f *forwarder) ready(p cable.Precedence, hop string, now time.Time) (bool, time.Time) {
	if st := f.hops[hop]; st != nil && now.Before(st.retryAt) {
		return false, st.retryAt
	}
	var until time.Time
	for q := cable.Flash; q < p; q++ {
		w := f.shedWait[hopLane{hop, q}]
		if w == nil {
			continue
		}
		if !now.Before(w.until) {
			// Not back in time: another forwarder sharing the consumer
			// may have it. Waiting longer would hold the hop up for good.
			f.forgetShed(hopLane{hop, q})
			continue
		}
		if w.until.After(until) {
			until = w.until
		}
	}
	return until.IsZero(), until
}

// returned hears that the message at seq is held again.
func (f *forwarder) returned(seq uint64) {
	hl, ok := f.shedSeqs[seq]
	if !ok {
		return
	}
	delete(f.shedSeqs, seq)
	if w := f.shedWait[hl]; w != nil {
		if w.out--; w.out <= 0 {
			delete(f.shedWait, hl)
			// The less urgent lanes waiting for it may go on.
			for _, l := range f.p.lanes {
				if l.p > hl.p {
					l.retryAt = time.Time{}
				}
			}
		}
	}
}

// forgetShed stops waiting for what precedence and hop hl shed.
func (f *forwarder) forgetShed(hl hopLane) {
	delete(f.shedWait, hl)
	for seq, x := range f.shedSeqs {
		if x == hl {
			delete(f.shedSeqs, seq)
		}
	}
}

// outgoing is one message on its way to the next hop.
type outgoing struct {
	m    jetstream.Msg
	tr   *cable.Transmission
	next string
	out  *natsgo.Msg
	err  error
}

func (f *forwarder) deliver(ctx context.Context, l *lane) error {
	p, t := f.p, f.p.t
	now := time.Now()

	// Take up to a batch whose next hops are not backing off.
	var pick []jetstream.Msg
	keep := l.held[:0]
	for _, m := range l.held {
		if _, next := f.nextHop(m); len(pick) < forwardBatch {
			if ok, _ := f.ready(l.p, next, now); ok {
				pick = append(pick, m)
				continue
			}
		}
		keep = append(keep, m)
	}
	l.held = keep
	if len(pick) == 0 {
		f.shed(l, now)
		f.holdBack(l, now)
		return nil
	}

	var sent, refused []*outgoing
	for _, m := range pick {
		o := &outgoing{m: m}
		o.tr, o.next, o.out, o.err = f.prepare(m, l.p)
		if o.err != nil {
			p.log.Warn("nats: transmission refused", "subject", m.Subject(), "err", o.err)
			o.tr.Refused = o.err.Error()
			if !o.tr.Precedence.Valid() {
				o.tr.Precedence = l.p
			}
			refused = append(refused, o)
			continue
		}
		sent = append(sent, o)
	}

	// Publish the batch at once, then wait for every acknowledgement
	// (bounded by forwardTimeout even while shutting down, so that custody
	// is settled either way).
	// Those for one next hop, destination and precedence go as batches,
	// each one synced write there.
	outs := make([]*natsgo.Msg, len(sent))
	nextOf := map[string]string{}
	for i, o := range sent {
		outs[i] = o.out
		nextOf[o.out.Subject] = o.next
	}
	packs := pack(outs, t.batchBytes(), func(subject string) int { return f.packLimit(nextOf[subject]) })
	futures := make([]jetstream.PubAckFuture, len(packs))
	errs := make([]error, len(packs))
	for i, pk := range packs {
		for {
			fut, err := t.fwdJS.PublishMsgAsync(pk.msg, jetstream.WithStallWait(stallWait), jetstream.WithRetryAttempts(0))
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				continue
			}
			futures[i], errs[i] = fut, err
			break
		}
	}
	for i, pk := range packs {
		if errs[i] == nil {
			select {
			case <-futures[i].Ok():
			case err := <-futures[i].Err():
				errs[i] = err
			}
		}
		for _, j := range pk.of {
			sent[j].err = errs[i]
		}
		f.packed(sent[pk.of[0]].next, len(pk.of), errs[i])
	}

	var acks []jetstream.Msg
	var done, failed []*outgoing
	var back []jetstream.Msg
	for _, o := range sent {
		if o.err != nil {
			failed = append(failed, o)
			back = append(back, o.m)
			continue
		}
		delete(f.hops, o.next)
		acks = append(acks, o.m)
		o.tr.Hop = o.next
		o.tr.Text = nil
		done = append(done, o)
	}
	for _, o := range failed {
		f.failed(o.next, o.err, now)
	}
	// What the next hop did not take stays here, first in line.
	l.held = append(back, l.held...)
	f.shed(l, now)
	if err := p.ack(ctx, acks); err != nil {
		return err
	}
	if len(failed) > 0 {
		f.holdBack(l, time.Now())
	}

	trs := make([]*cable.Transmission, 0, len(done)+len(refused))
	for _, o := range done {
		trs = append(trs, o.tr)
	}
	for _, o := range refused {
		trs = append(trs, o.tr)
	}
	if len(trs) == 0 {
		return nil
	}
	// Refused messages leave custody only once the handler has recorded
	// them; they are kept alive while it runs.
	gone := make([]jetstream.Msg, len(refused))
	for i, o := range refused {
		gone[i] = o.m
	}
	if err := p.handle(ctx, gone, trs); err != nil {
		p.log.Warn("nats: forward handler failed; custody of what was forwarded has passed all the same, what was refused is kept to be refused again",
			"forwarded", len(done), "refused", len(refused), "err", err)
		p.handBack(ctx, gone)
		return nil
	}
	return p.ack(ctx, gone)
}

// prepare checks a message in custody and builds its publish to the next
// hop.
func (f *forwarder) prepare(m jetstream.Msg, lp cable.Precedence) (*cable.Transmission, string, *natsgo.Msg, error) {
	p, t := f.p, f.p.t
	tr, err := decodeTransmission(m.Headers(), m.Data(), t.MaxPayload())
	if err != nil {
		return tr, "", nil, err
	}
	dest, next := f.nextHop(m)
	if tr.Destination != dest || tr.Precedence != lp {
		return tr, "", nil, fmt.Errorf("envelope says %s for %s on the %s subject for %s", tr.Precedence, tr.Destination, lp, dest)
	}
	route := tr.Route
	if route[len(route)-1] != p.station {
		if slices.Contains(route, p.station) {
			return tr, "", nil, fmt.Errorf("routing loop: %s is back at %s (route %s)", tr.CableID, p.station, strings.Join(route, " "))
		}
		route = append(slices.Clip(route), p.station)
	}
	local := next == p.station || t.hosted[next] && next == dest
	if !local && slices.Contains(route, next) {
		return tr, "", nil, fmt.Errorf("routing loop: next hop %s has held %s already (route %s)", next, tr.CableID, strings.Join(route, " "))
	}
	if len(route) > cable.MaxHops || !local && len(route) >= cable.MaxHops {
		return tr, "", nil, fmt.Errorf("route %s: more than %d hops", strings.Join(route, " "), cable.MaxHops)
	}
	tr.Route = route

	h := cloneHeader(m.Headers())
	h.Set(HeaderRoute, strings.Join(route, " "))
	h.Set(jetstream.MsgIDHeader, msgID(tr, tr.SHA256, next))
	subject := t.fwdSubject(next, dest, tr.Precedence)
	if next == dest {
		subject = t.inSubject(dest, tr.Precedence)
	}
	return tr, next, &natsgo.Msg{Subject: subject, Header: h, Data: m.Data()}, nil
}

// linkUp tries every next hop again at once, its back-off started over:
// a leaf link has come up, and the hop it leads to may be back. A FLASH
// cable released as the link returns does not wait out a back-off of
// seconds.
func (f *forwarder) linkUp(now time.Time) {
	if len(f.hops) == 0 {
		return
	}
	for _, st := range f.hops {
		st.failures, st.retryAt = 0, now
	}
	for _, l := range f.p.lanes {
		l.retryAt = time.Time{}
	}
}

// failed records that next did not take custody, raising the alerts.
func (f *forwarder) failed(next string, err error, now time.Time) {
	st := f.hops[next]
	if st == nil {
		st = &hopState{downSince: now}
		f.hops[next] = st
	}
	if st.retryAt.After(now) {
		return // one failure a batch
	}
	st.failures++
	st.retryAt = now.Add(min(minBackoff<<min(st.failures-1, 10), maxBackoff))
	station := f.p.station
	switch {
	case isFull(err):
		f.p.t.alert(station, fmt.Sprintf("next hop %s refused custody: no space (%s)", next, fullReason(err)))
	case now.Sub(st.downSince) >= unreachableAfter:
		f.p.t.alert(station, fmt.Sprintf("next hop %s unreachable for over a minute", next))
	}
	f.p.log.Warn("nats: next hop did not take custody; trying again", "next_hop", next, "failures", st.failures,
		"retry_in", time.Until(st.retryAt).Round(time.Millisecond), "err", err)
}

// fullReason is the stable words of a refusal for lack of space.
func fullReason(err error) string {
	s := strings.ToLower(err.Error())
	for _, r := range []string{"maximum bytes exceeded", "insufficient resources", "maximum messages exceeded", "storage limit"} {
		if strings.Contains(s, r) {
			return r
		}
	}
	return "full"
}

// holdBack sets when the lane may next be served: now if it holds a
// message for a next hop that is not backing off, else when the first of
// its next hops may be tried again.
func (f *forwarder) holdBack(l *lane, now time.Time) {
	var at time.Time
	for _, m := range l.held {
		_, next := f.nextHop(m)
		ok, when := f.ready(l.p, next, now)
		if ok {
			l.retryAt = time.Time{}
			return
		}
		if at.IsZero() || when.Before(at) {
			at = when
		}
	}
	l.retryAt = at
}

// shed hands back to the server, for later, what the lane holds beyond a
// batch for each next hop that is backing off, so that a hop that is down
// does not fill the lane and stop traffic to the other hops. They come
// back after the hop's time down so far, from maxBackoff to maxShedDelay,
// so that a long outage does not keep them going round.
//
// A batch message is shed whole or not at all: handed back in part, it
// would come back whole, and what of it was forwarded meanwhile would be
// forwarded again. So its transmissions are shed only when every one of
// them is here, none handled yet, and each is beyond its hop's batch.
func (f *forwarder) shed(l *lane, now time.Time) {
	if len(f.hops) == 0 {
		return // no hop is down
	}
	count := map[string]int{}
	beyond := make([]bool, len(l.held))
	batches := map[*batchMsg]int{} // transmissions beyond, by batch
	for i, m := range l.held {
		_, next := f.nextHop(m)
		if f.hops[next] == nil || count[next] < BatchSize {
			count[next]++
			continue
		}
		beyond[i] = true
		if e, ok := m.(*entry); ok {
			batches[e.b]++
		}
	}
	// Whole batches, none of whose transmissions is settled yet: asked
	// before any is handed back here, which settles it.
	whole := map[*batchMsg]bool{}
	for b, n := range batches {
		whole[b] = n == b.size && !b.started()
	}
	keep := l.held[:0]
	for i, m := range l.held {
		if !beyond[i] {
			keep = append(keep, m)
			continue
		}
		if e, ok := m.(*entry); ok && !whole[e.b] {
			keep = append(keep, m)
			continue
		}
		_, next := f.nextHop(m)
		st := f.hops[next]
		delay := min(max(now.Sub(st.downSince), maxBackoff), maxShedDelay)
		if md, err := m.Metadata(); err == nil {
			hl := hopLane{next, l.p}
			if _, again := f.shedSeqs[md.Sequence.Stream]; !again {
				f.shedSeqs[md.Sequence.Stream] = hl
				w := f.shedWait[hl]
				if w == nil {
					w = &shedWait{}
					f.shedWait[hl] = w
				}
				w.out++
				// Due back after delay; waited for as long again and a
				// little, since the server delivers when it gets to it.
				w.until = later(w.until, now.Add(2*delay+time.Second))
			}
		}
		f.p.nak(m, delay)
	}
	l.held = keep
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
