package postgres

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/jackc/pgx/v5"
)

// chain is the head of the event log, locked for the transaction.
type chain struct {
	seq  int64
	hash string
}

// lockChain locks the chain head row until the transaction ends. Every
// writer that logs events takes it first, so writers queue in one order
// and cannot deadlock on the counters they lock afterwards.
func lockChain(ctx context.Context, tx pgx.Tx) (*chain, error) {
	var c chain
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE`).Scan(&c.seq, &c.hash); err != nil {
		return nil, fmt.Errorf("lock event chain: %w", err)
	}
	return &c, nil
}

// queueEvents sets Seq, At, PrevHash and Hash of each event, continuing
// head, and queues their inserts and the new head on b.
func queueEvents(b *pgx.Batch, head *chain, events []*cable.Event, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	for _, e := range events {
		head.seq++
		e.Seq = head.seq
		if e.At.IsZero() {
			e.At = now
		} else {
			e.At = utc(e.At)
		}
		dj, err := e.Chain(head.hash)
		if err != nil {
			return err
		}
		var raw *string
		if dj != nil {
			s := string(dj)
			raw = &s
		}
		b.Queue(`INSERT INTO events (seq, at, kind, cable_id, station, actor, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.Seq, e.At, e.Kind, e.CableID, e.Station, e.Actor, raw, e.PrevHash, e.Hash)
		head.hash = e.Hash
	}
	b.Queue(`UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1`, head.seq, head.hash)
	return nil
}

// sendBatch runs the queued statements, reporting the first failure.
func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch, what string) error {
	if b.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	var first error
	for range b.Len() {
		if _, err := br.Exec(); err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return dbErr(what, first)
}

// AppendEvents adds events to the log in one transaction. Each event gets
// the next Seq, At if it is zero (now, UTC, to the microsecond), PrevHash
// and Hash. Detail is kept as JSON and set to its JSON form (numbers as
// json.Number), so that the hash recomputed from the stored event is the
// one given. The events are changed only if the append succeeds.
func (db *DB) AppendEvents(ctx context.Context, events []*cable.Event) error {
	return db.writeWithEvents(ctx, "append events", events, func(tx pgx.Tx) (*chain, error) { return lockChain(ctx, tx) })
}

// writeWithEvents checks events and copies them (cable.CopyEvents), then
// runs fn, which locks the event chain and returns its head, and appends
// the copies to the log, in one transaction; on commit it sets events from
// the copies. Invalid events refuse the whole write before anything is
// written.
func (db *DB) writeWithEvents(ctx context.Context, what string, events []*cable.Event, fn func(tx pgx.Tx) (*chain, error)) error {
	return db.writeWithChosenEvents(ctx, what, events, func(tx pgx.Tx) (*chain, []bool, error) {
		head, err := fn(tx)
		return head, nil, err
	})
}

// writeWithChosenEvents is writeWithEvents where fn chooses the events
// appended: events[i] when keep[i], every one when keep is nil.
func (db *DB) writeWithChosenEvents(ctx context.Context, what string, events []*cable.Event, fn func(tx pgx.Tx) (*chain, []bool, error)) error {
	out, err := cable.CopyEvents(events)
	if err != nil {
		return err
	}
	var chosen []int
	err = db.write(ctx, func(tx pgx.Tx) error {
		head, keep, err := fn(tx)
		if err != nil {
			return err
		}
		var appended []*cable.Event
		appended, chosen = cable.KeptEvents(out, keep)
		if len(appended) == 0 {
			return nil
		}
		var b pgx.Batch
		if err := queueEvents(&b, head, appended, db.now()); err != nil {
			return err
		}
		return sendBatch(ctx, tx, &b, what)
	})
	if err != nil {
		return err
	}
	for _, i := range chosen {
		*events[i] = *out[i]
	}
	return nil
}

const eventColumns = `seq, at, kind, cable_id, station, actor, detail, prev_hash, hash`

// scanEvent reads one event. An event whose detail cannot be decoded is
// returned with the error, the rest of it read.
func scanEvent(row pgx.Row) (*cable.Event, error) {
	var e cable.Event
	var detail *string
	if err := row.Scan(&e.Seq, &e.At, &e.Kind, &e.CableID, &e.Station, &e.Actor, &detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	e.At = e.At.UTC()
	if detail != nil {
		d, err := cable.DecodeEventDetail([]byte(*detail))
		if err != nil {
			// The rest was read: Verify follows the chain past it.
			return &e, fmt.Errorf("event %d: %w", e.Seq, err)
		}
		e.Detail = d
	}
	return &e, nil
}

// Events lists events in log order, filtered by cable, kind and sequence;
// Limit 0 lists every event that matches.
func (db *DB) Events(ctx context.Context, f cable.EventFilter) ([]*cable.Event, error) {
	if f.Limit < 0 || f.AfterSeq < 0 {
		return nil, cable.Errorf(cable.EINVALID, "event filter: limit and after_seq may not be negative")
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE seq > $1`
	args := []any{f.AfterSeq}
	if f.CableID != "" {
		args = append(args, f.CableID)
		q += fmt.Sprintf(` AND cable_id = $%d`, len(args))
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		q += fmt.Sprintf(` AND kind = $%d`, len(args))
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	var out []*cable.Event
	err := db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
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

// Verify rehashes the text of every cable against its stored SHA-256 and
// recomputes the whole event chain, from the first event to the chain
// head. Every problem is reported; none stops the check.
func (db *DB) Verify(ctx context.Context) (*cable.VerifyReport, error) {
	rep := &cable.VerifyReport{Problems: []string{}}
	err := db.read(ctx, func(tx pgx.Tx) error {
		rawCol, searchCol, _ := db.textColumns("")
		rows, err := tx.Query(ctx, `SELECT id, `+rawCol+`, `+searchCol+`, sha256 FROM cables ORDER BY n`)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		for rows.Next() {
			var id, sum string
			var raw []byte
			var search *string
			if err := rows.Scan(&id, &raw, &search, &sum); err != nil {
				rows.Close()
				return fmt.Errorf("verify: %w", err)
			}
			rep.Cables++
			if got := cable.SHA256Hex(storedText(raw, search)); got != sum {
				rep.Problems = append(rep.Problems, fmt.Sprintf("cable %s: text hashes to %s, stored SHA-256 is %s", id, got, sum))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("verify: %w", err)
		}

		rows, err = tx.Query(ctx, `SELECT `+eventColumns+` FROM events ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
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
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		var head chain
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM chain_head WHERE id = 1`).Scan(&head.seq, &head.hash); err != nil {
			return fmt.Errorf("verify: chain head: %w", err)
		}
		if head.seq != lastSeq || head.hash != lastHash {
			rep.Problems = append(rep.Problems, fmt.Sprintf("event log ends at seq %d but its head records seq %d (hash %s)", lastSeq, head.seq, head.hash))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
