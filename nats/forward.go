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

	f := &forwarder{hops: map[string]*hopState{}, limits: map[string]int{}}
	p := &puller{
		t: t, station: station, h: h, log: t.log.With("station", station, "role", "forward"),
		maxAckPending: maxAckPending,
		consumer: func(p cable.Precedence) (string, string, string) {
			return ForwardConsumerName(station, p), t.fwdSubject(station, "*", p), fmt.Sprintf("%s cables at %s for other stations", p, station)
		},
	}
	f.p = p
	p.deliver = f.deliver
	p.onLinkUp = f.linkUp
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

func (f *forwarder) ready(hop string, now time.Time) bool {
	st := f.hops[hop]
	return st == nil || !now.Before(st.retryAt)
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
		if _, next := f.nextHop(m); len(pick) < forwardBatch && f.ready(next, now) {
			pick = append(pick, m)
		} else {
			keep = append(keep, m)
		}
	}
	l.held = keep
	if len(pick) == 0 {
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
	f.shed(l)
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
		st := f.hops[next]
		if st == nil || !now.Before(st.retryAt) {
			l.retryAt = time.Time{}
			return
		}
		if at.IsZero() || st.retryAt.Before(at) {
			at = st.retryAt
		}
	}
	l.retryAt = at
}

// shed hands back to the server, for later, what the lane holds beyond a
// batch for each next hop that is backing off, so that they do not use up
// the consumer's pending allowance and stop traffic to the other hops.
func (f *forwarder) shed(l *lane) {
	count := map[string]int{}
	keep := l.held[:0]
	for _, m := range l.held {
		_, next := f.nextHop(m)
		if st := f.hops[next]; st != nil && count[next] >= BatchSize {
			f.p.nak(m, maxBackoff)
			continue
		}
		count[next]++
		keep = append(keep, m)
	}
	l.held = keep
}
