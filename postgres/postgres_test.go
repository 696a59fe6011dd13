package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/postgres"
	"github.com/cable-archive/cable/storetest"
	"github.com/jackc/pgx/v5"
)

var ctx = context.Background()

// testDSN is the DSN of the database this test run created, or "" when
// CABLE_TEST_POSTGRES is not set.
var testDSN string

// TestMain creates a fresh database for the run (so that runs never
// collide) and drops it afterwards.
func TestMain(m *testing.M) {
	admin := os.Getenv("CABLE_TEST_POSTGRES")
	if admin == "" {
		os.Exit(m.Run())
	}
	name := fmt.Sprintf("cable_test_%016x", rand.Uint64())
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "CABLE_TEST_POSTGRES:", err)
		os.Exit(1)
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		fmt.Fprintln(os.Stderr, "create test database:", err)
		os.Exit(1)
	}
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), Path: "/" + name}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	}
	q := url.Values{}
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	testDSN = u.String()
	code := m.Run()
	if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
		fmt.Fprintln(os.Stderr, "drop test database:", err)
		code = 1
	}
	conn.Close(ctx)
	os.Exit(code)
}

var schemas atomic.Int64

// freshDSN returns the DSN of a new, empty schema of the test database.
func freshDSN(t testing.TB) string {
	t.Helper()
	if testDSN == "" {
		t.Skip("CABLE_TEST_POSTGRES is not set")
	}
	schema := fmt.Sprintf("s%d", schemas.Add(1))
	conn, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	return testDSN + "&search_path=" + schema
}

func open(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestRecords(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cable.Records {
		return open(t, freshDSN(t))
	})
}

func TestOpenMigratesOnce(t *testing.T) {
	dsn := freshDSN(t)
	db := open(t, dsn)
	storetest.Release(t, db, storetest.Cable("MOSCOW", feb, "kept", "text"))
	db.Close()
	db = open(t, dsn)
	defer db.Close()
	if _, err := db.Cable(ctx, "2026MOSCOW00001"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, version int
	if err := conn.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &version); err != nil || n != version || n < 1 {
		t.Errorf("schema_migrations: %d rows up to version %d, %v", n, version, err)
	}
	// A cable released after opening a database migrated before is kept
	// in the latest form: once.
	storetest.Release(t, db, storetest.Cable("MOSCOW", feb, "after the reopen", "Wheat is short."))
	var once bool
	if err := conn.QueryRow(ctx, `SELECT raw_text IS NULL AND text_spans <> '' FROM cables WHERE id = '2026MOSCOW00002'`).Scan(&once); err != nil || !once {
		t.Errorf("a cable released after the reopen is not kept once: %v, %v", once, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', now())`); err != nil {
		t.Fatal(err)
	}
	if db2, err := postgres.Open(ctx, dsn); err == nil {
		db2.Close()
		t.Error("Open accepted a schema newer than it knows")
	}
}

// Two databases opening the same empty schema at once migrate it once.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshDSN(t)
	errs := make(chan error, 2)
	dbs := make(chan *postgres.DB, 2)
	for range 2 {
		go func() {
			db, err := postgres.Open(ctx, dsn)
			errs <- err
			dbs <- db
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if db := <-dbs; db != nil {
			db.Close()
		}
	}
}

func TestOpenRejectsMalformedDSN(t *testing.T) {
	_, err := postgres.Open(ctx, "postgres://%zz")
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Open of a malformed DSN: %v, want EINVALID", err)
	}
}

// Two pools on one database, as two processes would hold, release
// concurrently without a gap or a duplicate serial.
func TestTwoPoolsReleaseConcurrently(t *testing.T) {
	dsn := freshDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	storetest.ReleaseConcurrently(t, []cable.Records{a, b}, 8, 40)
}

// Text that PostgreSQL text cannot hold (a NUL, invalid UTF-8) is stored
// and read back byte for byte, and the rest of it is still searchable.
func TestBinaryText(t *testing.T) {
	db := open(t, freshDSN(t))
	defer db.Close()
	c := storetest.Cable("MOSCOW", feb, "binary", "text")
	text := []byte("kremlin \x00 \xff\xfe neurotic")
	reqs := []*cable.ReleaseRequest{{Cable: c, Render: func(*cable.Cable) ([]byte, error) { return text, nil }}}
	if err := db.Release(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	rec, err := db.Cable(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Text) != string(text) || rec.SHA256 != cable.SHA256Hex(text) {
		t.Errorf("text read back as %q", rec.Text)
	}
	ss, n, err := db.FindCables(ctx, cable.CableFilter{MaxClassification: cable.TopSecret, Query: "neurotic"})
	if err != nil || n != 1 || len(ss) != 1 {
		t.Fatalf("search: %v, %d, %v", ss, n, err)
	}
}

// A database or a connection whose text is not UTF-8 is refused at open,
// with every problem named, before anything is written.
func TestOpenRefusesTextNotUTF8(t *testing.T) {
	if testDSN == "" {
		t.Skip("CABLE_TEST_POSTGRES is not set")
	}
	conn, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("cable_latin1_%016x", rand.Uint64())
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`)
	u, err := url.Parse(testDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("client_encoding", "LATIN1")
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err == nil {
		db.Close()
		t.Fatal("a LATIN1 database opened")
	}
	if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "encoding is LATIN1") || !strings.Contains(err.Error(), "client_encoding is LATIN1") {
		t.Errorf("error %v, want EINVALID naming both encodings", err)
	}
	other, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var tables int
	if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("%d tables written before the refusal, %v", tables, err)
	}
}
