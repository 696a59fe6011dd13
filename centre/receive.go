package centre

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// receiveLoop takes delivery of the cables and receipts addressed to station.
func (c *Centre) receiveLoop(ctx context.Context, station string) error {
	return c.transport.Receive(ctx, station, func(ctx context.Context, ts []*cable.Transmission) error {
		return c.receive(ctx, station, ts)
	})
}

// receive opens and checks each transmission, stamps receipt and
// distributes it, records receipts returned for cables sent from here,
// and sends a signed receipt back to each cable's origin. A transmission
// that fails its checks is refused: recorded as a security event and
// acknowledged, so it is never shown as a cable nor redelivered. An error
// of the records store or the transport returns the batch to the
// transport, which delivers it again.
func (c *Centre) receive(ctx context.Context, station string, ts []*cable.Transmission) error {
	at := c.now().UTC()
	var arrivals []*cable.Arrival
	var receipts []*cable.DeliveryReceipt
	var refused []*cable.Event
	duplicates := 0
	refuse := func(t *cable.Transmission, reason string) {
		refused = append(refused, c.securityEvent(station, t, reason))
	}
	// The transport hands over every section of a cable together, in order.
	var groups [][]*cable.Transmission
	for i := 0; i < len(ts); {
		t := ts[i]
		n := 1
		for t.Sections > 1 && i+n < len(ts) && ts[i+n].CableID == t.CableID && ts[i+n].Sections == t.Sections && n < t.Sections {
			n++
		}
		groups = append(groups, ts[i:i+n])
		i += n
	}
	// Opening (decrypt, verify) and checking are pure work on each cable:
	// done on every core at once.
	opened := make([]openedCable, len(groups))
	parallel(len(groups), func(i int) {
		t := groups[i][0]
		if t.Refused != "" || t.Incomplete || t.Kind == cable.KindReceipt {
			return
		}
		o := &opened[i]
		o.plain, o.problem, o.notYet = c.open(station, groups[i])
		if o.problem == "" {
			o.arrival, o.problem = c.check(station, o.plain, at)
		}
	})
	for gi, group := range groups {
		t := group[0]
		switch {
		case t.Refused != "":
			refuse(t, t.Refused)
		case t.Incomplete:
			held, err := c.held(ctx, t.CableID, station)
			if err != nil {
				return err
			}
			if held {
				duplicates++ // sections delivered again after the cable was whole
				continue
			}
			refuse(t, fmt.Sprintf("truncated: not every one of its %d sections arrived", t.Sections))
		case t.Kind == cable.KindReceipt && (t.Sections > 1 || len(group) > 1):
			// Receipts are never cut into sections: a relay marked them
			// so, and each is refused, none dropped unrecorded.
			for _, s := range group {
				refuse(s, "receipts marked as sections of one transmission: receipts are never cut into sections")
			}
		case t.Kind == cable.KindReceipt:
			rs, problem, notYet := c.openReceipts(station, t)
			if notYet && c.awaitTrust(t, at) {
				t.Later = true
				continue
			}
			c.forgetWait(t)
			if problem != "" {
				refuse(t, problem)
				continue
			}
			receipts = append(receipts, rs...)
		default:
			o := opened[gi]
			if o.notYet && c.awaitTrust(t, at) {
				for _, s := range group {
					s.Later = true
				}
				continue
			}
			c.forgetWait(t)
			if o.plain == nil {
				refuse(t, o.problem)
				continue
			}
			plain, a, problem := o.plain, o.arrival, o.problem
			if problem == "" && at.Sub(a.Cable.DTG) > c.replayWindow {
				held, err := c.held(ctx, a.Cable.ID, station)
				if err != nil {
					return err
				}
				if !held {
					problem = fmt.Sprintf("replayed: dated %s, older than the replay window of %s", cable.FormatDTG(a.Cable.DTG), days(c.replayWindow))
				}
			}
			if problem != "" {
				refuse(plain, problem)
				continue
			}
			arrivals = append(arrivals, a)
		}
	}
	arrivals, conflicts, err := c.store(ctx, station, arrivals)
	if err != nil {
		return err
	}
	refused = append(refused, conflicts...)
	if len(receipts) > 0 {
		if err := c.delivered(ctx, station, receipts, &refused); err != nil {
			return err
		}
	}
	c.metrics.duplicates.WithLabelValues(station).Add(float64(duplicates))
	for _, a := range arrivals {
		if a.Duplicate {
			c.metrics.duplicates.WithLabelValues(station).Inc()
			continue
		}
		c.metrics.received.WithLabelValues(station).Inc()
		c.metrics.latency.WithLabelValues(a.Cable.Precedence.String()).Observe(at.Sub(a.Cable.DTG).Seconds())
	}
	// Receipts go back for duplicates too: the first may have been lost.
	// They go before the refusals are recorded: if they cannot go (this
	// node's stream full), the batch comes again, and a refusal recorded
	// already would be recorded at every delivery.
	if err := c.sendReceipts(ctx, station, arrivals); err != nil {
		return err
	}
	if len(refused) > 0 {
		if err := c.records.AppendEvents(ctx, refused); err != nil {
			return fmt.Errorf("record refused cables at %s: %w", station, err)
		}
		c.metrics.security.Add(float64(len(refused)))
		for _, e := range refused {
			c.log.Warn("cable refused", "station", station, "cable", e.CableID, "reason", e.Detail["reason"])
		}
	}
	return nil
}

