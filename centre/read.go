package centre

import (
	"context"
	"fmt"

	cable "github.com/cable-archive/cable"
)

// notFound is what a reader gets for a cable they may not read: the same
// answer as for one that does not exist.
func notFound(id string) error { return cable.Errorf(cable.ENOTFOUND, "cable %s not found", id) }

// Cable returns the record of a cable u may read, as seen from u's
// station, and records the read in the log.
func (c *Centre) Cable(ctx context.Context, u *cable.User, id string) (*cable.Record, error) {
	if u == nil {
		return nil, cable.Errorf(cable.EUNAUTHORIZED, "sign in to read cables")
	}
	rec, err := c.records.Cable(ctx, id)
	if cable.ErrorCode(err) == cable.ENOTFOUND {
		return nil, notFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	if !readable(u, rec) {
		return nil, notFound(id)
	}
	view := *rec
	view.Cable = rec.Cable.Clone()
	view.Deliveries = nil
	if d := rec.DeliveryFor(u.Station); d != nil {
		receipt, dist := d.Receipt, d.Distribution
		view.Cable.Received, view.Cable.Distribution = &receipt, &dist
		view.Deliveries = []cable.Delivery{*d}
	}
	if view.Cable.Station != u.Station {
		// Only the originating station follows its transmissions.
		view.Transmissions = nil
	}
	// A cable u may not read does not exist for u, here either: the
	// cables answering this one and those it refers to are named only if
	// u may read them.
	view.AnsweredBy = nil
	for _, a := range rec.AnsweredBy {
		if ok, err := c.mayRead(ctx, u, a); err != nil {
			return nil, err
		} else if ok {
			view.AnsweredBy = append(view.AnsweredBy, a)
		}
	}
	for i, r := range view.Cable.References {
		if r.ID == "" {
			continue
		}
		if ok, err := c.mayRead(ctx, u, r.ID); err != nil {
			return nil, err
		} else if !ok {
			view.Cable.References[i].ID = ""
		}
	}
	if err := c.records.AppendEvents(ctx, []*cable.Event{{
		Kind: cable.EventRead, CableID: id, Station: u.Station, Actor: u.Name,
	}}); err != nil {
		return nil, fmt.Errorf("record read of %s: %w", id, err)
	}
	c.metrics.reads.Inc()
	return &view, nil
}

// mayRead reports whether u may read the cable id, as seen from u's
// station; false, not an error, if it is not held.
func (c *Centre) mayRead(ctx context.Context, u *cable.User, id string) (bool, error) {
	rec, err := c.records.Cable(ctx, id)
	if cable.ErrorCode(err) == cable.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read %s: %w", id, err)
	}
	return readable(u, rec), nil
}

// readable is the access policy applied to a record as u's station holds
// it: by the distribution at u's station, if it was delivered there.
func readable(u *cable.User, rec *cable.Record) bool {
	dist := rec.Cable.Distribution
	if d := rec.DeliveryFor(u.Station); d != nil {
		dist = &d.Distribution
	}
	return cable.CanRead(u, rec.Cable, dist)
}

// bound limits a filter to what u may read.
func bound(u *cable.User, f cable.CableFilter) cable.CableFilter {
	f.MaxClassification = u.Clearance
	f.CaptionMask = cable.CaptionMask(u.Captions)
	f.Station = u.Station
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	return f
}

// Inbox lists the cables distributed to office at u's station.
func (c *Centre) Inbox(ctx context.Context, u *cable.User, office string, f cable.CableFilter) ([]*cable.Summary, int, error) {
	if u == nil {
		return nil, 0, cable.Errorf(cable.EUNAUTHORIZED, "sign in to read cables")
	}
	if office == "" && len(u.Offices) > 0 {
		office = u.Offices[0]
	}
	if !u.InOffice(office) {
		return nil, 0, cable.Errorf(cable.EFORBIDDEN, "%s is not in office %s", u.Name, office)
	}
	f = bound(u, f)
	f.Office, f.Sent, f.Offices = office, false, nil
	return c.list(ctx, u, f)
}

// Sent lists the cables released by u's station.
func (c *Centre) Sent(ctx context.Context, u *cable.User, f cable.CableFilter) ([]*cable.Summary, int, error) {
	if u == nil {
		return nil, 0, cable.Errorf(cable.EUNAUTHORIZED, "sign in to read cables")
	}
	f = bound(u, f)
	f.Sent, f.Office, f.Offices = true, "", nil
	return c.list(ctx, u, f)
}

// Search finds the cables u may read: sent by u's station or distributed
// there to one of u's offices.
func (c *Centre) Search(ctx context.Context, u *cable.User, f cable.CableFilter) ([]*cable.Summary, int, error) {
	if u == nil {
		return nil, 0, cable.Errorf(cable.EUNAUTHORIZED, "sign in to search cables")
	}
	f = bound(u, f)
	f.Sent, f.Office, f.Offices = false, "", append([]string(nil), u.Offices...)
	return c.list(ctx, u, f)
}

func (c *Centre) list(ctx context.Context, u *cable.User, f cable.CableFilter) ([]*cable.Summary, int, error) {
	out, total, err := c.records.FindCables(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list cables: %w", err)
	}
	// The store bounds the query; the policy is checked again on every line
	// so that a store bug cannot show a cable to someone who may not read it.
	kept := out[:0]
	for _, s := range out {
		cb := &cable.Cable{Station: s.Station, Classification: s.Classification, Captions: s.Captions}
		if cable.CanRead(u, cb, s.Distribution) {
			kept = append(kept, s)
		} else {
			total--
			c.log.Error("records store listed a cable the reader may not read", "cable", s.ID, "user", u.Name)
		}
	}
	return kept, total, nil
}
