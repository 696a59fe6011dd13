package postgres

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/jackc/pgx/v5"
)

// transmissionUpdate is one update of the transmission of a cable to a
// destination.
type transmissionUpdate struct {
	cableID, dest string
	set, where    string // SQL after SET and after the key's condition
	args          []any  // the arguments of set and where, from $3 on
}

// updateTransmissions runs the updates and appends the events (checked
// first, see writeWithEvents) in one transaction: the state and its
// record are written together or not at all. The events are set only once
// it commits.
func (db *DB) updateTransmissions(ctx context.Context, what string, us []transmissionUpdate, events []*cable.Event) error {
	if len(us) == 0 && len(events) == 0 {
		return nil
	}
	return db.writeWithEvents(ctx, what, events, func(tx pgx.Tx) (*chain, error) {
		head, _, err := applyTransmissionUpdates(ctx, tx, what, us)
		return head, err
	})
}

// applyTransmissionUpdates runs the updates in one round trip, in order, in
// tx, and returns ENOTFOUND naming the first transmission that does not
// exist. An update whose condition leaves an existing transmission as it
// is, is no error. It first locks the chain head: Receive updates
// transmissions too, under that lock, so the two never lock rows in
// opposite orders. It returns the locked chain head and, for each update,
// whether it changed its transmission.
func applyTransmissionUpdates(ctx context.Context, tx pgx.Tx, what string, us []transmissionUpdate) (*chain, []bool, error) {
	head, err := lockChain(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	if len(us) == 0 {
		return head, nil, nil
	}
	var b pgx.Batch
	for _, u := range us {
		// The outer query sees the snapshot from before the update: the
		// transmission exists whether or not the update changed it.
		b.Queue(`WITH u AS (UPDATE transmissions SET `+u.set+` WHERE cable_id = $1 AND destination = $2`+u.where+` RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM transmissions WHERE cable_id = $1 AND destination = $2), EXISTS (SELECT 1 FROM u)`,
			append([]any{u.cableID, u.dest}, u.args...)...)
	}
	br := tx.SendBatch(ctx, &b)
	var first error
	changed := make([]bool, len(us))
	for i, u := range us {
		var exists bool
		err := br.QueryRow().Scan(&exists, &changed[i])
		switch {
		case first != nil:
		case err != nil:
			first = dbErr(fmt.Sprintf("%s %s to %s", what, u.cableID, u.dest), err)
		case !exists:
			first = cable.Errorf(cable.ENOTFOUND, "no transmission of %s to %s", u.cableID, u.dest)
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = dbErr(what, err)
	}
	return head, changed, first
}

// MarkTransmitted records, in one transaction, that the transport has
// custody of each transmission: a queued one becomes sent at at, with
// the hop (Transmission.Hop) that took it; one already sent keeps its
// time of sending and takes the new hop when Hop is set (the cable moved
// on to the next relay); a received one stays as it is. ENOTFOUND if a
// transmission was never queued, and then nothing of the batch is
// written. The events are appended to the log in the same
// transaction (invalid ones refuse the batch before anything is written).
func (db *DB) MarkTransmitted(ctx context.Context, ts []*cable.Transmission, at time.Time, events []*cable.Event) error {
	if at.IsZero() {
		return cable.Errorf(cable.EINVALID, "time of transmission is required")
	}
	us := make([]transmissionUpdate, len(ts))
	for i, t := range ts {
		if t == nil {
			return cable.Errorf(cable.EINVALID, "no transmission")
		}
		// The state is checked under the row lock, so a receipt committed
		// meanwhile is not overwritten.
		us[i] = transmissionUpdate{cableID: t.CableID, dest: t.Destination,
			set: `sent_at = CASE WHEN state = $3 THEN $4 ELSE sent_at END, state = $5,
				hop = CASE WHEN $6 <> '' THEN $6 ELSE hop END`,
			where: ` AND (state = $3 OR (state = $5 AND $6 <> ''))`,
			args:  []any{cable.TransmissionQueued, utc(at), cable.TransmissionSent, t.Hop}}
	}
	return db.updateTransmissions(ctx, "mark transmitted", us, events)
}

// RecordHops records, in one transaction, the hop each transmission's
// cable has reached: set on one not received, its state left as it is
// (cable.Records).
func (db *DB) RecordHops(ctx context.Context, ts []*cable.Transmission) error {
	us := make([]transmissionUpdate, len(ts))
	for i, t := range ts {
		if t == nil {
			return cable.Errorf(cable.EINVALID, "no transmission")
		}
		us[i] = transmissionUpdate{cableID: t.CableID, dest: t.Destination,
			set: `hop = $3`, where: ` AND state <> $4 AND $3 <> ''`,
			args: []any{t.Hop, cable.TransmissionReceived}}
	}
	return db.updateTransmissions(ctx, "record hops", us, nil)
}

// MarkDelivered records, in one transaction, the receipts returned by
// destination stations: the transmission of each receipt's cable to its
// station becomes received at the receipt's time with its control
// number, whatever its state before. A transmission received already
// stays as it is. A receipt for a transmission this node never queued is
// ENOTFOUND naming the cable and the station, and then nothing of the
// batch is written. The event of each receipt that changed its
// transmission is appended to the log in the same transaction (invalid
// ones refuse the batch before anything is written).
func (db *DB) MarkDelivered(ctx context.Context, rs []*cable.DeliveryReceipt, events []*cable.Event) error {
	if err := cable.CheckReceipts(rs); err != nil {
		return err
	}
	if err := cable.CheckReceiptEvents(rs, events); err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	us := make([]transmissionUpdate, len(rs))
	for i, r := range rs {
		us[i] = transmissionUpdate{cableID: r.CableID, dest: r.Station,
			set:   `state = $3, received_at = $4, control_number = $5`,
			where: ` AND state <> $3`,
			args:  []any{cable.TransmissionReceived, utc(r.ReceivedAt), r.ControlNumber}}
	}
	// Only the events of receipts that changed something are appended.
	return db.writeWithChosenEvents(ctx, "mark delivered", events, func(tx pgx.Tx) (*chain, []bool, error) {
		head, changed, err := applyTransmissionUpdates(ctx, tx, "mark delivered", us)
		if events == nil {
			changed = nil
		}
		return head, changed, err
	})
}

// overdueQuery selects the unreceived transmissions not yet marked
// overdue that were queued before the cut-off of their precedence, oldest
// first. Its conditions are those of the partial index
// transmissions_unreceived, which holds only such transmissions, in this
// order; the latest cut-off ($1) bounds the range of the index read.
const overdueQuery = `SELECT t.cable_id, c.station, t.destination, c.precedence, t.queued_at, t.hop
	FROM transmissions t JOIN cables c ON c.id = t.cable_id
	WHERE t.state <> 'received' AND t.overdue_at IS NULL AND t.queued_at < $1
	  AND t.queued_at < CASE c.precedence WHEN $2 THEN $3::timestamptz WHEN $4 THEN $5 WHEN $6 THEN $7 ELSE $8 END
	ORDER BY t.queued_at, t.cable_id, t.destination
	LIMIT $9`

// overdueArgs returns the arguments of overdueQuery at now: for each
// precedence the latest queue time whose objective has passed by now.
func overdueArgs(now time.Time, limit int) []any {
	cut := func(p cable.Precedence) time.Time { return utc(now.Add(-p.Objective())) }
	latest := cut(cable.Flash)
	for _, p := range cable.Precedences() {
		if c := cut(p); c.After(latest) {
			latest = c
		}
	}
	return []any{latest,
		int16(cable.Flash), cut(cable.Flash),
		int16(cable.Immediate), cut(cable.Immediate),
		int16(cable.Priority), cut(cable.Priority),
		cut(cable.Routine), limit}
}

// OverdueTransmissions returns up to limit (DefaultListLimit when limit
// is 0 or less) transmissions not received and not marked overdue whose
// precedence's objective has passed by now since they were queued:
// queued_at + objective < now. Oldest first; each with CableID, Origin,
// Destination, Precedence, QueuedAt and Hop, without the text.
func (db *DB) OverdueTransmissions(ctx context.Context, now time.Time, limit int) ([]*cable.Transmission, error) {
	if now.IsZero() {
		return nil, cable.Errorf(cable.EINVALID, "the time to measure from is required")
	}
	if limit <= 0 {
		limit = cable.DefaultListLimit
	}
	// One statement sees one snapshot: no transaction is needed.
	rows, err := db.pool.Query(ctx, overdueQuery, overdueArgs(now, limit)...)
	if err != nil {
		return nil, fmt.Errorf("overdue transmissions: %w", err)
	}
	defer rows.Close()
	var out []*cable.Transmission
	for rows.Next() {
		var t cable.Transmission
		var prec int16
		if err := rows.Scan(&t.CableID, &t.Origin, &t.Destination, &prec, &t.QueuedAt, &t.Hop); err != nil {
			return nil, fmt.Errorf("overdue transmissions: %w", err)
		}
		t.Precedence, t.QueuedAt = cable.Precedence(prec), t.QueuedAt.UTC()
		out = append(out, &t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overdue transmissions: %w", err)
	}
	return out, nil
}

// MarkOverdue records, in one transaction, that the speed-of-service
// watch raised its alert for each transmission at at. A transmission
// marked overdue already keeps its first time. ENOTFOUND if a
// transmission was never queued, and then nothing of the batch is
// written. The events are appended to the log in the same
// transaction (invalid ones refuse the batch before anything is written).
func (db *DB) MarkOverdue(ctx context.Context, ts []*cable.Transmission, at time.Time, events []*cable.Event) error {
	if at.IsZero() {
		return cable.Errorf(cable.EINVALID, "time of the overdue alert is required")
	}
	us := make([]transmissionUpdate, len(ts))
	for i, t := range ts {
		if t == nil {
			return cable.Errorf(cable.EINVALID, "no transmission")
		}
		us[i] = transmissionUpdate{cableID: t.CableID, dest: t.Destination,
			set: `overdue_at = $3`, where: ` AND overdue_at IS NULL`, args: []any{utc(at)}}
	}
	return db.updateTransmissions(ctx, "mark overdue", us, events)
}