// awaitTrust reports whether a cable sealed under a key generation not
// trusted yet should wait in custody (Transmission.Later) for the
// operator to trust it: for up to trustGrace after this centre first saw
// it, then it is refused like any cable that cannot be verified.
func (c *Centre) awaitTrust(t *cable.Transmission, now time.Time) bool {
	key := waitKey(t)
	first, seen := c.untrusted.LoadOrStore(key, now)
	if !seen {
		c.waiting.Add(1)
		c.log.Warn("signed under a key generation not trusted yet; holding it", "kind", t.Kind, "cable", t.CableID, "origin", t.Origin)
	}
	if now.Sub(first.(time.Time)) < trustGrace {
		return true
	}
	c.forgetWait(t)
	return false
}

// forgetWait forgets that t waited for its station's key: it was opened,
// or refused. Once the key is trusted the record would otherwise stay for
// the life of the process, and a later cable under the same name and a
// newer key would be refused at once instead of waiting.
func (c *Centre) forgetWait(t *cable.Transmission) {
	if c.waiting.Load() == 0 {
		return // nearly always: nothing waits
	}
	if _, ok := c.untrusted.LoadAndDelete(waitKey(t)); ok {
		c.waiting.Add(-1)
	}
}

// waitKey names what waits: by its sealed bytes too, so that another
// transmission under the same name (a relay's relabelled copy) has a wait
// of its own and cannot shorten the genuine one's.
func waitKey(t *cable.Transmission) string {
	return t.Kind + " " + t.CableID + " " + t.Origin + " " + t.SHA256
}

// trustGrace is how long a cable sealed under a key generation not trusted
// yet waits for an operator's `cable station trust`: as long as the
// generation before it still verifies (cable.RotationGrace), so that an
// exchange of identities by courier loses nothing in flight. An hour, as it
// was, lost the cables of a rotation whose trust took longer.
const trustGrace = cable.RotationGrace

