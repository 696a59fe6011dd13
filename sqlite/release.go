package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// Counter kinds.
const (
	counterSerial  = "serial"
	counterControl = "control"
)

// maxSerial is the highest serial a station may give in a year.
const maxSerial = 999999

// Release stores new cables in one transaction: for each request the next
// serial of its station for the year of its DTG, the identifier, the text
// from Render with its hash, the cable as JSON and its indexed fields, its
// references, a queued transmission to every destination, and a released
// event. If anything fails, nothing is stored, no serial is consumed, and
// the cables' Serial and ID are put back as they were.
func (db *DB) Release(ctx context.Context, reqs []*cable.ReleaseRequest) error {
	if err := cable.CheckReleaseRequests(reqs); err != nil {
		return err
	}
	type saved struct {
		serial int
		id     string
	}
	before := make([]saved, len(reqs))
	for i, r := range reqs {
		before[i] = saved{r.Cable.Serial, r.Cable.ID}
	}
	records := make([]*cable.Record, len(reqs))
	err := db.write(ctx, func(tx *txn) error {
		now := db.now()
		keys := make([]counterKey, len(reqs))
		for i, r := range reqs {
			keys[i] = counterKey{counterSerial, r.Cable.Station, r.Cable.DTG.UTC().Year()}
		}
		serials, err := reserve(ctx, tx, keys)
		if err != nil {
			return err
		}
		ins, err := db.prepareInserts(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		events := make([]*cable.Event, 0, len(reqs))
		for i, r := range reqs {
			c := r.Cable
			if serials[i] > maxSerial {
				return cable.Errorf(cable.ECONFLICT, "station %s has given every serial of %d", c.Station, keys[i].year)
			}
			c.Serial = serials[i]
			c.ID = cable.Identifier(keys[i].year, c.Station, c.Serial)
			text, err := r.Render(c)
			if err != nil {
				return fmt.Errorf("release %s: render: %w", c.ID, err)
			}
			sum := cable.SHA256Hex(text)
			stored, err := ins.cable(ctx, c, text, sum, cable.OriginReleased, now)
			if err != nil {
				return err
			}
			rec := &cable.Record{Cable: stored, Text: text, SHA256: sum, Origin: cable.OriginReleased, StoredAt: now}
			for j, dest := range c.Destinations() {
				if _, err := ins.transmission.ExecContext(ctx, c.ID, dest, j, cable.TransmissionQueued, micros(now)); err != nil {
					return dbErr("release "+c.ID+": queue transmission", err)
				}
				rec.Transmissions = append(rec.Transmissions, cable.TransmissionState{Destination: dest, State: cable.TransmissionQueued, QueuedAt: now})
			}
			if err := resolveReferences(ctx, tx, stored); err != nil {
				return err
			}
			records[i] = rec
			events = append(events, &cable.Event{
				Kind: cable.EventReleased, CableID: c.ID, Station: c.Station, Actor: r.Actor, At: now,
				Detail: map[string]any{"serial": c.Serial, "sha256": sum, "dtg": cable.FormatDTG(c.DTG)},
			})
		}
		if err := appendEvents(ctx, tx, events, now); err != nil {
			return err
		}
		return ins.index(ctx)
	})
	if err != nil {
		for i, r := range reqs {
			r.Cable.Serial, r.Cable.ID = before[i].serial, before[i].id
		}
		return err
	}
	for i, r := range reqs {
		r.Record = records[i]
	}
	return nil
}

// counterKey names one gapless counter.
type counterKey struct {
	kind    string
	station string
	year    int
}

// reserve takes the next value of each key's counter, in order: one
// increment per counter for the whole batch, under the write lock.
func reserve(ctx context.Context, tx *txn, keys []counterKey) ([]int, error) {
	need := map[counterKey]int{}
	var order []counterKey
	for _, k := range keys {
		if need[k] == 0 {
			order = append(order, k)
		}
		need[k]++
	}
	next := map[counterKey]int{}
	for _, k := range order {
		var last int
		err := tx.QueryRowContext(ctx, `INSERT INTO counters (kind, station, year, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, station, year) DO UPDATE SET value = value + excluded.value
			RETURNING value`, k.kind, k.station, k.year, need[k]).Scan(&last)
		if err != nil {
			return nil, fmt.Errorf("next %s of %s for %d: %w", k.kind, k.station, k.year, err)
		}
		next[k] = last - need[k] + 1
	}
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = next[k]
		next[k]++
	}
	return out, nil
}

