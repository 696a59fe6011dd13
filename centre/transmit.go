package centre

import (
	"context"
	"time"

	cable "github.com/cable-archive/cable"
)

const transmitBatch = 512

// transmitLoop hands queued transmissions to the transport and marks them
// sent once the transport has custody. It runs at start (for what a crash
// left queued), whenever a release commits, and every few seconds.
func (c *Centre) transmitLoop(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		for {
			n, err := c.transmitOnce(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				c.log.Error("transmit", "err", err)
				break
			}
			if n < transmitBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		case <-tick.C:
		}
	}
}

func (c *Centre) transmitOnce(ctx context.Context) (int, error) {
	ts, err := c.records.PendingTransmissions(ctx, transmitBatch)
	if err != nil || len(ts) == 0 {
		return 0, err
	}
	start := time.Now()
	if err := c.transport.Send(ctx, ts); err != nil {
		return 0, err
	}
	c.metrics.sendSeconds.Observe(time.Since(start).Seconds())
	at := c.now().UTC()
	if err := c.records.MarkTransmitted(ctx, ts, at); err != nil {
		return 0, err
	}
	events := make([]*cable.Event, len(ts))
	for i, t := range ts {
		events[i] = &cable.Event{At: at, Kind: cable.EventTransmitted, CableID: t.CableID, Station: t.Origin, Actor: "message-centre",
			Detail: map[string]any{"destination": t.Destination, "precedence": t.Precedence.String()}}
	}
	if err := c.records.AppendEvents(ctx, events); err != nil {
		return 0, err
	}
	c.metrics.transmitted.Add(float64(len(ts)))
	return len(ts), nil
}