// store writes the arrivals; one the store refuses as conflicting (the
// same identifier with another text) becomes a security event.
func (c *Centre) store(ctx context.Context, station string, arrivals []*cable.Arrival) ([]*cable.Arrival, []*cable.Event, error) {
	if len(arrivals) == 0 {
		return nil, nil, nil
	}
	err := c.records.Receive(ctx, arrivals)
	if err == nil {
		return arrivals, nil, nil
	}
	if cable.ErrorCode(err) != cable.ECONFLICT {
		return nil, nil, fmt.Errorf("receive at %s: %w", station, err)
	}
	// Find the conflicting arrival by storing them one by one.
	var stored []*cable.Arrival
	var refused []*cable.Event
	for _, a := range arrivals {
		if err := c.records.Receive(ctx, []*cable.Arrival{a}); err != nil {
			if cable.ErrorCode(err) != cable.ECONFLICT {
				return nil, nil, fmt.Errorf("receive at %s: %w", station, err)
			}
			refused = append(refused, c.securityEvent(station, transmissionOf(a), cable.ErrorMessage(err)))
			continue
		}
		stored = append(stored, a)
	}
	return stored, refused, nil
}

// held reports whether the cable has been received at station already.
func (c *Centre) held(ctx context.Context, id, station string) (bool, error) {
	rec, err := c.records.Cable(ctx, id)
	if cable.ErrorCode(err) == cable.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", id, err)
	}
	return rec.DeliveryFor(station) != nil, nil
}

// openedCable is a cable opened and checked, or why it was refused: by
// open (plain nil) or by check.
type openedCable struct {
	plain   *cable.Transmission
	arrival *cable.Arrival
	problem string
	notYet  bool
}

// open verifies and decrypts the sealed sections of one cable and joins
// them, returning the transmission of the whole plain text, or why it is
// refused and whether only the trust of a new key generation is missing.
func (c *Centre) open(station string, group []*cable.Transmission) (*cable.Transmission, string, bool) {
	t := group[0]
	if t.Sections > 1 && len(group) != t.Sections {
		return nil, fmt.Sprintf("%d of its %d sections handed over", len(group), t.Sections), false
	}
	parts := make([][]byte, len(group))
	for i, s := range group {
		if s.SHA256 != cable.SHA256Hex(s.Text) {
			return nil, "sealed text does not match its SHA-256: altered in transit", false
		}
		o, err := c.sealer.Open(station, s.Text)
		notYet := errors.Is(err, cable.ErrNotYetTrusted)
		if err != nil && (!notYet || o == nil) {
			return nil, "seal: " + cable.ErrorMessage(err), false
		}
		// Checked before a cable is held for its station's key: a relay
		// that relabels the envelope must not have it held.
		if o.CableID != t.CableID || o.Origin != t.Origin {
			return nil, fmt.Sprintf("envelope says %s from %s, the signed content %s from %s", t.CableID, t.Origin, o.CableID, o.Origin), false
		}
		if notYet {
			return nil, "seal: " + cable.ErrorMessage(err), true
		}
		parts[i] = o.Text
	}
	text := parts[0]
	if len(parts) > 1 {
		var err error
		if text, err = c.form.Join(parts); err != nil {
			return nil, "sections do not join: " + cable.ErrorMessage(err), false
		}
	}
	plain := *t
	plain.Text, plain.SHA256, plain.Section, plain.Sections = text, cable.SHA256Hex(text), 0, 0
	return &plain, "", false
}

// check verifies an opened transmission and builds its arrival, or says why it is refused.
func (c *Centre) check(station string, t *cable.Transmission, at time.Time) (*cable.Arrival, string) {
	if t.Destination != station {
		return nil, fmt.Sprintf("addressed to %s, delivered to %s", t.Destination, station)
	}
	cb, err := c.form.Parse(t.Text, false)
	if err != nil {
		return nil, "unreadable cable: " + err.Error()
	}
	if err := cable.Validate(cb, cable.ValidateOptions{Directory: c.dir}); err != nil {
		return nil, "invalid cable: " + err.Error()
	}
	if cb.ID != t.CableID {
		cb.ID = cable.Identifier(cb.DTG.Year(), cb.Station, cb.Serial)
		if cb.ID != t.CableID {
			return nil, fmt.Sprintf("envelope names %s, text is %s", t.CableID, cb.ID)
		}
	}
	if cb.Station != t.Origin {
		return nil, fmt.Sprintf("envelope says from %s, text is from %s", t.Origin, cb.Station)
	}
	addressed := false
	for _, s := range cb.Destinations() {
		addressed = addressed || s == station
	}
	if !addressed {
		return nil, fmt.Sprintf("%s is not an addressee of %s", station, cb.ID)
	}
	dist, ok := c.rules.Load().Distribute(cb, station)
	if !ok {
		return nil, fmt.Sprintf("no routing rules for %s", station)
	}
	return &cable.Arrival{
		Station: station, Cable: cb, Text: t.Text, SHA256: t.SHA256, At: at,
		Distribution: dist, Origin: cable.OriginReceived,
	}, ""
}

