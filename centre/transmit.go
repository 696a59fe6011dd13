package centre

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

const transmitBatch = 512

// transmitPace is the default least time between the starts of two
// rounds of the transmitter woken by releases (Config.TransmitPace).
// Each round costs the same whatever it carries: a custody
// acknowledgement at the post, a transaction marking its cables sent, and
// a batch at each hop after. With few releasing clients a round would
// otherwise carry only the one release transaction before it. A FLASH
// release wakes the transmitter at once.
const transmitPace = 25 * time.Millisecond

// transmitLoop hands queued transmissions to the transport and marks them
// sent once the transport has custody. It runs at start (for what a crash
// left queued), after releases commit (at most once every c.pace, but at
// once for FLASH), and every few seconds.
func (c *Centre) transmitLoop(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	for {
		began := time.Now()
		for {
			more, err := c.transmitOnce(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				c.log.Error("transmit", "err", err)
				break
			}
			if !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.flash:
			continue
		case <-c.kick:
		case <-tick.C:
		}
		if wait := c.pace - time.Since(began); wait > 0 {
			pace.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-c.flash:
			case <-pace.C:
			}
			pace.Stop() // since Go 1.23 a stopped timer's channel holds nothing stale
		}
	}
}

// transmitOnce seals a batch of queued transmissions, each cut into
// sections when it is longer than the channel carries, hands them to the
// transport and marks them sent. A transmission that cannot be sealed
// (its destination's key no longer trusted, say) stays queued, and the
// operator is alerted once. It reports whether the outbox may hold more
// than it took.
func (c *Centre) transmitOnce(ctx context.Context) (bool, error) {
	// Room beside a whole batch for those known not to seal, so that
	// they cannot fill every batch and hold up what is queued behind
	// them.
	limit := transmitBatch + len(c.unsealable)
	ts, err := c.records.PendingTransmissions(ctx, limit)
	if err != nil || len(ts) == 0 {
		return false, err
	}
	more := len(ts) == limit
	var wire []*cable.Transmission
	var sent []*cable.Transmission
	var alerts []*cable.Event
	// Sealing (sign, encrypt) is pure work on each cable: done on every
	// core at once.
	sealed := make([][]*cable.Transmission, len(ts))
	errs := make([]error, len(ts))
	parallel(len(ts), func(i int) { sealed[i], errs[i] = c.seal(ts[i]) })
	var newly []string
	keys := make([]string, len(ts))
	for i, t := range ts {
		parts, err := sealed[i], errs[i]
		key := t.CableID + " " + t.Destination
		keys[i] = key
		if err != nil {
			if !c.unsealable[key] {
				c.unsealable[key] = true
				newly = append(newly, key)
				c.log.Error("cannot seal transmission; it stays queued", "cable", t.CableID, "destination", t.Destination, "err", err)
				alerts = append(alerts, c.alertEvent(t.Origin, fmt.Sprintf("cannot seal %s for %s: %s", t.CableID, t.Destination, cable.ErrorMessage(err)),
					map[string]any{"cable": t.CableID, "destination": t.Destination}))
			}
			continue
		}
		delete(c.unsealable, key)
		wire = append(wire, parts...)
		sent = append(sent, t)
	}
	if !more && len(c.unsealable) > 0 {
		// The whole outbox was read: forget those no longer in it
		// (received by other means), so that they take no room.
		queued := make(map[string]bool, len(keys))
		for _, key := range keys {
			queued[key] = true
		}
		for key := range c.unsealable {
			if !queued[key] {
				delete(c.unsealable, key)
			}
		}
	}
	if len(alerts) > 0 {
		if err := c.records.AppendEvents(ctx, alerts); err != nil {
			// Not recorded: alert again at the next pass.
			for _, key := range newly {
				delete(c.unsealable, key)
			}
			return false, err
		}
		c.metrics.alerts.Add(float64(len(alerts)))
	}
	if len(wire) == 0 {
		return more, nil
	}
	start := time.Now()
	if err := c.transport.Send(ctx, wire); err != nil {
		return false, err
	}
	c.metrics.sendSeconds.Observe(time.Since(start).Seconds())
	// The hop of the first part is the cable's: every section goes the same way.
	hop := map[string]string{}
	for _, w := range wire {
		if _, ok := hop[w.CableID+" "+w.Destination]; !ok {
			hop[w.CableID+" "+w.Destination] = w.Hop
		}
	}
	for _, t := range sent {
		// A cable still in the originating station's own custody is not
		// yet in transit anywhere: its forwarder reports the first hop.
		if h := hop[t.CableID+" "+t.Destination]; h != t.Origin {
			t.Hop = h
		}
	}
	at := c.now().UTC()
	events := make([]*cable.Event, len(sent))
	for i, t := range sent {
		events[i] = &cable.Event{At: at, Kind: cable.EventTransmitted, CableID: t.CableID, Station: t.Origin, Actor: "message-centre",
			Detail: map[string]any{"destination": t.Destination, "precedence": t.Precedence.String()}}
	}
	if err := c.records.MarkTransmitted(ctx, sent, at, events); err != nil {
		return false, err
	}
	c.metrics.transmitted.Add(float64(len(sent)))
	return more, nil
}

