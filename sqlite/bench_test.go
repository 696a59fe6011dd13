package sqlite_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/storetest"
)

// Our figures: cables per second through the records store.

func BenchmarkRelease(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(batchName(batch), func(b *testing.B) {
			db := open(b, filepath.Join(b.TempDir(), "records.db"))
			defer db.Close()
			storetest.BenchRelease(b, db, batch)
		})
	}
}

func BenchmarkReceive(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(batchName(batch), func(b *testing.B) {
			db := open(b, filepath.Join(b.TempDir(), "records.db"))
			defer db.Close()
			storetest.BenchReceive(b, db, batch)
		})
	}
}

func BenchmarkCableRead(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "records.db"))
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
// schema on a file with the same pragmas and one write connection.

func rawDB(b *testing.B) (w, r *sql.DB) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "raw.db")
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqlite.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(FULL)")
	dsn := path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE blobs (id TEXT PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	r, err = sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close(); w.Close() })
	return w, r
}

func BenchmarkBaselineInsert(b *testing.B) {
	texts := storetest.BenchTexts(256)
	for _, batch := range []int{1, 64} {
		b.Run(batchName(batch), func(b *testing.B) {
			w, _ := rawDB(b)
			n := 0
			b.ResetTimer()
			for b.Loop() {
				tx, err := w.Begin()
				if err != nil {
					b.Fatal(err)
				}
				for range batch {
					if _, err := tx.Exec(`INSERT INTO blobs (id, body) VALUES (?, ?)`, fmt.Sprint(n), texts[n%len(texts)]); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			storetest.ReportCables(b, n)
		})
	}
}

func BenchmarkBaselineRead(b *testing.B) {
	texts := storetest.BenchTexts(1000)
	w, r := rawDB(b)
	tx, err := w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i, t := range texts {
		if _, err := tx.Exec(`INSERT INTO blobs (id, body) VALUES (?, ?)`, fmt.Sprint(i), t); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	b.ResetTimer()
	for b.Loop() {
		var body []byte
		if err := r.QueryRow(`SELECT body FROM blobs WHERE id = ?`, fmt.Sprint(rng.IntN(len(texts)))).Scan(&body); err != nil {
			b.Fatal(err)
		}
		n++
	}
	storetest.ReportCables(b, n)
}

func BenchmarkOutbox(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "records.db"))
	defer db.Close()
	storetest.BenchOutbox(b, db)
}

// BenchmarkBaselineOutbox reads the first storetest.OutboxPage texts, in
// the order of an index, from a bare table of storetest.OutboxQueued.
func BenchmarkBaselineOutbox(b *testing.B) {
	w, r := rawDB(b)
	if _, err := w.Exec(`CREATE TABLE outbox (id TEXT PRIMARY KEY, queued_at INTEGER NOT NULL, body BLOB NOT NULL);
		CREATE INDEX outbox_queued ON outbox (queued_at)`); err != nil {
		b.Fatal(err)
	}
	texts := storetest.BenchTexts(storetest.OutboxQueued)
	tx, err := w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i, text := range texts {
		if _, err := tx.Exec(`INSERT INTO outbox (id, queued_at, body) VALUES (?, ?, ?)`, fmt.Sprint(i), i, text); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	var id string
	var body []byte
	n := 0
	b.ResetTimer()
	for b.Loop() {
		rows, err := r.Query(`SELECT id, body FROM outbox ORDER BY queued_at LIMIT ?`, storetest.OutboxPage)
		n += storetest.ReadRows(b, rows, err, &id, &body)
	}
	storetest.ReportCables(b, n)
}

func BenchmarkOverdue(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "records.db"))
	defer db.Close()
	storetest.BenchOverdue(b, db)
}

// BenchmarkBaselineOverdue reads the same pages from a bare table of
// storetest.OverdueHeld rows with a partial index on those not received.
func BenchmarkBaselineOverdue(b *testing.B) {
	w, r := rawDB(b)
	if _, err := w.Exec(`CREATE TABLE sends (id TEXT PRIMARY KEY, queued_at INTEGER NOT NULL, received INTEGER NOT NULL);
		CREATE INDEX sends_open ON sends (queued_at, id) WHERE received = 0`); err != nil {
		b.Fatal(err)
	}
	tx, err := w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range storetest.OverdueHeld {
		if _, err := tx.Exec(`INSERT INTO sends (id, queued_at, received) VALUES (?, ?, ?)`, fmt.Sprint(i), i, i%20 != 0); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	var id string
	var q int64
	n := 0
	b.ResetTimer()
	for b.Loop() {
		rows, err := r.Query(`SELECT id, queued_at FROM sends WHERE received = 0 AND queued_at < ? ORDER BY queued_at, id LIMIT 50`, storetest.OverdueHeld)
		n += storetest.ReadRows(b, rows, err, &id, &q)
	}
	storetest.ReportCables(b, n)
}

// BenchmarkUserByToken is the lookup behind every API request and page:
// a bearer token's or session's user.
func BenchmarkUserByToken(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "records.db"))
	defer db.Close()
	u := &cable.User{Name: "drafter", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Secret, Roles: []cable.UserRole{cable.RoleDrafter}}
	if err := db.CreateUser(ctx, u, "hash"); err != nil {
		b.Fatal(err)
	}
	const tokens = 1000
	for i := range tokens {
		if err := db.CreateToken(ctx, &cable.Token{Hash: fmt.Sprint("token", i), UserID: u.ID, Kind: cable.TokenAPI, CSRF: "c"}); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	n := 0
	for b.Loop() {
		if _, _, err := db.UserByToken(ctx, fmt.Sprint("token", rng.IntN(tokens)), now); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkBaselineTokenLookup is the same join on bare tables, the
// query prepared once.
func BenchmarkBaselineTokenLookup(b *testing.B) {
	w, r := rawDB(b)
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, station TEXT NOT NULL, offices TEXT NOT NULL, clearance INTEGER NOT NULL, captions TEXT NOT NULL, roles TEXT NOT NULL, created_at INTEGER NOT NULL)`,
		`CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, kind TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, csrf TEXT NOT NULL) WITHOUT ROWID`,
		`INSERT INTO users VALUES (1, 'drafter', 'MOSCOW', '["POL"]', 2, '[]', '["drafter"]', 0)`,
	} {
		if _, err := w.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	const tokens = 1000
	for i := range tokens {
		if _, err := w.Exec(`INSERT INTO tokens VALUES (?, 1, 'api', 0, NULL, 'c')`, fmt.Sprint("token", i)); err != nil {
			b.Fatal(err)
		}
	}
	stmt, err := r.Prepare(`SELECT u.id, u.name, u.station, u.offices, u.clearance, u.captions, u.roles, u.created_at, t.hash, t.user_id, t.kind, t.created_at, t.expires_at, t.csrf
		FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UnixMicro()
	n := 0
	for b.Loop() {
		var id, clearance, created, userID, tcreated int64
		var name, station, offices, captions, roles, hash, kind, csrf string
		var expires sql.NullInt64
		if err := stmt.QueryRow(fmt.Sprint("token", rng.IntN(tokens)), now).Scan(&id, &name, &station, &offices, &clearance, &captions, &roles, &created, &hash, &userID, &kind, &tcreated, &expires, &csrf); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
}
