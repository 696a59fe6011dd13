package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	cable "github.com/cable-archive/cable"
	"github.com/jackc/pgx/v5"
)

// Cable returns the record with the identifier: the cable as stored, its
// text and hash, every delivery held (by station), the transmissions from
// this node, its references resolved to held cables, and the held cables
// that refer to it. ENOTFOUND if it is not held.
//
// All of it is read in one round trip, in one read-only transaction.
func (db *DB) Cable(ctx context.Context, id string) (*cable.Record, error) {
	rec := &cable.Record{}
	rawCol, searchCol, spansCol := db.textColumns("")
	err := db.readBatch(ctx, func(b *pgx.Batch) {
		b.Queue(`SELECT cable_json, `+spansCol+`, `+rawCol+`, `+searchCol+`, sha256, origin, stored_at FROM cables WHERE id = $1`, id)
		b.Queue(`SELECT station, at, control_number, action, info FROM receipts WHERE cable_id = $1 ORDER BY station COLLATE "C"`, id)
		b.Queue(transmissionsQuery, []string{id})
		b.Queue(referencesQuery, id)
		b.Queue(`SELECT DISTINCT r.cable_id COLLATE "C" FROM cable_refs r
			WHERE r.cable_id <> $1 AND (r.cand1 = $1
			   OR (r.cand2 = $1 AND NOT EXISTS (SELECT 1 FROM cables x WHERE x.id = r.cand1)))
			ORDER BY 1`, id)
	}, func(br pgx.BatchResults) error {
		var js, spans string
		var raw []byte
		var search *string
		err := br.QueryRow().Scan(&js, &spans, &raw, &search, &rec.SHA256, &rec.Origin, &rec.StoredAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return cable.Errorf(cable.ENOTFOUND, "no cable %s", id)
		} else if err != nil {
			return fmt.Errorf("cable %s: %w", id, err)
		}
		rec.StoredAt, rec.Text = rec.StoredAt.UTC(), storedText(raw, search)
		if err := json.Unmarshal([]byte(js), &rec.Cable); err != nil {
			return fmt.Errorf("cable %s: stored JSON: %w", id, err)
		}
		if err := cable.PasteParagraphs(rec.Cable, rec.Text, spans); err != nil {
			return fmt.Errorf("cable %s: stored paragraphs: %w", id, err)
		}

		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("cable %s: receipts: %w", id, err)
		}
		for rows.Next() {
			var d cable.Delivery
			var info string
			if err := rows.Scan(&d.Station, &d.Receipt.At, &d.Receipt.ControlNumber, &d.Distribution.Action, &info); err != nil {
				rows.Close()
				return fmt.Errorf("cable %s: receipts: %w", id, err)
			}
			d.Receipt.Station, d.Receipt.At = d.Station, d.Receipt.At.UTC()
			if err := json.Unmarshal([]byte(info), &d.Distribution.Info); err != nil {
				rows.Close()
				return fmt.Errorf("cable %s: distribution: %w", id, err)
			}
			rec.Deliveries = append(rec.Deliveries, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("cable %s: receipts: %w", id, err)
		}

		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("cable %s: %w", id, err)
		}
		ts, err := scanTransmissionStates(rows)
		if err != nil {
			return err
		}
		rec.Transmissions = ts[id]

		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("cable %s: %w", id, err)
		}
		if err := scanReferences(rows, rec.Cable); err != nil {
			return err
		}

		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("cable %s: answered by: %w", id, err)
		}
		rec.AnsweredBy, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("cable %s: answered by: %w", id, err)
		}
		if len(rec.AnsweredBy) == 0 {
			rec.AnsweredBy = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

const transmissionsQuery = `SELECT cable_id, destination, state, queued_at, sent_at, received_at, hop, control_number, overdue_at
	FROM transmissions WHERE cable_id = ANY($1) ORDER BY cable_id, ord`

// transmissionStates returns the transmission states of each cable, in
// the order of its destinations.
func transmissionStates(ctx context.Context, tx pgx.Tx, ids []string) (map[string][]cable.TransmissionState, error) {
	if len(ids) == 0 {
		return map[string][]cable.TransmissionState{}, nil
	}
	rows, err := tx.Query(ctx, transmissionsQuery, ids)
	if err != nil {
		return nil, fmt.Errorf("transmissions: %w", err)
	}
	return scanTransmissionStates(rows)
}

func scanTransmissionStates(rows pgx.Rows) (map[string][]cable.TransmissionState, error) {
	defer rows.Close()
	out := map[string][]cable.TransmissionState{}
	for rows.Next() {
		var id string
		var t cable.TransmissionState
		if err := rows.Scan(&id, &t.Destination, &t.State, &t.QueuedAt, &t.SentAt, &t.ReceivedAt, &t.Hop, &t.ControlNumber, &t.OverdueAt); err != nil {
			return nil, fmt.Errorf("transmissions: %w", err)
		}
		t.QueuedAt, t.SentAt, t.ReceivedAt = t.QueuedAt.UTC(), utcPtr(t.SentAt), utcPtr(t.ReceivedAt)
		t.OverdueAt = utcPtr(t.OverdueAt)
		out[id] = append(out[id], t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transmissions: %w", err)
	}
	return out, nil
}

// Limits of a cable list.
const (
	DefaultLimit = cable.DefaultListLimit
	MaxLimit     = cable.MaxListLimit
)

// params numbers query parameters.
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

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
// ranks the hits by relevance (ts_rank, the subject weighing more than
// the text) and sets Snippet; its words are all required, a word ending
// in * matches as a prefix, and no other search syntax applies.
func (db *DB) FindCables(ctx context.Context, f cable.CableFilter) ([]*cable.Summary, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var tsq string
	if strings.TrimSpace(f.Query) != "" {
		tsq = TSQuery(f.Query)
		if tsq == "" {
			return []*cable.Summary{}, 0, nil
		}
	}

	var p params
	var from, receiptCols, roleCol, order string
	where := []string{`c.classification <= ` + p.add(int(f.MaxClassification)), `(c.caption_mask & ~` + p.add(f.CaptionMask) + `::bigint) = 0`}
	switch {
	case f.Office != "":
		from = ` FROM receipts r
			JOIN distribution_offices d ON d.cable_id = r.cable_id AND d.station = r.station AND d.office = ` + p.add(f.Office) + `
			JOIN cables c ON c.id = r.cable_id`
		where = append(where, `r.station = `+p.add(f.Station))
		receiptCols, roleCol, order = `r.at, r.control_number, r.action, r.info`, `d.role`, `r.at DESC, c.id COLLATE "C" DESC`
	case f.Station != "" && !f.Sent:
		station := p.add(f.Station)
		from = ` FROM cables c LEFT JOIN receipts r ON r.cable_id = c.id AND r.station = ` + station
		receiptCols, order = `r.at, r.control_number, r.action, r.info`, `c.dtg DESC, c.id COLLATE "C" DESC`
		// "action" sorts before "info": the best role the offices hold.
		roleCol = `(SELECT min(d.role) FROM distribution_offices d WHERE d.cable_id = c.id AND d.station = r.station`
		if len(f.Offices) > 0 {
			offices := p.add(f.Offices)
			roleCol += ` AND d.office = ANY(` + offices + `))`
			where = append(where, `(c.station = `+station+` OR EXISTS (SELECT 1 FROM distribution_offices d
				WHERE d.cable_id = c.id AND d.station = `+station+` AND d.office = ANY(`+offices+`)))`)
		} else {
			roleCol += `)`
			where = append(where, `(c.station = `+station+` OR r.cable_id IS NOT NULL)`)
		}
	case f.Sent:
		from = ` FROM cables c`
		where = append(where, `c.station = `+p.add(f.Station))
		receiptCols, roleCol, order = `NULL::timestamptz, NULL, NULL, NULL`, `NULL`, `c.dtg DESC, c.id COLLATE "C" DESC`
	default:
		from = ` FROM cables c`
		receiptCols, roleCol, order = `NULL::timestamptz, NULL, NULL, NULL`, `NULL`, `c.dtg DESC, c.id COLLATE "C" DESC`
	}
	query := ""
	if tsq != "" {
		query = `to_tsquery('english', ` + p.add(tsq) + `)`
		where = append(where, `c.tsv @@ `+query)
		order = `ts_rank(c.tsv, ` + query + `) DESC, ` + order
	}
	if f.Precedence != 0 {
		where = append(where, `c.precedence = `+p.add(int(f.Precedence)))
	}
	if f.Classification != 0 {
		where = append(where, `c.classification = `+p.add(int(f.Classification)))
	}
	if f.Tag != "" {
		where = append(where, `EXISTS (SELECT 1 FROM cable_tags t WHERE t.cable_id = c.id AND t.tag = `+p.add(strings.ToUpper(strings.TrimSpace(f.Tag)))+`)`)
	}
	cond := from + ` WHERE ` + strings.Join(where, ` AND `)
	countArgs := append([]any(nil), p...)
	page := `SELECT c.id, c.station, c.serial, c.dtg, c.precedence, c.classification, c.captions, c.handling, c.tags, c.subject, ` +
		receiptCols + `, ` + roleCol + cond + ` ORDER BY ` + order + ` LIMIT ` + p.add(f.Limit) + ` OFFSET ` + p.add(f.Offset)

	var out []*cable.Summary
	var total int
	err := db.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*)`+cond, countArgs...).Scan(&total); err != nil {
			return fmt.Errorf("find cables: count: %w", err)
		}
		if total <= f.Offset {
			return nil
		}
		rows, err := tx.Query(ctx, page, p...)
		if err != nil {
			return fmt.Errorf("find cables: %w", err)
		}
		for rows.Next() {
			s, err := scanSummary(rows, f.Station)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find cables: %w", err)
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]string, len(out))
		for i, s := range out {
			ids[i] = s.ID
		}
		if f.Sent {
			ts, err := transmissionStates(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, s := range out {
				s.Transmissions = ts[s.ID]
			}
		}
		if tsq != "" {
			// Headlines only for the page: ts_headline reads the whole text.
			rows, err := tx.Query(ctx, `SELECT id, ts_headline('english', search_text, to_tsquery('english', $2),
					'StartSel=`+SnippetStart+`, StopSel=`+SnippetEnd+`, MaxWords=20, MinWords=8, MaxFragments=2, FragmentDelimiter=" `+SnippetEllipsis+` "')
				FROM cables WHERE id = ANY($1)`, ids, tsq)
			if err != nil {
				return fmt.Errorf("find cables: headlines: %w", err)
			}
			snippets := map[string]string{}
			for rows.Next() {
				var id, h string
				if err := rows.Scan(&id, &h); err != nil {
					rows.Close()
					return fmt.Errorf("find cables: headlines: %w", err)
				}
				snippets[id] = h
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("find cables: headlines: %w", err)
			}
			for _, s := range out {
				s.Snippet = snippets[s.ID]
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

func scanSummary(rows pgx.Rows, station string) (*cable.Summary, error) {
	var s cable.Summary
	var captions, handling, tags string
	var at *time.Time
	var ctl, action, info, role *string
	var prec, class int16
	if err := rows.Scan(&s.ID, &s.Station, &s.Serial, &s.DTG, &prec, &class, &captions, &handling, &tags, &s.Subject,
		&at, &ctl, &action, &info, &role); err != nil {
		return nil, fmt.Errorf("find cables: %w", err)
	}
	s.DTG = s.DTG.UTC()
	s.Precedence, s.Classification = cable.Precedence(prec), cable.Classification(class)
	for _, x := range []struct {
		src string
		dst any
	}{{captions, &s.Captions}, {handling, &s.Handling}, {tags, &s.Tags}} {
		if err := json.Unmarshal([]byte(x.src), x.dst); err != nil {
			return nil, fmt.Errorf("find cables: %s: %w", s.ID, err)
		}
	}
	if at != nil {
		s.Received = &cable.Receipt{Station: station, At: at.UTC(), ControlNumber: deref(ctl)}
		s.Distribution = &cable.Distribution{Action: deref(action)}
		if err := json.Unmarshal([]byte(deref(info)), &s.Distribution.Info); err != nil {
			return nil, fmt.Errorf("find cables: %s: %w", s.ID, err)
		}
	}
	s.Role = cable.Role(deref(role))
	return &s, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TSQuery turns what a person types into a search box into the text of a
// tsquery that to_tsquery cannot fail to parse: every word is required,
// a word ending in * matches as a prefix, and all other punctuation
// separates words. It returns "" when the input holds no word.
func TSQuery(q string) string {
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
			t := word.String()
			if prefix {
				t += ":*"
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
	return strings.Join(terms, " & ")
}

// isWordRune reports whether r is part of a word: a letter, a digit or
// a combining mark; none of them is an operator of tsquery.
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
	rawCol, searchCol, _ := db.textColumns("c.")
	err := db.read(ctx, func(tx pgx.Tx) error {
		// The order is found on the keys alone, then the texts of the
		// page are read, rather than every queued text sorted. Each cable
		// is looked up by its index (LATERAL, OFFSET 0 so that the
		// planner cannot make it a join): the outbox is small and the
		// archive large, and a hash join read the whole archive at each
		// pass (80 ms with 200,000 cables held).
		rows, err := tx.Query(ctx, `SELECT q.cable_id, c.station, q.destination, q.precedence, c.raw, c.search, c.sha256, q.queued_at
			FROM (SELECT t.cable_id, t.destination, t.queued_at, t.ord, k.precedence, k.n
				FROM transmissions t
				CROSS JOIN LATERAL (SELECT c.precedence, c.n FROM cables c WHERE c.id = t.cable_id OFFSET 0) k
				WHERE t.state = 'queued'
				ORDER BY k.precedence, t.queued_at, k.n, t.ord
				LIMIT $1) q
			CROSS JOIN LATERAL (SELECT c.station, `+rawCol+` AS raw, `+searchCol+` AS search, c.sha256
				FROM cables c WHERE c.n = q.n OFFSET 0) c
			ORDER BY q.precedence, q.queued_at, q.n, q.ord`, limit)
		if err != nil {
			return fmt.Errorf("pending transmissions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t cable.Transmission
			var prec int16
			var raw []byte
			var search *string
			if err := rows.Scan(&t.CableID, &t.Origin, &t.Destination, &prec, &raw, &search, &t.SHA256, &t.QueuedAt); err != nil {
				return fmt.Errorf("pending transmissions: %w", err)
			}
			t.Precedence, t.QueuedAt, t.Text = cable.Precedence(prec), t.QueuedAt.UTC(), storedText(raw, search)
			out = append(out, &t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
