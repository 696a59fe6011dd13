package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// This file holds the subtests of the transmissions' life after release:
// custody by hops, receipts returned by destinations, and the
// speed-of-service watch.

// stateOf returns the state of the transmission of id to dest as Cable
// reads it back.
func stateOf(t *testing.T, r cable.Records, id, dest string) cable.TransmissionState {
	t.Helper()
	for _, ts := range record(t, r, id).Transmissions {
		if ts.Destination == dest {
			return ts
		}
	}
	t.Fatalf("%s has no transmission to %s", id, dest)
	return cable.TransmissionState{}
}

// sentState returns the state of the transmission of id to dest as a
// sent list of the cable's station reads it back.
func sentState(t *testing.T, r cable.Records, station, id, dest string) cable.TransmissionState {
	t.Helper()
	ss, _ := find(t, r, all(cable.CableFilter{Station: station, Sent: true, Limit: cable.MaxListLimit}))
	for _, s := range ss {
		if s.ID != id {
			continue
		}
		for _, ts := range s.Transmissions {
			if ts.Destination == dest {
				return ts
			}
		}
	}
	t.Fatalf("the sent list of %s has no transmission of %s to %s", station, id, dest)
	return cable.TransmissionState{}
}

// pending returns the pending transmission of id to dest.
func pending(t *testing.T, r cable.Records, id, dest string) *cable.Transmission {
	t.Helper()
	ps, err := r.PendingTransmissions(ctx, 0)
	must(t, err)
	for _, p := range ps {
		if p.CableID == id && p.Destination == dest {
			return p
		}
	}
	t.Fatalf("no pending transmission of %s to %s in %v", id, dest, ps)
	return nil
}

func timeIs(p *time.Time, want time.Time) bool { return p != nil && p.Equal(want) }

func (s *suite) transmitHop(t *testing.T, r cable.Records) {
	c := Cable("MOSCOW", feb, "via WAR", "text")
	c.To = append(c.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo})
	Release(t, r, c)
	toState, toLondon := pending(t, r, c.ID, "STATE"), pending(t, r, c.ID, "LONDON")

	// Custody passes to the relay WAR.
	sent := feb.Add(time.Minute)
	toState.Hop = "WAR"
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sent, nil))
	for _, st := range []cable.TransmissionState{stateOf(t, r, c.ID, "STATE"), sentState(t, r, "MOSCOW", c.ID, "STATE")} {
		if st.State != cable.TransmissionSent || !timeIs(st.SentAt, sent) || st.Hop != "WAR" || st.ReceivedAt != nil || st.ControlNumber != "" || st.OverdueAt != nil {
			t.Errorf("after custody passed to WAR: %+v", st)
		}
	}
	if st := stateOf(t, r, c.ID, "LONDON"); st.State != cable.TransmissionQueued || st.Hop != "" || st.SentAt != nil {
		t.Errorf("transmission to LONDON changed with the one to STATE: %+v", st)
	}

	// The cable moves on to STATE: the hop follows it, the time of
	// sending stays that of the first custody.
	toState.Hop = "STATE"
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sent.Add(time.Minute), nil))
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionSent || !timeIs(st.SentAt, sent) || st.Hop != "STATE" {
		t.Errorf("after the cable moved on to STATE: %+v", st)
	}
	// A transmission marked again without a hop keeps the one it has.
	toState.Hop = ""
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sent.Add(2*time.Minute), nil))
	if st := stateOf(t, r, c.ID, "STATE"); !timeIs(st.SentAt, sent) || st.Hop != "STATE" {
		t.Errorf("after marking again without a hop: %+v", st)
	}

	// A failed batch changes nothing of it.
	toLondon.Hop = "WAR"
	err := r.MarkTransmitted(ctx, []*cable.Transmission{toLondon, {CableID: c.ID, Destination: "PARIS", Hop: "WAR"}}, sent, nil)
	wantCode(t, err, cable.ENOTFOUND)
	if st := stateOf(t, r, c.ID, "LONDON"); st.State != cable.TransmissionQueued || st.Hop != "" {
		t.Errorf("a failed MarkTransmitted batch changed the transmission to LONDON: %+v", st)
	}
	// Sent without a hop named: sent, no hop.
	toLondon.Hop = ""
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toLondon}, sent, nil))
	if st := stateOf(t, r, c.ID, "LONDON"); st.State != cable.TransmissionSent || !timeIs(st.SentAt, sent) || st.Hop != "" {
		t.Errorf("transmission to LONDON sent without a hop: %+v", st)
	}

	// Once received, a transmission stays as it is.
	recv := sent.Add(time.Hour)
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{{CableID: c.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: recv, ControlNumber: "8963"}}, nil))
	toState.Hop = "PARIS"
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, recv.Add(time.Hour), nil))
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionReceived || !timeIs(st.SentAt, sent) || st.Hop != "STATE" ||
		!timeIs(st.ReceivedAt, recv) || st.ControlNumber != "8963" {
		t.Errorf("a received transmission marked transmitted again: %+v", st)
	}
	if ps, err := r.PendingTransmissions(ctx, 0); err != nil || len(ps) != 0 {
		t.Errorf("pending after both were sent: %v, %v", ps, err)
	}
}

