package main

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkReleaseToStored measures the release path end to end (validate,
// serial, SQLite, outbox, embedded JetStream, receipt, distribution at
// STATE) in cables per second, beside BenchmarkRawJetStreamPublish of the
// same bytes on an identical embedded server.
func BenchmarkReleaseToStored(b *testing.B) {
	r, err := benchReleasePath(context.Background(), filepath.Join(b.TempDir(), "node"), b.N, 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.result.PerSecond, "cables/s")
	b.SetBytes(int64(len(r.sample)))
}

func BenchmarkRawJetStreamPublish(b *testing.B) {
	text := sampleText(b)
	for _, async := range []bool{true, false} {
		name := "sync"
		if async {
			name = "async"
		}
		b.Run(name, func(b *testing.B) {
			r, err := benchRawJetStream(context.Background(), filepath.Join(b.TempDir(), "raw"), text, b.N, async)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.PerSecond, "cables/s")
			b.SetBytes(int64(len(text)))
		})
	}
}

// sampleText is the canonical text of the benchmark cable.
func sampleText(b *testing.B) []byte {
	d := dataDir{}
	dir, err := d.directory()
	if err != nil {
		b.Fatal(err)
	}
	c := benchCable(1)
	c.Serial, c.DTG = 1, c.Authority.DeclassifyOn.Date.AddDate(-10, 0, 0)
	text, err := newForm(dir).Render(c)
	if err != nil {
		b.Fatal(err)
	}
	return text
}