// inserts holds the statements that store a cable, prepared once per
// transaction, and the rows stored that the full-text index still lacks.
type inserts struct {
	cableRow, fts, tag, ref, transmission *sql.Stmt
	unindexed                             []int64
	spans                                 bool // the file keeps paragraph spans
}

// spansFrom is the schema version that keeps paragraph spans.
const spansFrom = 3

func (db *DB) prepareInserts(ctx context.Context, tx *txn) (*inserts, error) {
	var ins inserts
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = tx.PrepareContext(ctx, q)
		return s
	}
	// A file at an older version (only a test opens one) has no spans:
	// the JSON keeps the paragraphs.
	ins.spans = db.schema >= spansFrom
	spans, spansArg := `, text_spans`, `, ?`
	if !ins.spans {
		spans, spansArg = "", ""
	}
	ins.cableRow = prep(`INSERT INTO cables (id, station, year, serial, dtg, precedence, classification, caption_mask,
		captions, handling, tags, subject, body, sha256, cable_json, origin, stored_at` + spans + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?` + spansArg + `) RETURNING n`)
	ins.fts = prep(`INSERT INTO cables_fts (rowid, subject, body)
		SELECT n, subject, CAST(body AS TEXT) FROM cables WHERE n IN (SELECT value FROM json_each(?)) ORDER BY n`)
	ins.tag = prep(`INSERT OR IGNORE INTO cable_tags (cable_id, tag) VALUES (?, ?)`)
	ins.ref = prep(`INSERT INTO cable_refs (cable_id, ord, text, cand1, cand2) VALUES (?, ?, ?, ?, ?)`)
	ins.transmission = prep(`INSERT INTO transmissions (cable_id, destination, ord, state, queued_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		ins.close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return &ins, nil
}

func (ins *inserts) close() {
	for _, s := range []*sql.Stmt{ins.cableRow, ins.fts, ins.tag, ins.ref, ins.transmission} {
		if s != nil {
			s.Close()
		}
	}
}

// cable inserts the cable row with its tags and references, notes it for
// the full-text index (index), and returns the cable as stored: without the per-station
// receipt and distribution, references unresolved.
func (ins *inserts) cable(ctx context.Context, c *cable.Cable, text []byte, sum string, origin cable.Origin, now time.Time) (*cable.Cable, error) {
	year, station, serial, err := cable.RecordKey(c, origin)
	if err != nil {
		return nil, err
	}
	stored := c.Clone()
	stored.Received, stored.Distribution = nil, nil
	for i := range stored.References {
		stored.References[i].ID = ""
	}
	forJSON, spans := stored, ""
	if ins.spans {
		forJSON, spans = cable.CutParagraphs(stored, text)
	}
	js, err := json.Marshal(forJSON)
	if err != nil {
		return nil, cable.Errorf(cable.EINVALID, "cable %s cannot be stored as JSON: %v", c.ID, err)
	}
	captions, _ := json.Marshal(c.Captions)
	handling, _ := json.Marshal(c.Handling)
	tags := make([]string, 0, len(c.Tags))
	for _, t := range c.Tags {
		tags = append(tags, strings.ToUpper(strings.TrimSpace(t)))
	}
	tagsJSON, _ := json.Marshal(c.Tags)
	var n int64
	args := []any{c.ID, station, year, serial, micros(c.DTG), int(c.Precedence), int(c.Classification),
		cable.CaptionMask(c.Captions), string(captions), string(handling), string(tagsJSON), c.Subject, text, sum, string(js),
		string(origin), micros(now)}
	if ins.spans {
		args = append(args, spans)
	}
	err = ins.cableRow.QueryRowContext(ctx, args...).Scan(&n)
	if err != nil {
		return nil, dbErr("store cable "+c.ID, err)
	}
	ins.unindexed = append(ins.unindexed, n)
	for _, t := range tags {
		if _, err := ins.tag.ExecContext(ctx, c.ID, t); err != nil {
			return nil, dbErr("store cable "+c.ID+": tag", err)
		}
	}
	refYear := c.DTG.UTC().Year()
	for i, r := range c.References {
		var cand [2]sql.NullString
		if target, err := cable.ParseReference(r.Text); err == nil {
			for j, id := range target.Candidates(refYear) {
				if j < len(cand) {
					cand[j] = sql.NullString{String: id, Valid: true}
				}
			}
		}
		if _, err := ins.ref.ExecContext(ctx, c.ID, i, r.Text, cand[0], cand[1]); err != nil {
			return nil, dbErr("store cable "+c.ID+": reference", err)
		}
	}
	return stored, nil
}

