package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cable-archive/cable/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Our figures: cables per second through the records store.

func BenchmarkRelease(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(batchName(batch), func(b *testing.B) {
			db := open(b, freshDSN(b))
			defer db.Close()
			storetest.BenchRelease(b, db, batch)
		})
	}
}

func BenchmarkReceive(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(batchName(batch), func(b *testing.B) {
			db := open(b, freshDSN(b))
			defer db.Close()
			storetest.BenchReceive(b, db, batch)
		})
	}
}

func BenchmarkCableRead(b *testing.B) {
	db := open(b, freshDSN(b))
	defer db.Close()
	storetest.BenchCableRead(b, db)
}

func batchName(n int) string {
	if n == 1 {
		return "single"
	}
	return fmt.Sprintf("batch%d", n)
}

// The baselines: the same bytes through the bare engine, a one-table
// schema in a fresh schema of the same database, through a pgx pool.

func rawPool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	pool, err := pgxpool.New(ctx, freshDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE blobs (id text PRIMARY KEY, body bytea NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return pool
}

func BenchmarkBaselineInsert(b *testing.B) {
	texts := storetest.BenchTexts(256)
	for _, batch := range []int{1, 64} {
		b.Run(batchName(batch), func(b *testing.B) {
			pool := rawPool(b)
			n := 0
			b.ResetTimer()
			for b.Loop() {
				tx, err := pool.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				var bt pgx.Batch
				for range batch {
					bt.Queue(`INSERT INTO blobs (id, body) VALUES ($1, $2)`, fmt.Sprint(n), texts[n%len(texts)])
					n++
				}
				if err := tx.SendBatch(ctx, &bt).Close(); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
			storetest.ReportCables(b, n)
		})
	}
}

func BenchmarkBaselineRead(b *testing.B) {
	texts := storetest.BenchTexts(1000)
	pool := rawPool(b)
	var bt pgx.Batch
	for i, t := range texts {
		bt.Queue(`INSERT INTO blobs (id, body) VALUES ($1, $2)`, fmt.Sprint(i), t)
	}
	if err := pool.SendBatch(ctx, &bt).Close(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	b.ResetTimer()
	for b.Loop() {
		var body []byte
		if err := pool.QueryRow(ctx, `SELECT body FROM blobs WHERE id = $1`, fmt.Sprint(rng.IntN(len(texts)))).Scan(&body); err != nil {
			b.Fatal(err)
		}
		n++
	}
	storetest.ReportCables(b, n)
}

func BenchmarkOutbox(b *testing.B) {
	db := open(b, freshDSN(b))
	defer db.Close()
	storetest.BenchOutbox(b, db)
}

// BenchmarkBaselineOutbox reads the first storetest.OutboxPage texts, in
// the order of an index, from a bare table of storetest.OutboxQueued.
func BenchmarkBaselineOutbox(b *testing.B) {
	pool := rawPool(b)
	if _, err := pool.Exec(ctx, `CREATE TABLE outbox (id text PRIMARY KEY, queued_at bigint NOT NULL, body bytea NOT NULL);
		CREATE INDEX outbox_queued ON outbox (queued_at)`); err != nil {
		b.Fatal(err)
	}
	var bt pgx.Batch
	for i, text := range storetest.BenchTexts(storetest.OutboxQueued) {
		bt.Queue(`INSERT INTO outbox (id, queued_at, body) VALUES ($1, $2, $3)`, fmt.Sprint(i), i, text)
	}
	if err := pool.SendBatch(ctx, &bt).Close(); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE outbox`); err != nil {
		b.Fatal(err)
	}
	var id string
	var body []byte
	n := 0
	b.ResetTimer()
	for b.Loop() {
		rows, err := pool.Query(ctx, `SELECT id, body FROM outbox ORDER BY queued_at LIMIT $1`, storetest.OutboxPage)
		n += storetest.ReadRows(b, rows, err, &id, &body)
	}
	storetest.ReportCables(b, n)
}

func BenchmarkOverdue(b *testing.B) {
	db := open(b, freshDSN(b))
	defer db.Close()
	storetest.BenchOverdue(b, db)
}

// BenchmarkBaselineOverdue reads the same pages from a bare table of
// storetest.OverdueHeld rows with a partial index on those not received.
func BenchmarkBaselineOverdue(b *testing.B) {
	pool := rawPool(b)
	if _, err := pool.Exec(ctx, `CREATE TABLE sends (id text PRIMARY KEY, queued_at bigint NOT NULL, received boolean NOT NULL);
		CREATE INDEX sends_open ON sends (queued_at, id) WHERE NOT received`); err != nil {
		b.Fatal(err)
	}
	var bt pgx.Batch
	for i := range storetest.OverdueHeld {
		bt.Queue(`INSERT INTO sends (id, queued_at, received) VALUES ($1, $2, $3)`, fmt.Sprint(i), i, i%20 != 0)
	}
	if err := pool.SendBatch(ctx, &bt).Close(); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE sends`); err != nil {
		b.Fatal(err)
	}
	var id string
	var q int64
	n := 0
	b.ResetTimer()
	for b.Loop() {
		rows, err := pool.Query(ctx, `SELECT id, queued_at FROM sends WHERE NOT received AND queued_at < $1 ORDER BY queued_at, id LIMIT 50`, storetest.OverdueHeld)
		n += storetest.ReadRows(b, rows, err, &id, &q)
	}
	storetest.ReportCables(b, n)
}