// openReceipts verifies the receipts a station returned to this one in
// one transmission, or says why they are refused (all of them: one bad
// receipt taints the bundle) and whether only the trust of a new key
// generation is missing.
func (c *Centre) openReceipts(station string, t *cable.Transmission) ([]*cable.DeliveryReceipt, string, bool) {
	if t.SHA256 != cable.SHA256Hex(t.Text) {
		return nil, "receipts do not match their SHA-256: altered in transit", false
	}
	srs, err := cable.ParseReceipts(t.Text)
	if err != nil {
		return nil, "unreadable receipts: " + err.Error(), false
	}
	var out []*cable.DeliveryReceipt
	for _, sr := range srs {
		for _, r := range sr.Receipts {
			if r.Station != t.Origin || r.Origin != station {
				return nil, fmt.Sprintf("envelope says receipts from %s to %s, the signed receipt for %s from %s to %s",
					t.Origin, station, r.CableID, r.Station, r.Origin), false
			}
		}
		if err := c.sealer.Verify(t.Origin, sr.Signed, sr.Signature); err != nil {
			return nil, fmt.Sprintf("receipts for %s and %d more: signature: %s", sr.Receipts[0].CableID, len(sr.Receipts)-1, cable.ErrorMessage(err)), errors.Is(err, cable.ErrNotYetTrusted)
		}
		out = append(out, sr.Receipts...)
	}
	return out, "", false
}

// delivered records receipts for cables sent from here.
func (c *Centre) delivered(ctx context.Context, station string, rs []*cable.DeliveryReceipt, refused *[]*cable.Event) error {
	events := func(rs []*cable.DeliveryReceipt) []*cable.Event {
		es := make([]*cable.Event, len(rs))
		for i, r := range rs {
			es[i] = &cable.Event{Kind: cable.EventDelivered, CableID: r.CableID, Station: station, Actor: "message-centre",
				Detail: map[string]any{"destination": r.Station, "received_at": r.ReceivedAt.UTC().Format(time.RFC3339Nano), "control_number": r.ControlNumber}}
		}
		return es
	}
	// Each receipt and its delivered event are recorded together.
	err := c.records.MarkDelivered(ctx, rs, events(rs))
	n := len(rs)
	if cable.ErrorCode(err) == cable.ENOTFOUND && len(rs) > 1 {
		// Find the receipt for a cable never sent from here.
		n = 0
		for _, r := range rs {
			one := []*cable.DeliveryReceipt{r}
			if err := c.records.MarkDelivered(ctx, one, events(one)); err != nil {
				if cable.ErrorCode(err) != cable.ENOTFOUND {
					return fmt.Errorf("record receipts at %s: %w", station, err)
				}
				*refused = append(*refused, c.receiptRefused(station, r, err))
				continue
			}
			n++
		}
		err = nil
	} else if cable.ErrorCode(err) == cable.ENOTFOUND {
		*refused = append(*refused, c.receiptRefused(station, rs[0], err))
		n, err = 0, nil
	}
	if err != nil {
		return fmt.Errorf("record receipts at %s: %w", station, err)
	}
	c.metrics.receipts.Add(float64(n))
	return nil
}