// recordHops: a forwarder's report of where a cable went sets the hop and
// leaves the state: a cable cut into sections may have one section at the
// relay while the transport has not taken the others, and must stay
// queued to be sent whole.
func (s *suite) recordHops(t *testing.T, r cable.Records) {
	c := Cable("MOSCOW", feb, "in sections", "text")
	c.To = append(c.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo}, cable.Addressee{Station: "PARIS", Role: cable.RoleInfo})
	Release(t, r, c)
	toState, toLondon, toParis := pending(t, r, c.ID, "STATE"), pending(t, r, c.ID, "LONDON"), pending(t, r, c.ID, "PARIS")

	toState.Hop = "WAR"
	must(t, r.RecordHops(ctx, []*cable.Transmission{toState}))
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionQueued || st.Hop != "WAR" || st.SentAt != nil {
		t.Errorf("a queued transmission whose first section reached WAR: %+v, want queued with hop WAR", st)
	}
	if ps, err := r.PendingTransmissions(ctx, 0); err != nil || len(ps) != 3 {
		t.Errorf("pending after a hop recorded: %d, %v; want all 3 still to send", len(ps), err)
	}
	// The transport then takes the whole cable; the hop stays.
	toState.Hop = ""
	sent := feb.Add(time.Minute)
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sent, nil))
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionSent || !timeIs(st.SentAt, sent) || st.Hop != "WAR" {
		t.Errorf("sent after its hop was recorded: %+v, want sent with hop WAR", st)
	}
	// A sent one moves on; a received one stays as it is.
	toState.Hop = "STATE"
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toLondon}, sent, nil))
	recv := sent.Add(time.Hour)
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{{CableID: c.ID, Origin: "MOSCOW", Station: "LONDON", ReceivedAt: recv, ControlNumber: "12"}}, nil))
	toLondon.Hop = "PARIS"
	must(t, r.RecordHops(ctx, []*cable.Transmission{toState, toLondon}))
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionSent || st.Hop != "STATE" || !timeIs(st.SentAt, sent) {
		t.Errorf("a sent transmission whose cable moved on: %+v, want hop STATE", st)
	}
	if st := stateOf(t, r, c.ID, "LONDON"); st.State != cable.TransmissionReceived || st.Hop != "" || !timeIs(st.ReceivedAt, recv) {
		t.Errorf("a received transmission given a hop: %+v, want it as it was", st)
	}
	// One never queued: ENOTFOUND, and nothing of the batch written.
	toParis.Hop = "WAR"
	err := r.RecordHops(ctx, []*cable.Transmission{toParis, {CableID: c.ID, Destination: "ROME", Hop: "WAR"}})
	wantCode(t, err, cable.ENOTFOUND)
	if st := stateOf(t, r, c.ID, "PARIS"); st.State != cable.TransmissionQueued || st.Hop != "" {
		t.Errorf("a failed RecordHops batch changed the transmission to PARIS: %+v", st)
	}
	wantCode(t, r.RecordHops(ctx, []*cable.Transmission{nil}), cable.EINVALID)
}

