package centre

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the message centre's Prometheus metrics.
type Metrics struct {
	released    *prometheus.CounterVec
	received    *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	transmitted prometheus.Counter
	security    prometheus.Counter
	reads       prometheus.Counter
	sendSeconds prometheus.Histogram
	latency     *prometheus.HistogramVec
	forwarded   *prometheus.CounterVec
	receipts    prometheus.Counter
	overdue     *prometheus.CounterVec
	alerts      prometheus.Counter
}

// NewMetrics makes the metrics; register them with Collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		released: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cable_released_total", Help: "Cables released, by originating station.",
		}, []string{"station"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cable_received_total", Help: "Cables received and distributed, by receiving station.",
		}, []string{"station"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cable_duplicates_total", Help: "Cables delivered again and stored once, by receiving station.",
		}, []string{"station"}),
		transmitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cable_transmitted_total", Help: "Transmissions handed to the transport with custody acknowledged.",
		}),
		security: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cable_security_events_total", Help: "Transmissions refused and recorded as security events.",
		}),
		reads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cable_reads_total", Help: "Cables read, each recorded in the log.",
		}),
		sendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cable_transport_send_seconds", Help: "Time for the transport to take custody of a batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cable_delivery_seconds", Help: "Date-time group to receipt, by precedence.",
			Buckets: []float64{1, 5, 30, 60, 300, 600, 1800, 3600, 10800, 21600},
		}, []string{"precedence"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cable_forwarded_total", Help: "Transmissions handed on to the next hop, by the station that held them.",
		}, []string{"station"}),
		receipts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cable_receipts_total", Help: "Signed receipts returned by destination stations and recorded.",
		}),
		overdue: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cable_overdue_total", Help: "Speed-of-service alerts: transmissions not received within their precedence's objective.",
		}, []string{"precedence"}),
		alerts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cable_transport_alerts_total", Help: "Operator alerts of the transport: custody refused for lack of space, next hop unreachable, cables that cannot be sealed.",
		}),
	}
}

// Collectors returns every metric for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.released, m.received, m.duplicates, m.transmitted, m.security, m.reads, m.sendSeconds, m.latency, m.forwarded, m.receipts, m.overdue, m.alerts}
}

// Received returns how many cables station has received and distributed
// since the metrics were made, duplicates not counted.
func (m *Metrics) Received(station string) int {
	var v dto.Metric
	if err := m.received.WithLabelValues(station).Write(&v); err != nil {
		return 0
	}
	return int(v.GetCounter().GetValue())
}
