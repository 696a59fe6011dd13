package centre

import (
	"context"
	"time"
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
	if err := c.records.MarkTransmitted(ctx, ts, c.now().UTC()); err != nil {
		return 0, err
	}
	c.metrics.transmitted.Add(float64(len(ts)))
	return len(ts), nil
}
