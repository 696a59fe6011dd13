package centre

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
)

// FileHistorical files a historical record for u (an archivist): its
// text in the canonical form as far as the record allows, its receipt
// and distribution as the paper shows them (or the receiving station's
// routing rules when it shows none), and what the source gives beside the
// fields as an "imported" event. A record already held is not filed twice:
// the answer is ECONFLICT.
func (c *Centre) FileHistorical(ctx context.Context, u *cable.User, r *cable.HistoricalRecord) (*cable.Record, error) {
	if u == nil {
		return nil, cable.Errorf(cable.EUNAUTHORIZED, "sign in to file records")
	}
	if !u.HasRole(cable.RoleArchivist) && !u.HasRole(cable.RoleOperator) {
		return nil, cable.Errorf(cable.EFORBIDDEN, "%s may not file historical records", u.Name)
	}
	// What a filer could not read, they may not file: it would put in
	// others' inboxes what they could not have seen.
	if r != nil && r.Cable != nil {
		if why := u.Uncleared(r.Cable); why != "" {
			return nil, cable.Errorf(cable.EFORBIDDEN, "%s may not file this record: %s", u.Name, why)
		}
	}
	filed, err := FileHistorical(ctx, c.records, c.form, c.rules.Load(), u.Name, r, c.now())
	if cable.ErrorCode(err) == cable.ECONFLICT {
		// Held already: said, but of a cable the filer may not read,
		// nothing more (not its SHA-256, which would let them test
		// guesses at its text).
		if ok, rerr := c.mayRead(ctx, u, r.ID); rerr != nil {
			return nil, rerr
		} else if !ok {
			return nil, cable.Errorf(cable.ECONFLICT, "a record under %s is already held", r.ID)
		}
	}
	return filed, err
}

// FileHistorical files r into rec on behalf of actor; see Centre.FileHistorical.
func FileHistorical(ctx context.Context, rec cable.Records, form cable.TextForm, rules *cable.RoutingRules, actor string, r *cable.HistoricalRecord, now time.Time) (*cable.Record, error) {
	var ps cable.Problems
	if r == nil || r.Cable == nil {
		ps.Add("", "no record")
		return nil, ps.Err("invalid historical record")
	}
	c := r.Cable.Clone()
	if r.ID == "" {
		ps.Add("id", "the record has no identifier (a telegram needs station, number and date)")
	}
	if !cable.ValidStationCode(c.Station) {
		ps.Add("station", "station code %q must be 2-20 upper-case letters", c.Station)
	}
	if !c.Classification.Valid() {
		ps.Add("classification", "unknown classification")
	}
	if len(c.Paragraphs) == 0 {
		ps.Add("paragraphs", "the record has no text")
	}
	for i, p := range c.Paragraphs {
		if strings.TrimSpace(p.Text) == "" {
			ps.Add(fmt.Sprintf("paragraphs[%d].text", i), "paragraph %d is empty", i+1)
		}
	}
	station := r.ReceivedAt
	if station == "" {
		station = c.Station
	}
	if !cable.ValidStationCode(station) {
		ps.Add("received_at", "receiving station %q must be 2-20 upper-case letters", station)
	}
	// This year's serials and control numbers are the live system's: a
	// record filed under one would take it, and every release or arrival
	// after it would fail on the number already held.
	for _, d := range []struct {
		field string
		at    time.Time
	}{{"dtg", c.DTG}, {"received.at", receivedAt(c)}} {
		if !d.at.IsZero() && d.at.UTC().Year() >= now.UTC().Year() {
			ps.Add(d.field, "a historical record is dated before this year (%d): %s is the live system's", now.UTC().Year(), d.at.UTC().Format("2006-01-02"))
		}
	}
	if y, _, _, err := cable.ParseIdentifier(r.ID); err == nil && y >= now.UTC().Year() {
		ps.Add("id", "a historical record is dated before this year (%d): %s is a number of the live system's", now.UTC().Year(), r.ID)
	}
	if err := ps.Err("invalid historical record"); err != nil {
		return nil, err
	}
	c.ID = r.ID
	received, dist := c.Received, c.Distribution
	c.Received, c.Distribution = nil, nil
	if dist == nil || dist.Action == "" {
		d, ok := rules.Distribute(c, station)
		if !ok {
			d = cable.Distribution{Info: []string{}}
		}
		dist = &d
	}
	at := c.DTG
	control := ""
	if received != nil {
		control = received.ControlNumber
		if !received.At.IsZero() {
			at = received.At
		}
	}
	if at.IsZero() {
		at = now
	}
	text, err := form.Render(c)
	if err != nil {
		// A memorandum has no addressees to write in the telegram form; its
		// fields are kept as they were read.
		text, err = json.MarshalIndent(c, "", "  ")
		if err != nil {
			return nil, err
		}
		text = append(text, '\n')
	}
	a := &cable.Arrival{
		Station: station, Cable: c, Text: text, SHA256: cable.SHA256Hex(text), At: at.UTC(),
		Distribution: *dist, Origin: cable.OriginHistorical, ControlNumber: control,
	}
	if err := rec.Receive(ctx, []*cable.Arrival{a}); err != nil {
		return nil, fmt.Errorf("file %s: %w", r.ID, err)
	}
	if a.Duplicate {
		return nil, cable.Errorf(cable.ECONFLICT, "%s is already in the holding", r.ID)
	}
	detail := map[string]any{"kind": r.Kind, "source": r.Source}
	if r.SourceID != "" {
		detail["source_id"] = r.SourceID
	}
	for k, v := range r.Details {
		detail[k] = v
	}
	if len(r.Warnings) > 0 {
		detail["warnings"] = r.Warnings
	}
	if err := rec.AppendEvents(ctx, []*cable.Event{{Kind: cable.EventImported, CableID: r.ID, Station: station, Actor: actor, Detail: detail}}); err != nil {
		return nil, err
	}
	return rec.Cable(ctx, r.ID)
}

// receivedAt is when c says it was received, zero if it does not.
func receivedAt(c *cable.Cable) time.Time {
	if c.Received == nil {
		return time.Time{}
	}
	return c.Received.At
}