func (s *suite) markDelivered(t *testing.T, r cable.Records) {
	x := Cable("MOSCOW", feb, "to STATE and LONDON", "text")
	x.To = append(x.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo})
	y := Cable("MOSCOW", feb, "to STATE", "text")
	Release(t, r, x, y)
	sent := feb.Add(time.Minute)
	toState := pending(t, r, x.ID, "STATE")
	toState.Hop = "WAR"
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sent, nil))

	// A receipt for a sent transmission: received, with its time and
	// control number; what was there stays.
	recv := time.Date(2026, 2, 22, 20, 52, 0, 123456000, time.FixedZone("EST", -5*3600))
	rx := &cable.DeliveryReceipt{CableID: x.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: recv, ControlNumber: "8963"}
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{rx}, nil))
	for _, st := range []cable.TransmissionState{stateOf(t, r, x.ID, "STATE"), sentState(t, r, "MOSCOW", x.ID, "STATE")} {
		if st.State != cable.TransmissionReceived || !timeIs(st.ReceivedAt, recv) || st.ControlNumber != "8963" ||
			!timeIs(st.SentAt, sent) || st.Hop != "WAR" || st.OverdueAt != nil {
			t.Errorf("after the receipt from STATE: %+v", st)
		}
	}
	if st := stateOf(t, r, x.ID, "STATE"); st.ReceivedAt.Location() != time.UTC {
		t.Errorf("received at %v, want UTC", st.ReceivedAt)
	}
	if st := stateOf(t, r, x.ID, "LONDON"); st.State != cable.TransmissionQueued || st.ReceivedAt != nil || st.ControlNumber != "" {
		t.Errorf("transmission to LONDON changed with the receipt from STATE: %+v", st)
	}
	if d := record(t, r, x.ID).Deliveries; len(d) != 0 {
		t.Errorf("a returned receipt made deliveries %+v: those are the receiving node's", d)
	}

	// The same receipt again, or another for the same transmission,
	// changes nothing.
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{rx, {CableID: x.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: recv.Add(time.Hour), ControlNumber: "1"}}, nil))
	if st := stateOf(t, r, x.ID, "STATE"); !timeIs(st.ReceivedAt, recv) || st.ControlNumber != "8963" {
		t.Errorf("a second receipt changed a received transmission: %+v", st)
	}

	// A receipt may come back before the transmission is marked sent.
	ry := &cable.DeliveryReceipt{CableID: y.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: recv, ControlNumber: "8964"}
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{ry}, nil))
	if st := stateOf(t, r, y.ID, "STATE"); st.State != cable.TransmissionReceived || st.SentAt != nil || st.ControlNumber != "8964" {
		t.Errorf("receipt for a queued transmission: %+v", st)
	}
	ps, err := r.PendingTransmissions(ctx, 0)
	must(t, err)
	if len(ps) != 1 || ps[0].CableID != x.ID || ps[0].Destination != "LONDON" {
		t.Errorf("pending after the receipts: %v", ps)
	}

	// A receipt for a transmission never queued fails the whole batch.
	rl := &cable.DeliveryReceipt{CableID: x.ID, Origin: "MOSCOW", Station: "LONDON", ReceivedAt: recv, ControlNumber: "77"}
	for _, bad := range []*cable.DeliveryReceipt{
		{CableID: x.ID, Origin: "MOSCOW", Station: "PARIS", ReceivedAt: recv, ControlNumber: "1"},
		{CableID: "2026MOSCOW09999", Origin: "MOSCOW", Station: "LONDON", ReceivedAt: recv, ControlNumber: "1"},
	} {
		err := r.MarkDelivered(ctx, []*cable.DeliveryReceipt{rl, bad}, nil)
		wantCode(t, err, cable.ENOTFOUND)
		if msg := cable.ErrorMessage(err); !strings.Contains(msg, bad.CableID) || !strings.Contains(msg, bad.Station) {
			t.Errorf("error %q names not the cable %s and station %s", msg, bad.CableID, bad.Station)
		}
		if st := stateOf(t, r, x.ID, "LONDON"); st.State != cable.TransmissionQueued || st.ControlNumber != "" {
			t.Errorf("a failed MarkDelivered batch changed the transmission to LONDON: %+v", st)
		}
	}

	// Every problem of a batch is named, and nothing of it is written.
	err = r.MarkDelivered(ctx, []*cable.DeliveryReceipt{rl, nil, {}, {CableID: x.ID, Station: "london", ControlNumber: "1"}}, nil)
	wantCode(t, err, cable.EINVALID)
	ps2 := cable.ErrorProblems(err)
	for _, want := range []string{"receipts[1]", "receipts[2].cable_id", "receipts[2].station", "receipts[2].received_at",
		"receipts[2].control_number", "receipts[3].station", "receipts[3].received_at"} {
		if !slices.ContainsFunc(ps2, func(p cable.Problem) bool { return p.Field == want }) {
			t.Errorf("problems %v name nothing of %s", ps2, want)
		}
	}
	if slices.ContainsFunc(ps2, func(p cable.Problem) bool { return strings.HasPrefix(p.Field, "receipts[0]") }) {
		t.Errorf("problems %v name the valid receipts[0]", ps2)
	}
	if st := stateOf(t, r, x.ID, "LONDON"); st.State != cable.TransmissionQueued {
		t.Errorf("an invalid MarkDelivered batch changed the transmission to LONDON: %+v", st)
	}
	must(t, r.MarkDelivered(ctx, nil, nil))

	// Two receipts for one transmission in a batch: the first counts.
	rl2 := *rl
	rl2.ControlNumber = "78"
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{rl, &rl2}, nil))
	if st := sentState(t, r, "MOSCOW", x.ID, "LONDON"); st.State != cable.TransmissionReceived || st.ControlNumber != "77" || st.SentAt != nil {
		t.Errorf("transmission to LONDON after two receipts in a batch: %+v", st)
	}
	if st := sentState(t, r, "MOSCOW", x.ID, "LONDON"); st.Describe(cable.Routine, recv) != "received 2026-02-23 01:52Z, control 77" {
		t.Errorf("sent list describes %q", st.Describe(cable.Routine, recv))
	}
}

