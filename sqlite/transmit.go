package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

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
	for _, t := range ts {
		if t == nil {
			return cable.Errorf(cable.EINVALID, "no transmission")
		}
	}
	if len(ts) == 0 && len(events) == 0 {
		return nil
	}
	return db.writeWithEvents(ctx, events, func(tx *txn) error {
		for _, t := range ts {
			res, err := tx.ExecContext(ctx, `UPDATE transmissions
				SET sent_at = CASE WHEN state = ?1 THEN ?2 ELSE sent_at END,
				    state = ?3,
				    hop = CASE WHEN ?4 <> '' THEN ?4 ELSE hop END
				WHERE cable_id = ?5 AND destination = ?6 AND (state = ?1 OR (state = ?3 AND ?4 <> ''))`,
				cable.TransmissionQueued, micros(at), cable.TransmissionSent, t.Hop, t.CableID, t.Destination)
			if err != nil {
				return fmt.Errorf("mark transmitted %s to %s: %w", t.CableID, t.Destination, err)
			}
			if err := mustExist(ctx, tx, res, t.CableID, t.Destination); err != nil {
				return fmt.Errorf("mark transmitted: %w", err)
			}
		}
		return nil
	})
}

// RecordHops records, in one transaction, the hop each transmission's
// cable has reached: set on one not received, its state left as it is
// (cable.Records).
func (db *DB) RecordHops(ctx context.Context, ts []*cable.Transmission) error {
	for _, t := range ts {
		if t == nil {
			return cable.Errorf(cable.EINVALID, "no transmission")
		}
	}
	if len(ts) == 0 {
		return nil
	}
	return db.write(ctx, func(tx *txn) error {
		for _, t := range ts {
			res, err := tx.ExecContext(ctx, `UPDATE transmissions SET hop = ?1
				WHERE cable_id = ?2 AND destination = ?3 AND state <> ?4 AND ?1 <> ''`,
				t.Hop, t.CableID, t.Destination, cable.TransmissionReceived)
			if err != nil {
				return fmt.Errorf("record hop of %s to %s: %w", t.CableID, t.Destination, err)
			}
			if err := mustExist(ctx, tx, res, t.CableID, t.Destination); err != nil {
				return fmt.Errorf("record hops: %w", err)
			}
		}
		return nil
	})
}

// mustExist returns ENOTFOUND when an update changed no row and the
// transmission of id to dest does not exist; an update that changed
// nothing of an existing transmission is no error.
func mustExist(ctx context.Context, tx *txn, res sql.Result, id, dest string) error {
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM transmissions WHERE cable_id = ? AND destination = ?`, id, dest).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return cable.Errorf(cable.ENOTFOUND, "no transmission of %s to %s", id, dest)
	}
	return err
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
	return db.writeWithChosenEvents(ctx, events, func(tx *txn) ([]bool, error) {
		changed := make([]bool, len(rs))
		for i, r := range rs {
			res, err := tx.ExecContext(ctx, `UPDATE transmissions SET state = ?1, received_at = ?2, control_number = ?3
				WHERE cable_id = ?4 AND destination = ?5 AND state <> ?1`,
				cable.TransmissionReceived, micros(r.ReceivedAt), r.ControlNumber, r.CableID, r.Station)
			if err != nil {
				return nil, fmt.Errorf("mark delivered %s at %s: %w", r.CableID, r.Station, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, fmt.Errorf("mark delivered %s at %s: %w", r.CableID, r.Station, err)
			}
			changed[i] = n > 0
			if err := mustExist(ctx, tx, res, r.CableID, r.Station); err != nil {
				return nil, fmt.Errorf("mark delivered: %w", err)
			}
		}
		return changed, nil
	})
}

// overdueQuery selects the unreceived transmissions not yet marked
// overdue that were queued before the cut-off of their precedence, oldest
// first. Its conditions are those of the partial index
// transmissions_unreceived, which holds only such transmissions, in this
// order; the latest cut-off bounds the range of the index read.
const overdueQuery = `SELECT t.cable_id, c.station, t.destination, c.precedence, t.queued_at, t.hop
	FROM transmissions t JOIN cables c ON c.id = t.cable_id
	WHERE t.state <> 'received' AND t.overdue_at IS NULL AND t.queued_at < ?
	  AND t.queued_at < CASE c.precedence WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? ELSE ? END
	ORDER BY t.queued_at, t.cable_id, t.destination
	LIMIT ?`

// overdueArgs returns the arguments of overdueQuery at now: for each
// precedence the latest queue time whose objective has passed by now.
func overdueArgs(now time.Time, limit int) []any {
	cut := func(p cable.Precedence) int64 { return micros(now.Add(-p.Objective())) }
	latest := cut(cable.Flash)
	for _, p := range cable.Precedences() {
		latest = max(latest, cut(p))
	}
	return []any{latest,
		int(cable.Flash), cut(cable.Flash),
		int(cable.Immediate), cut(cable.Immediate),
		int(cable.Priority), cut(cable.Priority),
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
	var out []*cable.Transmission
	err := db.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, overdueQuery, overdueArgs(now, limit)...)
		if err != nil {
			return fmt.Errorf("overdue transmissions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t cable.Transmission
			var queued int64
			if err := rows.Scan(&t.CableID, &t.Origin, &t.Destination, &t.Precedence, &queued, &t.Hop); err != nil {
				return fmt.Errorf("overdue transmissions: %w", err)
			}
			t.QueuedAt = fromMicros(queued)
			out = append(out, &t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("overdue transmissions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
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
	for _, t := range ts {
		if t == nil {
			return cable.Errorf(cable.EINVALID, "no transmission")
		}
	}
	if len(ts) == 0 && len(events) == 0 {
		return nil
	}
	return db.writeWithEvents(ctx, events, func(tx *txn) error {
		for _, t := range ts {
			res, err := tx.ExecContext(ctx, `UPDATE transmissions SET overdue_at = ?
				WHERE cable_id = ? AND destination = ? AND overdue_at IS NULL`,
				micros(at), t.CableID, t.Destination)
			if err != nil {
				return fmt.Errorf("mark overdue %s to %s: %w", t.CableID, t.Destination, err)
			}
			if err := mustExist(ctx, tx, res, t.CableID, t.Destination); err != nil {
				return fmt.Errorf("mark overdue: %w", err)
			}
		}
		return nil
	})
}
