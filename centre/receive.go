package centre

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

// receiveLoop takes delivery of the cables addressed to station.
func (c *Centre) receiveLoop(ctx context.Context, station string) error {
	return c.transport.Receive(ctx, station, func(ctx context.Context, ts []*cable.Transmission) error {
		return c.receive(ctx, station, ts)
	})
}

// receive checks each transmission, stamps receipt and distributes it. A
// transmission that fails its checks is refused: recorded as a security
// event and acknowledged, so it is never shown as a cable nor redelivered.
// An error of the records store returns the batch to the transport.
func (c *Centre) receive(ctx context.Context, station string, ts []*cable.Transmission) error {
	at := c.now().UTC()
	var arrivals []*cable.Arrival
	var refused []*cable.Event
	for _, t := range ts {
		a, problem := c.check(station, t, at)
		if problem != "" {
			refused = append(refused, c.securityEvent(station, t, problem))
			continue
		}
		arrivals = append(arrivals, a)
	}
	if len(arrivals) > 0 {
		if err := c.records.Receive(ctx, arrivals); err != nil {
			if cable.ErrorCode(err) != cable.ECONFLICT || len(arrivals) == 1 {
				if cable.ErrorCode(err) == cable.ECONFLICT {
					refused = append(refused, c.securityEvent(station, transmissionOf(arrivals[0]), cable.ErrorMessage(err)))
					arrivals = nil
				} else {
					return fmt.Errorf("receive at %s: %w", station, err)
				}
			} else {
				// Find the conflicting arrival by storing them one by one.
				var stored []*cable.Arrival
				for _, a := range arrivals {
					if err := c.records.Receive(ctx, []*cable.Arrival{a}); err != nil {
						if cable.ErrorCode(err) != cable.ECONFLICT {
							return fmt.Errorf("receive at %s: %w", station, err)
						}
						refused = append(refused, c.securityEvent(station, transmissionOf(a), cable.ErrorMessage(err)))
						continue
					}
					stored = append(stored, a)
				}
				arrivals = stored
			}
		}
	}
	if len(refused) > 0 {
		if err := c.records.AppendEvents(ctx, refused); err != nil {
			return fmt.Errorf("record refused cables at %s: %w", station, err)
		}
		c.metrics.security.Add(float64(len(refused)))
		for _, e := range refused {
			c.log.Warn("cable refused", "station", station, "cable", e.CableID, "reason", e.Detail["reason"])
		}
	}
	for _, a := range arrivals {
		if a.Duplicate {
			c.metrics.duplicates.WithLabelValues(station).Inc()
			continue
		}
		c.metrics.received.WithLabelValues(station).Inc()
		c.metrics.latency.WithLabelValues(a.Cable.Precedence.String()).Observe(at.Sub(a.Cable.DTG).Seconds())
	}
	return nil
}

// check verifies a transmission and builds its arrival, or says why it is refused.
func (c *Centre) check(station string, t *cable.Transmission, at time.Time) (*cable.Arrival, string) {
	if t.Refused != "" {
		return nil, t.Refused
	}
	if t.Destination != station {
		return nil, fmt.Sprintf("addressed to %s, delivered to %s", t.Destination, station)
	}
	sum := cable.SHA256Hex(t.Text)
	if t.SHA256 != sum {
		return nil, "text does not match its SHA-256: altered in transit"
	}
	cb, err := c.form.Parse(t.Text, false)
	if err != nil {
		return nil, "unreadable cable: " + err.Error()
	}
	if err := cable.Validate(cb, cable.ValidateOptions{Directory: c.dir}); err != nil {
		return nil, "invalid cable: " + err.Error()
	}
	if cb.ID != t.CableID {
		cb.ID = cable.Identifier(cb.DTG.Year(), cb.Station, cb.Serial)
		if cb.ID != t.CableID {
			return nil, fmt.Sprintf("envelope names %s, text is %s", t.CableID, cb.ID)
		}
	}
	if cb.Station != t.Origin {
		return nil, fmt.Sprintf("envelope says from %s, text is from %s", t.Origin, cb.Station)
	}
	addressed := false
	for _, s := range cb.Destinations() {
		addressed = addressed || s == station
	}
	if !addressed {
		return nil, fmt.Sprintf("%s is not an addressee of %s", station, cb.ID)
	}
	dist, ok := c.rules.Load().Distribute(cb, station)
	if !ok {
		return nil, fmt.Sprintf("no routing rules for %s", station)
	}
	return &cable.Arrival{
		Station: station, Cable: cb, Text: t.Text, SHA256: sum, At: at,
		Distribution: dist, Origin: cable.OriginReceived,
	}, ""
}

func (c *Centre) securityEvent(station string, t *cable.Transmission, reason string) *cable.Event {
	return &cable.Event{
		Kind: cable.EventSecurity, CableID: t.CableID, Station: station, Actor: "message-centre",
		Detail: map[string]any{
			"reason": reason, "origin": t.Origin, "destination": t.Destination,
			"sha256": cable.SHA256Hex(t.Text), "claimed_sha256": t.SHA256, "bytes": len(t.Text),
		},
	}
}

func transmissionOf(a *cable.Arrival) *cable.Transmission {
	return &cable.Transmission{CableID: a.Cable.ID, Origin: a.Cable.Station, Destination: a.Station, Text: a.Text, SHA256: a.SHA256}
}