// overdueCase is one transmission of the speed-of-service subtest.
type overdueCase struct {
	id, dest   string
	precedence cable.Precedence
}

func (s *suite) overdue(t *testing.T, r cable.Records) {
	mk := func(p cable.Precedence, subject string, to ...string) *cable.Cable {
		c := Cable("MOSCOW", feb, subject, "text")
		c.Precedence = p
		c.To = nil
		for _, st := range to {
			c.To = append(c.To, cable.Addressee{Station: st, Role: cable.RoleAction})
		}
		return c
	}
	// One batch each, so that the queue times follow the order of release.
	cs := []*cable.Cable{
		mk(cable.Routine, "routine", "STATE"),
		mk(cable.Flash, "flash", "STATE"),
		mk(cable.Immediate, "immediate", "STATE"),
		mk(cable.Priority, "priority", "STATE"),
		mk(cable.Flash, "flash to two", "STATE", "LONDON"),
		mk(cable.Flash, "flash received", "STATE"),
		mk(cable.Flash, "flash in transit", "STATE"),
	}
	for _, c := range cs {
		Release(t, r, c)
	}
	routine, flash, fReceived, fTransit := cs[0], cs[1], cs[5], cs[6]
	queued := func(c *cable.Cable) time.Time { return record(t, r, c.ID).Transmissions[0].QueuedAt }
	first, last := queued(routine), queued(fTransit)
	if last.Before(first) {
		t.Fatalf("queue times run backwards: %v then %v", first, last)
	}
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{{CableID: fReceived.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: last, ControlNumber: "1"}}, nil))
	transit := pending(t, r, fTransit.ID, "STATE")
	transit.Hop = "WAR"
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{transit}, last, nil))

	// want is the model: every transmission the domain calls overdue at
	// now and not marked so, oldest first, then by cable and destination.
	want := func(now time.Time) []overdueCase {
		var out []overdueCase
		type keyed struct {
			overdueCase
			queued time.Time
		}
		var ks []keyed
		for _, c := range cs {
			for _, st := range record(t, r, c.ID).Transmissions {
				if st.State != cable.TransmissionReceived && st.OverdueAt == nil && st.Overdue(c.Precedence, now) {
					ks = append(ks, keyed{overdueCase{c.ID, st.Destination, c.Precedence}, st.QueuedAt})
				}
			}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int {
			if c := a.queued.Compare(b.queued); c != 0 {
				return c
			}
			if c := strings.Compare(a.id, b.id); c != 0 {
				return c
			}
			return strings.Compare(a.dest, b.dest)
		})
		for _, k := range ks {
			out = append(out, k.overdueCase)
		}
		return out
	}
	got := func(now time.Time, limit int) []overdueCase {
		t.Helper()
		ts, err := r.OverdueTransmissions(ctx, now, limit)
		if err != nil {
			t.Fatalf("OverdueTransmissions(%v, %d): %v", now, limit, err)
		}
		var out []overdueCase
		for _, x := range ts {
			out = append(out, overdueCase{x.CableID, x.Destination, x.Precedence})
		}
		return out
	}
	check := func(what string, now time.Time, wantN int) {
		t.Helper()
		g, w := got(now, 0), want(now)
		if !slices.Equal(g, w) {
			t.Errorf("%s: overdue %v, want %v", what, g, w)
		}
		if wantN >= 0 && len(w) != wantN {
			t.Errorf("%s: the model says %d overdue, the subtest expects %d", what, len(w), wantN)
		}
	}
	check("at release", last, 0)
	// The objective is a bound: at exactly queue time + 10 minutes a
	// FLASH cable is not yet overdue, a microsecond later it is.
	check("at the FLASH objective", queued(flash).Add(10*time.Minute), 0)
	check("a microsecond after the FLASH objective", queued(flash).Add(10*time.Minute+time.Microsecond), -1)
	if g := got(queued(flash).Add(10*time.Minute+time.Microsecond), 0); len(g) == 0 || g[0] != (overdueCase{flash.ID, "STATE", cable.Flash}) {
		t.Errorf("a microsecond after the FLASH objective: %v, want %s first", g, flash.ID)
	}
	check("FLASH objective of the last", last.Add(10*time.Minute+time.Microsecond), 4) // flash, flash to two (2), in transit
	check("IMMEDIATE objective", last.Add(30*time.Minute+time.Microsecond), 5)
	check("PRIORITY objective", last.Add(3*time.Hour+time.Microsecond), 6)
	check("ROUTINE objective", last.Add(6*time.Hour+time.Microsecond), 7)
	check("years later", last.AddDate(10, 0, 0), 7)
	late := last.Add(6*time.Hour + time.Minute)

	// The fields of an overdue transmission.
	ts, err := r.OverdueTransmissions(ctx, late, 0)
	must(t, err)
	for _, x := range ts {
		st := stateOf(t, r, x.CableID, x.Destination)
		wantHop := ""
		if x.CableID == fTransit.ID {
			wantHop = "WAR"
		}
		if x.Origin != "MOSCOW" || !x.QueuedAt.Equal(st.QueuedAt) || x.QueuedAt.Location() != time.UTC || x.Hop != wantHop || x.Refused != "" {
			t.Errorf("overdue transmission %+v, transmission state %+v", x, st)
		}
	}

	// Limits: the oldest first; none or a negative one is the default.
	every := want(late)
	if g := got(late, 2); !slices.Equal(g, every[:2]) {
		t.Errorf("overdue, limit 2: %v, want %v", g, every[:2])
	}
	if g := got(late, -1); !slices.Equal(g, every) {
		t.Errorf("overdue, limit -1: %v, want %v", g, every)
	}
	_, err = r.OverdueTransmissions(ctx, time.Time{}, 0)
	wantCode(t, err, cable.EINVALID)

	// Marked overdue: out of the watch, the time kept, the first one only.
	alerted := late.Add(time.Second)
	must(t, r.MarkOverdue(ctx, ts[:2], alerted, nil))
	check("after two were marked overdue", late, 5)
	for _, x := range ts[:2] {
		if st := stateOf(t, r, x.CableID, x.Destination); !timeIs(st.OverdueAt, alerted) || !st.Overdue(x.Precedence, late) {
			t.Errorf("marked overdue: %+v", st)
		}
		if st := sentState(t, r, "MOSCOW", x.CableID, x.Destination); !timeIs(st.OverdueAt, alerted) || !strings.HasPrefix(st.Describe(x.Precedence, alerted), "overdue, ") {
			t.Errorf("marked overdue, in the sent list: %+v", st)
		}
	}
	must(t, r.MarkOverdue(ctx, ts[:1], alerted.Add(time.Hour), nil))
	if st := stateOf(t, r, ts[0].CableID, ts[0].Destination); !timeIs(st.OverdueAt, alerted) {
		t.Errorf("marked overdue twice: %+v, want the first time %v", st, alerted)
	}

	// A failed batch marks nothing.
	err = r.MarkOverdue(ctx, []*cable.Transmission{ts[2], {CableID: routine.ID, Destination: "PARIS"}}, alerted, nil)
	wantCode(t, err, cable.ENOTFOUND)
	if st := stateOf(t, r, ts[2].CableID, ts[2].Destination); st.OverdueAt != nil {
		t.Errorf("a failed MarkOverdue batch marked %+v", st)
	}
	wantCode(t, r.MarkOverdue(ctx, ts[2:3], time.Time{}, nil), cable.EINVALID)
	wantCode(t, r.MarkOverdue(ctx, []*cable.Transmission{nil}, alerted, nil), cable.EINVALID)
	must(t, r.MarkOverdue(ctx, nil, alerted, nil))

	// A receipt takes a transmission out of the watch.
	rest := got(late, 0)
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{{CableID: rest[0].id, Origin: "MOSCOW", Station: rest[0].dest, ReceivedAt: late, ControlNumber: "2"}}, nil))
	if g := got(late, 0); !slices.Equal(g, rest[1:]) {
		t.Errorf("overdue after a receipt: %v, want %v", g, rest[1:])
	}
	must(t, r.MarkOverdue(ctx, ts, alerted, nil))
	if g := got(late.AddDate(1, 0, 0), 0); len(g) != 0 {
		t.Errorf("overdue after every one was marked: %v", g)
	}
}