// seal cuts t's text into sections when it is longer than the channel
// carries and seals each (signed by the origin, encrypted to the
// destination), returning what goes on the wire.
func (c *Centre) seal(t *cable.Transmission) ([]*cable.Transmission, error) {
	parts := [][]byte{t.Text}
	if len(t.Text) > c.sectionLimit {
		cb, err := c.form.Parse(t.Text, false)
		if err != nil {
			return nil, fmt.Errorf("read %s to cut it: %w", t.CableID, err)
		}
		cb.ID = t.CableID
		if parts, err = c.form.Cut(cb, c.sectionLimit); err != nil {
			return nil, fmt.Errorf("cut %s: %w", t.CableID, err)
		}
	}
	out := make([]*cable.Transmission, len(parts))
	for i, p := range parts {
		sealed, err := c.sealer.Seal(t.Origin, t.CableID, p, []string{t.Destination})
		if err != nil {
			return nil, err
		}
		w := *t
		w.Kind, w.Text, w.SHA256 = cable.KindCable, sealed, cable.SHA256Hex(sealed)
		if len(parts) > 1 {
			w.Section, w.Sections = i+1, len(parts)
		}
		out[i] = &w
	}
	return out, nil
}

// forwardLoop relays what is in custody at station for other stations,
// and follows this node's own cables to the hop that took them.
func (c *Centre) forwardLoop(ctx context.Context, station string) error {
	return c.transport.Forward(ctx, station, func(ctx context.Context, ts []*cable.Transmission) error {
		var moved []*cable.Transmission
		var refused []*cable.Event
		seen := map[string]bool{}
		for _, t := range ts {
			if t.Refused != "" {
				refused = append(refused, c.securityEvent(station, t, t.Refused))
				continue
			}
			key := t.CableID + " " + t.Destination
			if t.Kind == cable.KindReceipt || !c.hosted[t.Origin] || seen[key] {
				continue
			}
			seen[key] = true
			moved = append(moved, t)
		}
		c.metrics.forwarded.WithLabelValues(station).Add(float64(len(ts) - len(refused)))
		if len(refused) > 0 {
			if err := c.records.AppendEvents(ctx, refused); err != nil {
				return fmt.Errorf("record refused transmissions at %s: %w", station, err)
			}
			c.metrics.security.Add(float64(len(refused)))
		}
		if len(moved) > 0 {
			select {
			case c.moved <- moved:
			case <-ctx.Done():
			}
		}
		return nil
	})
}

// hopLoop records the next hop of each cable a forwarder has handed on
// ("in transit at WAR" on the sent list), gathering what the forwarders
// hand it meanwhile into one transaction, at most one every hopInterval.
// Custody has passed already: this is the post's view of where its cables
// are, and a hop not recorded (a crash first) is overtaken by the receipt.
func (c *Centre) hopLoop(ctx context.Context) error {
	for {
		var ts []*cable.Transmission
		select {
		case <-ctx.Done():
			c.recordHops(context.WithoutCancel(ctx), c.drainMoved(nil))
			return nil
		case ts = <-c.moved:
		}
		start := time.Now()
		c.recordHops(ctx, c.drainMoved(ts))
		// Unless the forwarders are filling the channel, let what they
		// hand on gather for the rest of the interval.
		if len(c.moved) < cap(c.moved)/2 {
			wait := time.NewTimer(hopInterval - time.Since(start))
			select {
			case <-ctx.Done():
				wait.Stop()
			case <-wait.C:
			}
		}
	}
}

// hopInterval is the least time between two recordings of hops. Where a
// cable is in transit is for people to read; a transaction for every
// batch forwarded took the post's records from its releases (a third of
// its write transactions under load).
const hopInterval = 250 * time.Millisecond

// maxHops bounds the hops recorded in one transaction.
const maxHops = 8 * transmitBatch

// drainMoved appends to ts whatever the forwarders have queued.
func (c *Centre) drainMoved(ts []*cable.Transmission) []*cable.Transmission {
	for len(ts) < maxHops {
		select {
		case more := <-c.moved:
			ts = append(ts, more...)
		default:
			return ts
		}
	}
	return ts
}

// recordHops marks each transmission with its latest hop.
func (c *Centre) recordHops(ctx context.Context, ts []*cable.Transmission) {
	if len(ts) == 0 {
		return
	}
	latest := make(map[string]int, len(ts))
	var out []*cable.Transmission
	for _, t := range ts {
		key := t.CableID + " " + t.Destination
		if i, ok := latest[key]; ok {
			out[i] = t
			continue
		}
		latest[key] = len(out)
		out = append(out, t)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.records.RecordHops(ctx, out); err != nil {
		c.log.Warn("hops of forwarded cables not recorded; their receipts will show where they went", "count", len(out), "err", err)
	}
}
