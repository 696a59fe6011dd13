package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// benchPool is how many distinct benchmark cables are made before timing.
const benchPool = 256

// ReportCables reports n cables handled in the benchmark's elapsed time
// as the metric cables/s.
func ReportCables(b *testing.B, n int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n)/s, "cables/s")
	}
}

// Rows is what both database/sql's and pgx's query results offer; either
// closes itself when Next returns false.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ReadRows scans every row of a baseline's query (rows and err as the
// query returned them) into dest, failing the benchmark on any error, and
// returns how many it read.
func ReadRows(b *testing.B, rows Rows, err error, dest ...any) int {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchTexts returns n rendered benchmark cables (about 4 KB each), the
// bytes a baseline stores.
func BenchTexts(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		c := BenchCable(i)
		c.Serial, c.ID = i+1, cable.Identifier(2026, c.Station, i+1)
		out[i], _ = Render(c)
	}
	return out
}

// BenchRelease measures Release of batches of batch cables of about 4 KB
// each, one transaction per batch.
func BenchRelease(b *testing.B, r cable.Records, batch int) {
	ctx := context.Background()
	pool := make([]*cable.Cable, benchPool)
	for i := range pool {
		pool[i] = BenchCable(i)
	}
	reqs := make([]*cable.ReleaseRequest, batch)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		for j := range reqs {
			c := pool[n%benchPool].Clone()
			// Serials run out at 999999 a year: move on a year before.
			c.DTG = c.DTG.AddDate(n/900000, 0, 0)
			reqs[j] = &cable.ReleaseRequest{Cable: c, Render: Render, Actor: "bench"}
			n++
		}
		if err := r.Release(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
	ReportCables(b, n)
}

// BenchReceive measures Receive of arriving cables of about 4 KB, batch
// to a call, each distributed to six offices as a hub receives them.
func BenchReceive(b *testing.B, r cable.Records, batch int) {
	ctx := context.Background()
	tmpl := BenchCable(0)
	tmpl.Station = "LONDON"
	text, _ := Render(tmpl)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	dist := cable.Distribution{Action: "EUR", Info: []string{"S", "S/P", "INR", "PM", "DCR"}}
	n := 0
	b.ResetTimer()
	for b.Loop() {
		arrivals := make([]*cable.Arrival, batch)
		for i := range arrivals {
			n++
			c := tmpl.Clone()
			c.DTG = c.DTG.AddDate(n/900000, 0, 0)
			c.Serial = n%900000 + 1
			c.ID = cable.Identifier(c.DTG.Year(), c.Station, c.Serial)
			t := append(append([]byte(nil), text...), c.ID...)
			arrivals[i] = &cable.Arrival{Station: "STATE", Cable: c, Text: t, SHA256: cable.SHA256Hex(t), At: at.Add(time.Duration(n) * time.Second),
				Distribution: dist, Origin: cable.OriginReceived}
		}
		if err := r.Receive(ctx, arrivals); err != nil {
			b.Fatal(err)
		}
	}
	ReportCables(b, n)
}

// releaseBenchCables releases BenchCable(0) to BenchCable(n-1), a hundred
// to a transaction: MOSCOW's serials 1 to n in 2026.
func releaseBenchCables(b *testing.B, r cable.Records, n int) {
	var cs []*cable.Cable
	for i := range n {
		cs = append(cs, BenchCable(i))
		if len(cs) == 100 {
			Release(b, r, cs...)
			cs = nil
		}
	}
	if len(cs) > 0 {
		Release(b, r, cs...)
	}
}

// BenchCableRead measures Cable, reading records of about 4 KB at random
// from 1000 held.
func BenchCableRead(b *testing.B, r cable.Records) {
	ctx := context.Background()
	const held = 1000
	releaseBenchCables(b, r, held)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	b.ResetTimer()
	for b.Loop() {
		id := cable.Identifier(2026, "MOSCOW", 1+rng.IntN(held))
		rec, err := r.Cable(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if len(rec.Text) < 4000 {
			b.Fatalf("%s: %d bytes", id, len(rec.Text))
		}
		n++
	}
	ReportCables(b, n)
}

// OverdueHeld and OverdueOpen are the shape of BenchOverdue: transmissions
// held, and of them not received (every twentieth).
const (
	OverdueHeld = 2000
	OverdueOpen = OverdueHeld / 20
)

// BenchOverdue measures OverdueTransmissions reading pages of 50 among
// OverdueHeld transmissions of which OverdueOpen are not received, all
// past their objective. The metric cables/s counts transmissions read.
func BenchOverdue(b *testing.B, r cable.Records) {
	ctx := context.Background()
	releaseBenchCables(b, r, OverdueHeld)
	var rs []*cable.DeliveryReceipt
	for i := range OverdueHeld {
		if i%20 == 0 {
			continue
		}
		rs = append(rs, &cable.DeliveryReceipt{CableID: cable.Identifier(2026, "MOSCOW", i+1), Origin: "MOSCOW", Station: "STATE",
			ReceivedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ControlNumber: fmt.Sprint(i + 1)})
	}
	if err := r.MarkDelivered(ctx, rs, nil); err != nil {
		b.Fatal(err)
	}
	now := time.Now().Add(7 * time.Hour)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		ts, err := r.OverdueTransmissions(ctx, now, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(ts) != 50 {
			b.Fatalf("%d overdue, want 50", len(ts))
		}
		n += len(ts)
	}
	ReportCables(b, n)
}

// OutboxQueued is how many transmissions wait in the outbox in
// BenchOutbox, and OutboxPage how many a transmitter's pass reads.
const (
	OutboxQueued = 2000
	OutboxPage   = 512
)

// BenchOutbox measures PendingTransmissions reading the first OutboxPage
// of OutboxQueued queued transmissions of about 4 KB, as the transmitter
// does at each pass while a backlog waits. The metric cables/s counts
// transmissions read.
func BenchOutbox(b *testing.B, r cable.Records) {
	ctx := context.Background()
	releaseBenchCables(b, r, OutboxQueued)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		ts, err := r.PendingTransmissions(ctx, OutboxPage)
		if err != nil {
			b.Fatal(err)
		}
		if len(ts) != OutboxPage {
			b.Fatalf("%d pending, want %d", len(ts), OutboxPage)
		}
		n += len(ts)
	}
	ReportCables(b, n)
}