// receiveOwnControlNumber checks that a cable received at a station of
// the node that released it gives its transmission the receipt's control
// number, and that a receipt returned later changes nothing.
func (s *suite) receiveOwnControlNumber(t *testing.T, r cable.Records) {
	c := Cable("MOSCOW", feb, "Both stations here", "text")
	rec := Release(t, r, c)[0].Record
	at := feb.Add(time.Hour)
	a := &cable.Arrival{Station: "STATE", Cable: rec.Cable.Clone(), Text: rec.Text, SHA256: rec.SHA256, At: at,
		Distribution: cable.Distribution{Action: "EUR"}, Origin: cable.OriginReceived, ControlNumber: "8963"}
	b := &cable.Arrival{Station: "STATE", Cable: rec.Cable.Clone(), Text: rec.Text, SHA256: rec.SHA256, At: at,
		Distribution: cable.Distribution{Action: "EUR"}, Origin: cable.OriginReceived}
	receive(t, r, a)
	st := stateOf(t, r, c.ID, "STATE")
	if st.State != cable.TransmissionReceived || !timeIs(st.ReceivedAt, at) || st.ControlNumber != "8963" {
		t.Errorf("transmission received at a station of the same node: %+v", st)
	}
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{{CableID: c.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: at.Add(time.Hour), ControlNumber: "9"}}, nil))
	receive(t, r, b)
	if !b.Duplicate {
		t.Error("a second arrival is no duplicate")
	}
	if st := stateOf(t, r, c.ID, "STATE"); !timeIs(st.ReceivedAt, at) || st.ControlNumber != "8963" {
		t.Errorf("after the returned receipt and a duplicate arrival: %+v", st)
	}

	// A control number the store gives is the transmission's too.
	d := Cable("MOSCOW", feb, "Numbered here", "text")
	rec = Release(t, r, d)[0].Record
	a = &cable.Arrival{Station: "STATE", Cable: rec.Cable.Clone(), Text: rec.Text, SHA256: rec.SHA256, At: at,
		Distribution: cable.Distribution{Action: "EUR"}, Origin: cable.OriginReceived}
	receive(t, r, a)
	if st := sentState(t, r, "MOSCOW", d.ID, "STATE"); a.Receipt.ControlNumber == "" || st.ControlNumber != a.Receipt.ControlNumber {
		t.Errorf("transmission %+v, receipt %+v", st, a.Receipt)
	}
	if dl := record(t, r, d.ID).DeliveryFor("STATE"); dl == nil || dl.Receipt.ControlNumber != a.Receipt.ControlNumber {
		t.Errorf("delivery %+v, receipt %+v", dl, a.Receipt)
	}
}

