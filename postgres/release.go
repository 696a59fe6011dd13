package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/jackc/pgx/v5"
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
	err := db.write(ctx, func(tx pgx.Tx) error {
		head, err := lockChain(ctx, tx)
		if err != nil {
			return err
		}
		now := db.now()
		keys := make([]counterKey, len(reqs))
		for i, r := range reqs {
			keys[i] = counterKey{counterSerial, r.Cable.Station, r.Cable.DTG.UTC().Year()}
		}
		serials, err := reserve(ctx, tx, keys)
		if err != nil {
			return err
		}
		var b pgx.Batch
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
			stored, err := db.queueCable(&b, c, text, sum, cable.OriginReleased, now)
			if err != nil {
				return err
			}
			rec := &cable.Record{Cable: stored, Text: text, SHA256: sum, Origin: cable.OriginReleased, StoredAt: now}
			for j, dest := range c.Destinations() {
				b.Queue(`INSERT INTO transmissions (cable_id, destination, ord, state, queued_at) VALUES ($1, $2, $3, $4, $5)`,
					c.ID, dest, j, cable.TransmissionQueued, now)
				rec.Transmissions = append(rec.Transmissions, cable.TransmissionState{Destination: dest, State: cable.TransmissionQueued, QueuedAt: now})
			}
			records[i] = rec
			events = append(events, &cable.Event{
				Kind: cable.EventReleased, CableID: c.ID, Station: c.Station, Actor: r.Actor, At: now,
				Detail: map[string]any{"serial": c.Serial, "sha256": sum, "dtg": cable.FormatDTG(c.DTG)},
			})
		}
		if err := queueEvents(&b, head, events, now); err != nil {
			return err
		}
		if err := sendBatch(ctx, tx, &b, "release"); err != nil {
			return err
		}
		for _, rec := range records {
			if err := resolveReferences(ctx, tx, rec.Cable); err != nil {
				return err
			}
		}
		return nil
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
// increment per counter for the whole batch. The upsert locks the
// counter's row until the transaction ends.
func reserve(ctx context.Context, tx pgx.Tx, keys []counterKey) ([]int, error) {
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
		var last int64
		err := tx.QueryRow(ctx, `INSERT INTO counters (kind, station, year, value) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kind, station, year) DO UPDATE SET value = counters.value + excluded.value
			RETURNING value`, k.kind, k.station, k.year, need[k]).Scan(&last)
		if err != nil {
			return nil, fmt.Errorf("next %s of %s for %d: %w", k.kind, k.station, k.year, err)
		}
		next[k] = int(last) - need[k] + 1
	}
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = next[k]
		next[k]++
	}
	return out, nil
}

// storedText is a cable's text as its row keeps it (see textColumns): its
// raw bytes when the row has them, otherwise search_text, which is then
// the text itself.
func storedText(raw []byte, search *string) []byte {
	if raw != nil || search == nil {
		return raw
	}
	return []byte(*search)
}

// searchText is text as PostgreSQL text can hold it: valid UTF-8, no NUL.
func searchText(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", " ")
}

// textOnceFrom is the schema version from which a cable row keeps its
// text once: raw_text only when search_text is not the text, and
// paragraphs as spans of the text.
const textOnceFrom = 3

