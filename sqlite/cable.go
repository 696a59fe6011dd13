package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	cable "github.com/cable-archive/cable"
)

// Cable returns the record with the identifier: the cable as stored, its
// text and hash, every delivery held (by station), the transmissions from
// this node, its references resolved to held cables, and the held cables
// that refer to it. ENOTFOUND if it is not held.
func (db *DB) Cable(ctx context.Context, id string) (*cable.Record, error) {
	var rec *cable.Record
	err := db.read(ctx, func(tx *txn) error {
		var js, spans string
		var stored int64
		rec = &cable.Record{}
		err := tx.QueryRowContext(ctx, `SELECT cable_json, text_spans, body, sha256, origin, stored_at FROM cables WHERE id = ?`, id).
			Scan(&js, &spans, &rec.Text, &rec.SHA256, &rec.Origin, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return cable.Errorf(cable.ENOTFOUND, "no cable %s", id)
		} else if err != nil {
			return fmt.Errorf("cable %s: %w", id, err)
		}
		rec.StoredAt = fromMicros(stored)
		if err := json.Unmarshal([]byte(js), &rec.Cable); err != nil {
			return fmt.Errorf("cable %s: stored JSON: %w", id, err)
		}
		if err := cable.PasteParagraphs(rec.Cable, rec.Text, spans); err != nil {
			return fmt.Errorf("cable %s: stored paragraphs: %w", id, err)
		}

		rows, err := tx.QueryContext(ctx, `SELECT station, at, control_number, action, info FROM receipts WHERE cable_id = ? ORDER BY station`, id)
		if err != nil {
			return fmt.Errorf("cable %s: receipts: %w", id, err)
		}
		for rows.Next() {
			var d cable.Delivery
			var at int64
			var info string
			if err := rows.Scan(&d.Station, &at, &d.Receipt.ControlNumber, &d.Distribution.Action, &info); err != nil {
				rows.Close()
				return fmt.Errorf("cable %s: receipts: %w", id, err)
			}
			d.Receipt.Station, d.Receipt.At = d.Station, fromMicros(at)
			if err := json.Unmarshal([]byte(info), &d.Distribution.Info); err != nil {
				rows.Close()
				return fmt.Errorf("cable %s: distribution: %w", id, err)
			}
			rec.Deliveries = append(rec.Deliveries, d)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("cable %s: receipts: %w", id, err)
		}

		ts, err := transmissionStates(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		rec.Transmissions = ts[id]

		if err := resolveReferences(ctx, tx, rec.Cable); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT DISTINCT r.cable_id FROM cable_refs r
			WHERE r.cable_id <> ?1 AND (r.cand1 = ?1
			   OR (r.cand2 = ?1 AND NOT EXISTS (SELECT 1 FROM cables x WHERE x.id = r.cand1)))
			ORDER BY r.cable_id`, id)
		if err != nil {
			return fmt.Errorf("cable %s: answered by: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			var by string
			if err := rows.Scan(&by); err != nil {
				return fmt.Errorf("cable %s: answered by: %w", id, err)
			}
			rec.AnsweredBy = append(rec.AnsweredBy, by)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// transmissionStates returns the transmission states of each cable, in
// the order of its destinations.
func transmissionStates(ctx context.Context, q querier, ids []string) (map[string][]cable.TransmissionState, error) {
	out := map[string][]cable.TransmissionState{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT cable_id, destination, state, queued_at, sent_at, received_at, hop, control_number, overdue_at
		FROM transmissions WHERE cable_id IN (SELECT value FROM json_each(?)) ORDER BY cable_id, ord`, jsonString(ids))
	if err != nil {
		return nil, fmt.Errorf("transmissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t cable.TransmissionState
		var queued int64
		var sent, received, overdue sql.NullInt64
		if err := rows.Scan(&id, &t.Destination, &t.State, &queued, &sent, &received, &t.Hop, &t.ControlNumber, &overdue); err != nil {
			return nil, fmt.Errorf("transmissions: %w", err)
		}
		t.QueuedAt, t.SentAt, t.ReceivedAt = fromMicros(queued), fromNullMicros(sent), fromNullMicros(received)
		t.OverdueAt = fromNullMicros(overdue)
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// Limits of a cable list.
const (
	DefaultLimit = cable.DefaultListLimit
	MaxLimit     = cable.MaxListLimit
)

// FindCables lists the cables that f selects and counts all that match
// before Offset and Limit. Every list is bounded by f.MaxClassification
// and f.CaptionMask: a cable above the one or with a caption outside the
// other is in no list and no count.
//
// With Station and Office it is that office's inbox, newest receipt
// first; with Station and Sent the cables of that station, newest DTG
// first; with Station and Offices the cables sent by the station or
// distributed at it to any of the offices; with Station alone, all of
// these for every office; with no Station, every cable held. A Query
// ranks the hits by relevance (bm25, subject weighing double) and sets
// Snippet; its words are all required, a word ending in * matches as a
// prefix, and no other search syntax applies.
func (db *DB) FindCables(ctx context.Context, f cable.CableFilter) ([]*cable.Summary, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var match string
	if strings.TrimSpace(f.Query) != "" {
		match = MatchQuery(f.Query)
		if match == "" {
			return []*cable.Summary{}, 0, nil
		}
	}

	// The query reads SELECT <columns> FROM <from> WHERE <where>; the
	// arguments of each part are kept apart, in the order of the text.
	officesJSON := jsonString(f.Offices)
	var from strings.Builder
	var selectArgs, args []any
	var receiptCols, roleCol, order string
	switch {
	case f.Office != "":
		from.WriteString(` FROM receipts r
			JOIN distribution_offices d ON d.cable_id = r.cable_id AND d.station = r.station AND d.office = ?
			JOIN cables c ON c.id = r.cable_id`)
		args = append(args, f.Office)
		receiptCols, roleCol, order = `r.at, r.control_number, r.action, r.info`, `d.role`, `r.at DESC, c.id DESC`
	case f.Station != "" && !f.Sent:
		from.WriteString(` FROM cables c LEFT JOIN receipts r ON r.cable_id = c.id AND r.station = ?`)
		args = append(args, f.Station)
		receiptCols, order = `r.at, r.control_number, r.action, r.info`, `c.dtg DESC, c.id DESC`
		// "action" sorts before "info": the best role the offices hold.
		roleCol = `(SELECT min(d.role) FROM distribution_offices d WHERE d.cable_id = c.id AND d.station = r.station`
		if len(f.Offices) > 0 {
			roleCol += ` AND d.office IN (SELECT value FROM json_each(?))`
			selectArgs = append(selectArgs, officesJSON)
		}
		roleCol += `)`
	default: // sent list, or every cable held
		from.WriteString(` FROM cables c`)
		receiptCols, roleCol, order = `NULL, NULL, NULL, NULL`, `NULL`, `c.dtg DESC, c.id DESC`
	}
	snippetCol := `NULL`
	if match != "" {
		from.WriteString(` JOIN cables_fts ON cables_fts.rowid = c.n`)
		snippetCol = `snippet(cables_fts, -1, '` + SnippetStart + `', '` + SnippetEnd + `', '` + SnippetEllipsis + `', 24)`
		order = `bm25(cables_fts, 2.0, 1.0), ` + order
	}

	where := []string{`c.classification <= ?`, `(c.caption_mask & ~?) = 0`}
	args = append(args, int(f.MaxClassification), f.CaptionMask)
	switch {
	case f.Office != "":
		where = append(where, `r.station = ?`)
		args = append(args, f.Station)
	case f.Sent:
		where = append(where, `c.station = ?`)
		args = append(args, f.Station)
	case f.Station != "" && len(f.Offices) > 0:
		w := `(c.station = ? OR EXISTS (SELECT 1 FROM distribution_offices d WHERE d.cable_id = c.id AND d.station = ? AND d.office IN (SELECT value FROM json_each(?))))`
		where = append(where, w)
		args = append(args, f.Station, f.Station, officesJSON)
	case f.Station != "":
		where = append(where, `(c.station = ? OR r.cable_id IS NOT NULL)`)
		args = append(args, f.Station)
	}
	if match != "" {
		where = append(where, `cables_fts MATCH ?`)
		args = append(args, match)
	}
	if f.Precedence != 0 {
		where = append(where, `c.precedence = ?`)
		args = append(args, int(f.Precedence))
	}
	if f.Classification != 0 {
		where = append(where, `c.classification = ?`)
		args = append(args, int(f.Classification))
	}
	if f.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM cable_tags t WHERE t.cable_id = c.id AND t.tag = ?)`)
		args = append(args, strings.ToUpper(strings.TrimSpace(f.Tag)))
	}
	cond := from.String() + ` WHERE ` + strings.Join(where, ` AND `)

	var out []*cable.Summary
	var total int
	err := db.read(ctx, func(tx *txn) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*)`+cond, args...).Scan(&total); err != nil {
			return fmt.Errorf("find cables: count: %w", err)
		}
		if total <= f.Offset {
			return nil
		}
		q := `SELECT c.id, c.station, c.serial, c.dtg, c.precedence, c.classification, c.captions, c.handling, c.tags, c.subject, ` +
			receiptCols + `, ` + roleCol + `, ` + snippetCol + cond + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
		all := append(append(append([]any{}, selectArgs...), args...), f.Limit, f.Offset)
		rows, err := tx.QueryContext(ctx, q, all...)
		if err != nil {
			return fmt.Errorf("find cables: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanSummary(rows, f.Station)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find cables: %w", err)
		}
		if f.Sent && len(out) > 0 {
			ids := make([]string, len(out))
			for i, s := range out {
				ids[i] = s.ID
			}
			ts, err := transmissionStates(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, s := range out {
				s.Transmissions = ts[s.ID]
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if out == nil {
		out = []*cable.Summary{}
	}
	return out, total, nil
}

func scanSummary(rows *sql.Rows, station string) (*cable.Summary, error) {
	var s cable.Summary
	var dtg int64
	var captions, handling, tags string
	var at sql.NullInt64
	var ctl, action, info, role, snippet sql.NullString
	if err := rows.Scan(&s.ID, &s.Station, &s.Serial, &dtg, &s.Precedence, &s.Classification, &captions, &handling, &tags, &s.Subject,
		&at, &ctl, &action, &info, &role, &snippet); err != nil {
		return nil, fmt.Errorf("find cables: %w", err)
	}
	s.DTG = fromMicros(dtg)
	for _, x := range []struct {
		src string
		dst any
	}{{captions, &s.Captions}, {handling, &s.Handling}, {tags, &s.Tags}} {
		if err := json.Unmarshal([]byte(x.src), x.dst); err != nil {
			return nil, fmt.Errorf("find cables: %s: %w", s.ID, err)
		}
	}
	if at.Valid {
		s.Received = &cable.Receipt{Station: station, At: fromMicros(at.Int64), ControlNumber: ctl.String}
		s.Distribution = &cable.Distribution{Action: action.String}
		if err := json.Unmarshal([]byte(info.String), &s.Distribution.Info); err != nil {
			return nil, fmt.Errorf("find cables: %s: %w", s.ID, err)
		}
	}
	s.Role = cable.Role(role.String)
	s.Snippet = snippet.String
	return &s, nil
}

// MatchQuery turns what a person types into a search box into an FTS5
// query that cannot fail to parse: every word is required, a word ending
// in * matches as a prefix, and all other punctuation separates words.
// It returns "" when the input holds no word.
func MatchQuery(q string) string {
	var terms []string
	for _, field := range strings.Fields(q) {
		var word strings.Builder
		hasBase := false // a word of marks alone is no word
		flush := func(prefix bool) {
			if !hasBase {
				word.Reset()
				return
			}
			hasBase = false
			t := `"` + word.String() + `"`
			if prefix {
				t += `*`
			}
			terms = append(terms, t)
			word.Reset()
		}
		rs := []rune(field)
		for i, r := range rs {
			switch {
			case isWordRune(r):
				word.WriteRune(r)
				hasBase = hasBase || !unicode.IsMark(r)
			case r == '*' && i == len(rs)-1:
				flush(true)
			default:
				flush(false)
			}
		}
		flush(false)
	}
	return strings.Join(terms, " ")
}

// isWordRune reports whether r is part of a word: a letter, a digit or
// a combining mark. Each word is quoted in the query, so the tokenizer
// may split it further without harm.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// PendingTransmissions returns up to limit queued transmissions (100 when
// limit is 0), most urgent precedence first, then oldest first.
func (db *DB) PendingTransmissions(ctx context.Context, limit int) ([]*cable.Transmission, error) {
	if limit < 0 {
		return nil, cable.Errorf(cable.EINVALID, "limit may not be negative")
	}
	if limit == 0 {
		limit = 100
	}
	var out []*cable.Transmission
	err := db.read(ctx, func(tx *txn) error {
		// The order is found on the keys alone, then the texts of the
		// page are read: sorting the whole outbox with its texts moved
		// every queued text through the sorter at every pass.
		rows, err := tx.QueryContext(ctx, `SELECT q.cable_id, c.station, q.destination, q.precedence, c.body, c.sha256, q.queued_at
			FROM (SELECT t.cable_id, t.destination, t.queued_at, t.ord, c.precedence, c.n
				FROM transmissions t JOIN cables c ON c.id = t.cable_id
				WHERE t.state = 'queued'
				ORDER BY c.precedence, t.queued_at, c.n, t.ord
				LIMIT ?) q
			JOIN cables c ON c.n = q.n
			ORDER BY q.precedence, q.queued_at, q.n, q.ord`, limit)
		if err != nil {
			return fmt.Errorf("pending transmissions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t cable.Transmission
			var queued int64
			if err := rows.Scan(&t.CableID, &t.Origin, &t.Destination, &t.Precedence, &t.Text, &t.SHA256, &queued); err != nil {
				return fmt.Errorf("pending transmissions: %w", err)
			}
			t.QueuedAt = fromMicros(queued)
			out = append(out, &t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// jsonString is v as JSON text: SQLite's JSON functions read a BLOB as
// its binary JSON form, so a list is bound as TEXT.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