// index adds the cables stored through ins to the full-text index, all in
// one statement, the last of the transaction. FTS5 keeps what it indexes
// in memory until the transaction commits, unless a statement that may
// need undoing (a statement journal: most inserts into tables with
// several constraints do) begins first; that flushes it to disk as a
// segment of its own. Indexed one cable at a time between the other
// inserts, every cable became a segment and FTS5 spent more on merging
// them than on the words.
func (ins *inserts) index(ctx context.Context) error {
	if len(ins.unindexed) == 0 {
		return nil
	}
	ns, err := json.Marshal(ins.unindexed)
	if err != nil {
		return fmt.Errorf("index cables: %w", err)
	}
	if _, err := ins.fts.ExecContext(ctx, string(ns)); err != nil {
		return fmt.Errorf("index %d cables: %w", len(ins.unindexed), err)
	}
	ins.unindexed = ins.unindexed[:0]
	return nil
}

// querier is what both a transaction and a pool offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// resolveReferences sets the ID of each of c's references to the first
// of its candidates that is held, or "".
func resolveReferences(ctx context.Context, q querier, c *cable.Cable) error {
	if len(c.References) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT r.ord,
			CASE WHEN EXISTS (SELECT 1 FROM cables x WHERE x.id = r.cand1) THEN r.cand1
			     WHEN EXISTS (SELECT 1 FROM cables x WHERE x.id = r.cand2) THEN r.cand2
			     ELSE '' END
		FROM cable_refs r WHERE r.cable_id = ? ORDER BY r.ord`, c.ID)
	if err != nil {
		return fmt.Errorf("references of %s: %w", c.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ord int
		var id string
		if err := rows.Scan(&ord, &id); err != nil {
			return fmt.Errorf("references of %s: %w", c.ID, err)
		}
		if ord >= 0 && ord < len(c.References) {
			c.References[ord].ID = id
		}
	}
	return rows.Err()
}

// Receive stores arrivals in one transaction. An arrival whose cable this
// node already received at the arrival's station is marked Duplicate with
// the receipt held, and nothing is written for it. Otherwise the cable is
// stored if it is not held; the receiving station's next control number
// for the year of At is given; the receipt and distribution are stored;
// the transmission from this node, if any, is marked received with the
// receipt's time and control number; and
// received and distributed events are logged. The same cable arriving at
// the same station twice in one batch is stored once, the later arrival
// marked Duplicate with the earlier one's receipt. A cable held, or
// arriving earlier in the batch, with another SHA-256 than an arrival's
// fails the whole batch with ECONFLICT.
func (db *DB) Receive(ctx context.Context, arrivals []*cable.Arrival) error {
	if err := cable.CheckArrivals(arrivals); err != nil {
		return err
	}
	receipts := make([]cable.Receipt, len(arrivals))
	dup := make([]bool, len(arrivals))
	err := db.write(ctx, func(tx *txn) error {
		now := db.now()
		var ins *inserts
		defer func() {
			if ins != nil {
				ins.close()
			}
		}()
		// First what is held already, then every control number the batch
		// needs in one step, then the writes: a statement that needs a
		// statement journal (the counter's upsert) makes FTS5 flush its
		// pending index entries, so it must not come between the inserts.
		held := make([]string, len(arrivals))
		// The batch's own cables by identifier (their SHA-256), and by
		// identifier and station (which arrival is stored).
		inBatch := map[string]string{}
		first := map[[2]string]int{}
		copyOf := map[int]int{}
		var keys []counterKey
		for i, a := range arrivals {
			id := a.Cable.ID
			sum := a.SHA256
			if sum == "" {
				sum = cable.SHA256Hex(a.Text)
			}
			err := tx.QueryRowContext(ctx, `SELECT sha256 FROM cables WHERE id = ?`, id).Scan(&held[i])
			switch {
			case errors.Is(err, sql.ErrNoRows):
				held[i] = ""
			case err != nil:
				return fmt.Errorf("receive %s: %w", id, err)
			case held[i] != sum:
				return cable.Errorf(cable.ECONFLICT, "cable %s arrived at %s with SHA-256 %s but is held with %s", id, a.Station, sum, held[i])
			}
			if other, ok := inBatch[id]; ok {
				if other != sum {
					return cable.Errorf(cable.ECONFLICT, "cable %s arrived at %s twice with different SHA-256 (%s and %s)", id, a.Station, other, sum)
				}
				held[i] = sum // stored by an earlier arrival of the batch
			}
			inBatch[id] = sum
			if j, ok := first[[2]string{id, a.Station}]; ok {
				copyOf[i] = j // the same arrival twice: stored once
				continue
			}

			var at int64
			var ctl string
			err = tx.QueryRowContext(ctx, `SELECT at, control_number FROM receipts WHERE cable_id = ? AND station = ?`, id, a.Station).Scan(&at, &ctl)
			if err == nil {
				dup[i] = true
				receipts[i] = cable.Receipt{Station: a.Station, At: fromMicros(at), ControlNumber: ctl}
				continue
			} else if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("receive %s: %w", id, err)
			}
			first[[2]string{id, a.Station}] = i
			if a.ControlNumber == "" {
				keys = append(keys, counterKey{counterControl, a.Station, a.At.UTC().Year()})
			}
		}
		controls, err := reserve(ctx, tx, keys)
		if err != nil {
			return err
		}
		var events []*cable.Event
		var offices [][]any
		for i, a := range arrivals {
			if _, ok := copyOf[i]; ok || dup[i] {
				continue
			}
			id := a.Cable.ID
			sum := a.SHA256
			if sum == "" {
				sum = cable.SHA256Hex(a.Text)
			}
			if held[i] == "" {
				if ins == nil {
					if ins, err = db.prepareInserts(ctx, tx); err != nil {
						return err
					}
				}
				origin := a.Origin
				if origin == "" {
					origin = cable.OriginReceived
				}
				if _, err := ins.cable(ctx, a.Cable, a.Text, sum, origin, now); err != nil {
					return err
				}
			}
			recvAt := a.At.UTC().Truncate(time.Microsecond)
			control := a.ControlNumber
			if control == "" {
				control = strconv.Itoa(controls[0])
				controls = controls[1:]
			}
			r := cable.Receipt{Station: a.Station, At: recvAt, ControlNumber: control}
			info, _ := json.Marshal(a.Distribution.Info)
			if _, err := tx.ExecContext(ctx, `INSERT INTO receipts (cable_id, station, at, year, control_number, action, info)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, id, a.Station, micros(recvAt), recvAt.Year(), r.ControlNumber, a.Distribution.Action, string(info)); err != nil {
				return dbErr("receive "+id+": receipt", err)
			}
			for _, o := range a.Distribution.Roles() {
				offices = append(offices, []any{id, a.Station, o.Office, string(o.Role)})
			}
			if _, err := tx.ExecContext(ctx, `UPDATE transmissions SET state = ?, received_at = ?, control_number = ?
				WHERE cable_id = ? AND destination = ? AND state <> ?`,
				cable.TransmissionReceived, micros(recvAt), r.ControlNumber, id, a.Station, cable.TransmissionReceived); err != nil {
				return fmt.Errorf("receive %s: transmission: %w", id, err)
			}
			receipts[i] = r
			events = append(events,
				&cable.Event{Kind: cable.EventReceived, CableID: id, Station: a.Station, At: now,
					Detail: map[string]any{"control_number": r.ControlNumber, "at": recvAt.Format(time.RFC3339Nano), "sha256": sum}},
				&cable.Event{Kind: cable.EventDistributed, CableID: id, Station: a.Station, At: now,
					Detail: map[string]any{"action": a.Distribution.Action, "info": nonNil(a.Distribution.Info)}})
		}
		for i, j := range copyOf {
			receipts[i], dup[i] = receipts[j], true
		}
		if err := tx.insertRows(ctx, `INSERT INTO distribution_offices (cable_id, station, office, role)`, offices); err != nil {
			return dbErr("receive: distribution", err)
		}
		if err := appendEvents(ctx, tx, events, now); err != nil {
			return err
		}
		if ins == nil {
			return nil
		}
		return ins.index(ctx)
	})
	if err != nil {
		return err
	}
	for i, a := range arrivals {
		a.Receipt, a.Duplicate = receipts[i], dup[i]
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
