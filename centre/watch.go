package centre

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

// watchLoop is the speed-of-service watch: every WatchInterval it looks
// for transmissions from the hosted stations not received within their
// precedence's objective (FLASH 10 minutes, IMMEDIATE 30, PRIORITY 3
// hours, ROUTINE 6) and raises an overdue alert for each, once.
func (c *Centre) watchLoop(ctx context.Context) error {
	tick := time.NewTicker(c.watchEvery)
	defer tick.Stop()
	for {
		if _, err := c.WatchOnce(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("speed-of-service watch", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// WatchOnce raises the overdue alerts due now and returns how many. Each
// alert's event and the mark on its transmission are written together.
func (c *Centre) WatchOnce(ctx context.Context) (int, error) {
	now := c.now().UTC()
	total := 0
	for {
		ts, err := c.records.OverdueTransmissions(ctx, now, cable.MaxListLimit)
		if err != nil || len(ts) == 0 {
			return total, err
		}
		events := make([]*cable.Event, len(ts))
		for i, t := range ts {
			where := "queued at " + t.Origin
			if t.Hop != "" {
				where = "in transit at " + t.Hop
			}
			events[i] = &cable.Event{At: now, Kind: cable.EventOverdue, CableID: t.CableID, Station: t.Origin, Actor: "message-centre",
				Detail: map[string]any{
					"destination": t.Destination, "precedence": t.Precedence.String(),
					"objective": t.Precedence.Objective().String(), "queued_at": t.QueuedAt.UTC().Format(time.RFC3339), "where": where,
				}}
			c.log.Warn("speed of service: overdue", "cable", t.CableID, "destination", t.Destination, "precedence", t.Precedence.String(), "where", where)
		}
		if err := c.records.MarkOverdue(ctx, ts, now, events); err != nil {
			return total, fmt.Errorf("mark overdue: %w", err)
		}
		for _, t := range ts {
			c.metrics.overdue.WithLabelValues(t.Precedence.String()).Inc()
		}
		total += len(ts)
		if len(ts) < cable.MaxListLimit {
			return total, nil
		}
	}
}

// Alert records an operator alert raised by the transport at station (a
// full relay refusing custody, a next hop unreachable): an event in the
// log and the cable_transport_alerts_total metric.
func (c *Centre) Alert(ctx context.Context, station, reason string) {
	c.log.Warn("transport alert", "station", station, "reason", reason)
	c.metrics.alerts.Inc()
	if err := c.records.AppendEvents(ctx, []*cable.Event{c.alertEvent(station, reason, nil)}); err != nil {
		c.log.Error("record transport alert", "station", station, "err", err)
	}
}

func (c *Centre) alertEvent(station, reason string, detail map[string]any) *cable.Event {
	d := map[string]any{"reason": reason}
	for k, v := range detail {
		d[k] = v
	}
	return &cable.Event{Kind: cable.EventAlert, Station: station, Actor: "message-centre", Detail: d}
}