// eventsWithMarks: the events given with a mark are appended in its
// transaction: both are written, or (a failed or invalid batch) neither.
func (s *suite) eventsWithMarks(t *testing.T, r cable.Records) {
	c := Cable("MOSCOW", feb, "marks", "text")
	c.To = append(c.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo})
	Release(t, r, c)
	toState := pending(t, r, c.ID, "STATE")
	count := func(kind string) int {
		t.Helper()
		return len(events(t, r, cable.EventFilter{CableID: c.ID, Kind: kind}))
	}
	ev := func(kind string) []*cable.Event {
		return []*cable.Event{{Kind: kind, CableID: c.ID, Station: "MOSCOW", Actor: "message-centre"}}
	}

	sent := feb.Add(time.Minute)
	es := ev(cable.EventTransmitted)
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sent, es))
	if count(cable.EventTransmitted) != 1 || es[0].Seq == 0 || es[0].Hash == "" {
		t.Errorf("transmitted event: %d in the log, caller's %+v", count(cable.EventTransmitted), es[0])
	}

	// A failed batch writes neither the marks nor the events.
	recv := sent.Add(time.Hour)
	good := &cable.DeliveryReceipt{CableID: c.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: recv, ControlNumber: "5"}
	never := &cable.DeliveryReceipt{CableID: c.ID, Origin: "MOSCOW", Station: "PARIS", ReceivedAt: recv, ControlNumber: "6"}
	es = append(ev(cable.EventDelivered), ev(cable.EventDelivered)...)
	wantCode(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{good, never}, es), cable.ENOTFOUND)
	if n := count(cable.EventDelivered); n != 0 || es[0].Seq != 0 {
		t.Errorf("a failed batch appended %d delivered events (caller's seq %d)", n, es[0].Seq)
	}
	// An invalid event refuses the batch before anything is written.
	wantCode(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{good}, []*cable.Event{{CableID: c.ID}}), cable.EINVALID)
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionSent {
		t.Errorf("a batch with an invalid event changed the transmission: %+v", st)
	}
	// Events must be none or one for each receipt.
	wantCode(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{good}, append(ev(cable.EventDelivered), ev(cable.EventDelivered)...)), cable.EINVALID)
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{good}, ev(cable.EventDelivered)))
	if st := stateOf(t, r, c.ID, "STATE"); st.State != cable.TransmissionReceived || count(cable.EventDelivered) != 1 {
		t.Errorf("after the receipt: %+v and %d delivered events", st, count(cable.EventDelivered))
	}
	// The same receipt again (a receiver sends one for every copy it
	// gets) changes nothing and is not logged again.
	again := ev(cable.EventDelivered)
	must(t, r.MarkDelivered(ctx, []*cable.DeliveryReceipt{good}, again))
	if n := count(cable.EventDelivered); n != 1 || again[0].Seq != 0 {
		t.Errorf("a receipt sent again: %d delivered events in the log (caller's seq %d), want 1", n, again[0].Seq)
	}

	toLondon := pending(t, r, c.ID, "LONDON")
	must(t, r.MarkOverdue(ctx, []*cable.Transmission{toLondon}, feb.Add(48*time.Hour), ev(cable.EventOverdue)))
	if st := stateOf(t, r, c.ID, "LONDON"); st.OverdueAt == nil || count(cable.EventOverdue) != 1 {
		t.Errorf("after the overdue mark: %+v and %d overdue events", st, count(cable.EventOverdue))
	}
	rep, err := r.Verify(ctx)
	must(t, err)
	if len(rep.Problems) != 0 {
		t.Errorf("Verify after the marks: %v", rep.Problems)
	}
}
