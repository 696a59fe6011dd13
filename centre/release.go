package centre

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

// maxReleaseBatch bounds how many releases share one transaction.
const maxReleaseBatch = 256

// defaultReleaseGather bounds how long the release loop holds a batch
// open for releases on their way: long enough for a busy node's callers
// to join it, too short for anyone to notice.
const defaultReleaseGather = 10 * time.Millisecond

type pendingRelease struct {
	req  *cable.ReleaseRequest
	done chan error
}

// prepare normalizes and validates a draft for u, returning the cable to release.
func (c *Centre) prepare(u *cable.User, draft *cable.Cable, at time.Time) (*cable.Cable, error) {
	if u == nil {
		return nil, cable.Errorf(cable.EUNAUTHORIZED, "sign in to draft cables")
	}
	if !u.HasRole(cable.RoleDrafter) {
		return nil, cable.Errorf(cable.EFORBIDDEN, "%s may not draft or release cables", u.Name)
	}
	if draft == nil {
		return nil, cable.Errorf(cable.EINVALID, "no draft")
	}
	d := draft.Clone()
	if d.Station == "" {
		d.Station = u.Station
	}
	// Release fills these in; what a draft says of them is ignored.
	d.ID, d.Serial, d.DTG, d.Received, d.Distribution = "", 0, time.Time{}, nil, nil
	for i := range d.References {
		d.References[i].ID = ""
	}
	cable.Normalize(d)
	if !c.hosted[d.Station] {
		return nil, cable.Invalid("invalid cable", []cable.Problem{{Field: "station", Message: fmt.Sprintf("this node does not host station %s", d.Station)}})
	}
	if err := cable.Validate(d, cable.ValidateOptions{Directory: c.dir, Drafter: u, At: at, Draft: true}); err != nil {
		return nil, err
	}
	// A cable that cannot be sealed to an addressee would wait in the
	// outbox for ever: refuse it now and say what the operator must do.
	var ps cable.Problems
	for _, dest := range d.Destinations() {
		if err := c.sealer.CanSeal(d.Station, dest); err != nil {
			ps.Add("to", "%s: %s", dest, cable.ErrorMessage(err))
		}
	}
	if err := ps.Err("cable cannot be sealed to every addressee"); err != nil {
		return nil, err
	}
	return d, nil
}

// Check validates a draft for u and names every problem.
func (c *Centre) Check(ctx context.Context, u *cable.User, draft *cable.Cable) error {
	_, err := c.prepare(u, draft, c.now())
	return err
}

// Release validates the draft, assigns the station's next serial and the
// date-time group, stores the canonical text and queues it for the
// transport, all in one transaction shared with other releases arriving at
// the same moment (group commit).
func (c *Centre) Release(ctx context.Context, u *cable.User, draft *cable.Cable) (*cable.Record, error) {
	c.preparing.Add(1)
	queued := false
	defer func() {
		if !queued {
			c.preparing.Add(-1)
		}
	}()
	now := c.now().UTC()
	d, err := c.prepare(u, draft, now)
	if err != nil {
		return nil, err
	}
	d.DTG = now.Truncate(time.Minute)
	// Render once now so that a cable the text form cannot write is
	// refused before it takes a serial.
	probe := d.Clone()
	probe.Serial, probe.ID = 1, cable.Identifier(d.DTG.Year(), d.Station, 1)
	if _, err := c.form.Render(probe); err != nil {
		return nil, err
	}
	p := &pendingRelease{
		req:  &cable.ReleaseRequest{Cable: d, Render: c.form.Render, Actor: u.Name},
		done: make(chan error, 1),
	}
	select {
	case <-c.stopped:
		return nil, errStopped
	default:
	}
	select {
	case c.releases <- p:
		queued = true
		c.preparing.Add(-1)
	case <-c.stopped:
		return nil, errStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-p.done:
		if err != nil {
			return nil, err
		}
	case <-c.stopped:
		// Refused by stop, or committed by the loop's last batch just
		// before: the answer, if any, is already in p.done.
		select {
		case err := <-p.done:
			if err != nil {
				return nil, err
			}
		default:
			return nil, errStopped
		}
	case <-ctx.Done():
		// The release may still commit; the caller finds it in the sent list.
		return nil, ctx.Err()
	}
	c.metrics.released.WithLabelValues(d.Station).Inc()
	c.kickTransmitter(d.Precedence)
	return p.req.Record, nil
}

// releaseLoop commits releases in batches: it takes one, then whatever
// else is already waiting, up to maxReleaseBatch. Then, for at most
// c.gather, it waits for releases still being checked and for as many as
// the batch before held. Without that wait, callers whose releases
// committed together come back together, and the first of them to have
// checked its next cable commits alone while the others queue behind it:
// with 32 releasing clients, more than half the commits held one to
// seven cables, and each commit costs the same whatever it holds.
func (c *Centre) releaseLoop(ctx context.Context) error {
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	last := 0 // the size of the batch before
	for {
		var batch []*pendingRelease
		select {
		case <-ctx.Done():
			c.failPending(ctx.Err())
			return nil
		case p := <-c.releases:
			batch = append(batch, p)
		}
		if c.gather > 0 {
			gather.Reset(c.gather)
		}
	fill:
		for len(batch) < maxReleaseBatch {
			select {
			case p := <-c.releases:
				batch = append(batch, p)
				continue
			default:
			}
			if c.gather < 0 || len(batch) >= last && c.preparing.Load() == 0 {
				break fill
			}
			select {
			case p := <-c.releases:
				batch = append(batch, p)
			case <-gather.C:
				break fill
			case <-ctx.Done():
				break fill
			}
		}
		gather.Stop() // since Go 1.23 a stopped timer's channel holds nothing stale
		last = len(batch)
		c.commitReleases(batch)
	}
}

func (c *Centre) commitReleases(batch []*pendingRelease) {
	// Releases must commit even while the server shuts down.
	ctx := context.Background()
	reqs := make([]*cable.ReleaseRequest, len(batch))
	for i, p := range batch {
		reqs[i] = p.req
	}
	err := c.records.Release(ctx, reqs)
	if err == nil {
		for _, p := range batch {
			p.done <- nil
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- err
		return
	}
	// One bad request must not fail the others: release them one by one.
	for _, p := range batch {
		p.req.Record = nil
		p.req.Cable.Serial, p.req.Cable.ID = 0, ""
		p.done <- c.records.Release(ctx, []*cable.ReleaseRequest{p.req})
	}
}

func (c *Centre) failPending(err error) {
	for {
		select {
		case p := <-c.releases:
			p.done <- err
		default:
			return
		}
	}
}