// queueCable queues the inserts of the cable row, its tags and references
// on b, and returns the cable as stored: without the per-station receipt
// and distribution, references unresolved.
func (db *DB) queueCable(b *pgx.Batch, c *cable.Cable, text []byte, sum string, origin cable.Origin, now time.Time) (*cable.Cable, error) {
	year, station, serial, err := cable.RecordKey(c, origin)
	if err != nil {
		return nil, err
	}
	stored := c.Clone()
	stored.Received, stored.Distribution = nil, nil
	for i := range stored.References {
		stored.References[i].ID = ""
	}
	forJSON, spans, raw, search := stored, "", text, searchText(text)
	if db.schema >= textOnceFrom {
		forJSON, spans = cable.CutParagraphs(stored, text)
		if search == string(text) {
			raw = nil
		}
	}
	js, err := json.Marshal(forJSON)
	if err != nil {
		return nil, cable.Errorf(cable.EINVALID, "cable %s cannot be stored as JSON: %v", c.ID, err)
	}
	captions, _ := json.Marshal(c.Captions)
	handling, _ := json.Marshal(c.Handling)
	tagsJSON, _ := json.Marshal(c.Tags)
	args := []any{c.ID, station, year, serial, utc(c.DTG), int(c.Precedence), int(c.Classification), cable.CaptionMask(c.Captions),
		string(captions), string(handling), string(tagsJSON), c.Subject, raw, sum, string(js), string(origin), now, search}
	rawCol, _, _ := db.textColumns("")
	cols, params := ``, ``
	if db.schema >= textOnceFrom {
		cols, params = `, text_spans`, `, $19`
		args = append(args, spans)
	}
	b.Queue(`INSERT INTO cables (id, station, year, serial, dtg, precedence, classification, caption_mask,
		captions, handling, tags, subject, `+rawCol+`, sha256, cable_json, origin, stored_at, search_text`+cols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18`+params+`)`, args...)
	seen := map[string]bool{}
	for _, t := range c.Tags {
		t = strings.ToUpper(strings.TrimSpace(t))
		if !seen[t] {
			seen[t] = true
			b.Queue(`INSERT INTO cable_tags (cable_id, tag) VALUES ($1, $2)`, c.ID, t)
		}
	}
	refYear := c.DTG.UTC().Year()
	for i, r := range c.References {
		var cand [2]*string
		if target, err := cable.ParseReference(r.Text); err == nil {
			for j, id := range target.Candidates(refYear) {
				if j < len(cand) {
					cand[j] = &id
				}
			}
		}
		b.Queue(`INSERT INTO cable_refs (cable_id, ord, text, cand1, cand2) VALUES ($1, $2, $3, $4, $5)`, c.ID, i, r.Text, cand[0], cand[1])
	}
	return stored, nil
}

// referencesQuery resolves each reference of a cable to the first of
// its candidates that is held, or "".
const referencesQuery = `SELECT r.ord,
		CASE WHEN EXISTS (SELECT 1 FROM cables x WHERE x.id = r.cand1) THEN r.cand1
		     WHEN EXISTS (SELECT 1 FROM cables x WHERE x.id = r.cand2) THEN r.cand2
		     ELSE '' END
	FROM cable_refs r WHERE r.cable_id = $1 ORDER BY r.ord`

// resolveReferences sets the ID of each of c's references to the first
// of its candidates that is held, or "".
func resolveReferences(ctx context.Context, tx pgx.Tx, c *cable.Cable) error {
	if len(c.References) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, referencesQuery, c.ID)
	if err != nil {
		return fmt.Errorf("references of %s: %w", c.ID, err)
	}
	return scanReferences(rows, c)
}

func scanReferences(rows pgx.Rows, c *cable.Cable) error {
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
	if err := rows.Err(); err != nil {
		return fmt.Errorf("references of %s: %w", c.ID, err)
	}
	return nil
}

// Receive stores arrivals in one transaction. An arrival whose cable this
// node already received at the arrival's station is marked Duplicate with
// the receipt held, and nothing is written for it. Otherwise the cable is
// stored if it is not held; the receiving station's next control number
// for the year of At is given; the receipt and distribution are stored;
// the transmission from this node, if any, is marked received with the
// receipt's time and control number; and
// received and distributed events are logged. A cable held with another
// SHA-256 than an arrival's fails the whole batch with ECONFLICT.
func (db *DB) Receive(ctx context.Context, arrivals []*cable.Arrival) error {
	if err := cable.CheckArrivals(arrivals); err != nil {
		return err
	}
	receipts := make([]cable.Receipt, len(arrivals))
	dup := make([]bool, len(arrivals))
	err := db.write(ctx, func(tx pgx.Tx) error {
		head, err := lockChain(ctx, tx)
		if err != nil {
			return err
		}
		now := db.now()
		var b pgx.Batch
		var events []*cable.Event
		// What this batch writes, as later arrivals in it must see it.
		heldHere := map[string]string{}
		receivedHere := map[[2]string]cable.Receipt{}
		for i, a := range arrivals {
			id := a.Cable.ID
			sum := a.SHA256
			if sum == "" {
				sum = cable.SHA256Hex(a.Text)
			}
			held, ok := heldHere[id]
			if !ok {
				err := tx.QueryRow(ctx, `SELECT sha256 FROM cables WHERE id = $1`, id).Scan(&held)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("receive %s: %w", id, err)
				}
			}
			if held != "" && held != sum {
				return cable.Errorf(cable.ECONFLICT, "cable %s arrived at %s with SHA-256 %s but is held with %s", id, a.Station, sum, held)
			}

			key := [2]string{id, a.Station}
			if r, ok := receivedHere[key]; ok {
				dup[i], receipts[i] = true, r
				continue
			}
			var r cable.Receipt
			err := tx.QueryRow(ctx, `SELECT at, control_number FROM receipts WHERE cable_id = $1 AND station = $2`, id, a.Station).Scan(&r.At, &r.ControlNumber)
			if err == nil {
				r.Station, r.At = a.Station, r.At.UTC()
				dup[i], receipts[i] = true, r
				continue
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("receive %s: %w", id, err)
			}

			if held == "" {
				origin := a.Origin
				if origin == "" {
					origin = cable.OriginReceived
				}
				if _, err := db.queueCable(&b, a.Cable, a.Text, sum, origin, now); err != nil {
					return err
				}
				heldHere[id] = sum
			}
			recvAt := utc(a.At)
			control := a.ControlNumber
			if control == "" {
				nums, err := reserve(ctx, tx, []counterKey{{counterControl, a.Station, recvAt.Year()}})
				if err != nil {
					return err
				}
				control = strconv.Itoa(nums[0])
			}
			r = cable.Receipt{Station: a.Station, At: recvAt, ControlNumber: control}
			info, _ := json.Marshal(a.Distribution.Info)
			b.Queue(`INSERT INTO receipts (cable_id, station, at, year, control_number, action, info) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				id, a.Station, recvAt, recvAt.Year(), r.ControlNumber, a.Distribution.Action, string(info))
			for _, o := range a.Distribution.Roles() {
				b.Queue(`INSERT INTO distribution_offices (cable_id, station, office, role) VALUES ($1, $2, $3, $4)`,
					id, a.Station, o.Office, string(o.Role))
			}
			b.Queue(`UPDATE transmissions SET state = $1, received_at = $2, control_number = $3
				WHERE cable_id = $4 AND destination = $5 AND state <> $1`,
				cable.TransmissionReceived, recvAt, r.ControlNumber, id, a.Station)
			receipts[i] = r
			receivedHere[key] = r
			events = append(events,
				&cable.Event{Kind: cable.EventReceived, CableID: id, Station: a.Station, At: now,
					Detail: map[string]any{"control_number": r.ControlNumber, "at": recvAt.Format(time.RFC3339Nano), "sha256": sum}},
				&cable.Event{Kind: cable.EventDistributed, CableID: id, Station: a.Station, At: now,
					Detail: map[string]any{"action": a.Distribution.Action, "info": nonNil(a.Distribution.Info)}})
		}
		if err := queueEvents(&b, head, events, now); err != nil {
			return err
		}
		return sendBatch(ctx, tx, &b, "receive")
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