func (c *Centre) receiptRefused(station string, r *cable.DeliveryReceipt, err error) *cable.Event {
	return &cable.Event{Kind: cable.EventSecurity, CableID: r.CableID, Station: station, Actor: "message-centre",
		Detail: map[string]any{"reason": "receipt for a transmission not sent from here: " + cable.ErrorMessage(err), "origin": r.Station}}
}

// sendReceipts sends a receipt for each arrival back to its origin: one
// transmission for each origin, carrying its receipts of the batch (or as
// many as the channel carries) under one signature, at the precedence of
// the most urgent. A cable from a station this node hosts was marked
// received when it was stored.
func (c *Centre) sendReceipts(ctx context.Context, station string, arrivals []*cable.Arrival) error {
	type bundle struct {
		receipts []*cable.DeliveryReceipt
		size     int
		t        *cable.Transmission
	}
	var bundles []*bundle
	byOrigin := map[string]*bundle{}
	for _, a := range arrivals {
		if c.hosted[a.Cable.Station] {
			continue
		}
		r := &cable.DeliveryReceipt{CableID: a.Cable.ID, Origin: a.Cable.Station, Station: station,
			ReceivedAt: a.Receipt.At, ControlNumber: a.Receipt.ControlNumber}
		size := len(r.SignedBytes())
		b := byOrigin[r.Origin]
		// A bundle fits the channel and what a receiver reads, with room
		// for its header and signature.
		if b != nil && b.size+size+256 > min(c.sectionLimit, cable.MaxReceiptBundle) {
			b = nil
		}
		if b == nil {
			b = &bundle{t: &cable.Transmission{Kind: cable.KindReceipt, CableID: a.Cable.ID, Origin: station, Destination: r.Origin,
				Precedence: a.Cable.Precedence, QueuedAt: c.now().UTC()}}
			byOrigin[r.Origin] = b
			bundles = append(bundles, b)
		}
		b.receipts = append(b.receipts, r)
		b.size += size
		b.t.Precedence = min(b.t.Precedence, a.Cable.Precedence) // FLASH is the smallest
	}
	if len(bundles) == 0 {
		return nil
	}
	out := make([]*cable.Transmission, len(bundles))
	for i, b := range bundles {
		signed := cable.ReceiptsSignedBytes(station, b.t.Destination, b.receipts)
		sig, err := c.sealer.Sign(station, signed)
		if err != nil {
			return fmt.Errorf("sign receipts for %s and %d more: %w", b.receipts[0].CableID, len(b.receipts)-1, err)
		}
		b.t.Text = cable.MarshalReceipts(signed, sig)
		b.t.SHA256 = cable.SHA256Hex(b.t.Text)
		out[i] = b.t
	}
	if err := c.transport.Send(ctx, out); err != nil {
		return fmt.Errorf("send receipts from %s: %w", station, err)
	}
	return nil
}

func (c *Centre) securityEvent(station string, t *cable.Transmission, reason string) *cable.Event {
	d := map[string]any{
		"reason": reason, "origin": t.Origin, "destination": t.Destination,
		"sha256": cable.SHA256Hex(t.Text), "claimed_sha256": t.SHA256, "bytes": len(t.Text),
	}
	if t.Kind != "" {
		d["kind"] = t.Kind
	}
	if t.Sections > 0 {
		d["section"], d["sections"] = t.Section, t.Sections
	}
	if len(t.Route) > 0 {
		d["route"] = strings.Join(t.Route, " ")
	}
	return &cable.Event{Kind: cable.EventSecurity, CableID: t.CableID, Station: station, Actor: "message-centre", Detail: d}
}

func transmissionOf(a *cable.Arrival) *cable.Transmission {
	return &cable.Transmission{CableID: a.Cable.ID, Origin: a.Cable.Station, Destination: a.Station, Text: a.Text, SHA256: a.SHA256}
}

// days writes a duration of whole days as "30 days".
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
