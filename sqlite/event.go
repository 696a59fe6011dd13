package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

// AppendEvents adds events to the log in one transaction. Each event gets
// the next Seq, At if it is zero (now, UTC, to the microsecond), PrevHash
// and Hash. Detail is kept as JSON and set to its JSON form (numbers as
// json.Number), so that the hash recomputed from the stored event is the
// one given. The events are changed only if the append succeeds.
func (db *DB) AppendEvents(ctx context.Context, events []*cable.Event) error {
	return db.writeWithEvents(ctx, events, func(*txn) error { return nil })
}

// writeWithEvents checks events and copies them (cable.CopyEvents), then
// runs fn and appends the copies in one write transaction, and on commit
// sets events from the copies: invalid events refuse the whole write
// before anything is written.
func (db *DB) writeWithEvents(ctx context.Context, events []*cable.Event, fn func(tx *txn) error) error {
	return db.writeWithChosenEvents(ctx, events, func(tx *txn) ([]bool, error) { return nil, fn(tx) })
}

// writeWithChosenEvents is writeWithEvents where fn chooses the events
// appended: events[i] when keep[i], every one when keep is nil.
func (db *DB) writeWithChosenEvents(ctx context.Context, events []*cable.Event, fn func(tx *txn) (keep []bool, err error)) error {
	out, err := cable.CopyEvents(events)
	if err != nil {
		return err
	}
	var chosen []int
	err = db.write(ctx, func(tx *txn) error {
		keep, err := fn(tx)
		if err != nil {
			return err
		}
		var appended []*cable.Event
		appended, chosen = cable.KeptEvents(out, keep)
		return appendEvents(ctx, tx, appended, db.now())
	})
	if err != nil {
		return err
	}
	for _, i := range chosen {
		*events[i] = *out[i]
	}
	return nil
}

// appendEvents chains events onto the log inside tx. The write lock that
// tx holds keeps the chain from forking.
func appendEvents(ctx context.Context, tx *txn, events []*cable.Event, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM chain_head WHERE id = 1`).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("append events: chain head: %w", err)
	}
	rows := make([][]any, 0, len(events))
	for _, e := range events {
		seq++
		e.Seq = seq
		if e.At.IsZero() {
			e.At = now
		} else {
			e.At = e.At.UTC().Truncate(time.Microsecond)
		}
		dj, err := e.Chain(prev)
		if err != nil {
			return err
		}
		raw := sql.NullString{String: string(dj), Valid: dj != nil}
		rows = append(rows, []any{e.Seq, micros(e.At), e.Kind, e.CableID, e.Station, e.Actor, raw, e.PrevHash, e.Hash})
		prev = e.Hash
	}
	if err := tx.insertRows(ctx, `INSERT INTO events (seq, at, kind, cable_id, station, actor, detail, prev_hash, hash)`, rows); err != nil {
		return dbErr("append events", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1`, seq, prev); err != nil {
		return fmt.Errorf("append events: chain head: %w", err)
	}
	return nil
}

// Events lists events in log order, filtered by cable, kind and sequence;
// Limit 0 lists every event that matches.
func (db *DB) Events(ctx context.Context, f cable.EventFilter) ([]*cable.Event, error) {
	if f.Limit < 0 || f.AfterSeq < 0 {
		return nil, cable.Errorf(cable.EINVALID, "event filter: limit and after_seq may not be negative")
	}
	q := `SELECT seq, at, kind, cable_id, station, actor, detail, prev_hash, hash FROM events WHERE seq > ?`
	args := []any{f.AfterSeq}
	if f.CableID != "" {
		q += ` AND cable_id = ?`
		args = append(args, f.CableID)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	var out []*cable.Event
	err := db.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// scanEvent reads one event. An event whose detail cannot be decoded is
// returned with the error, the rest of it read.
func scanEvent(rows *sql.Rows) (*cable.Event, error) {
	var e cable.Event
	var at int64
	var detail sql.NullString
	if err := rows.Scan(&e.Seq, &at, &e.Kind, &e.CableID, &e.Station, &e.Actor, &detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	e.At = fromMicros(at)
	if detail.Valid {
		d, err := cable.DecodeEventDetail([]byte(detail.String))
		if err != nil {
			// The rest was read: Verify follows the chain past it.
			return &e, fmt.Errorf("event %d: %w", e.Seq, err)
		}
		e.Detail = d
	}
	return &e, nil
}

// Verify rehashes the text of every cable against its stored SHA-256 and
// recomputes the whole event chain, from the first event to the chain
// head. Every problem is reported; none stops the check.
func (db *DB) Verify(ctx context.Context) (*cable.VerifyReport, error) {
	rep := &cable.VerifyReport{Problems: []string{}}
	err := db.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, body, sha256 FROM cables ORDER BY n`)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		for rows.Next() {
			var id, sum string
			var body []byte
			if err := rows.Scan(&id, &body, &sum); err != nil {
				rows.Close()
				return fmt.Errorf("verify: %w", err)
			}
			rep.Cables++
			if got := cable.SHA256Hex(body); got != sum {
				rep.Problems = append(rep.Problems, fmt.Sprintf("cable %s: text hashes to %s, stored SHA-256 is %s", id, got, sum))
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("verify: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `SELECT seq, at, kind, cable_id, station, actor, detail, prev_hash, hash FROM events ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		defer rows.Close()
		var lastSeq int64
		lastHash := cable.GenesisHash
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				rep.Problems = append(rep.Problems, err.Error())
				if e != nil { // its detail unreadable: the chain goes on from its hash
					rep.Events++
					lastSeq, lastHash = e.Seq, e.Hash
				}
				continue
			}
			rep.Events++
			rep.Problems = append(rep.Problems, e.CheckChain(lastSeq, lastHash)...)
			lastSeq, lastHash = e.Seq, e.Hash
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		var headSeq int64
		var headHash string
		if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM chain_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("verify: chain head: %w", err)
		}
		if headSeq != lastSeq || headHash != lastHash {
			rep.Problems = append(rep.Problems, fmt.Sprintf("event log ends at seq %d but its head records seq %d (hash %s)", lastSeq, headSeq, headHash))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
