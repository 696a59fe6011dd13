package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/storetest"
)

var ctx = context.Background()

func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return db
}

func TestRecords(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cable.Records {
		return open(t, filepath.Join(t.TempDir(), "records.db"))
	})
}

func TestOpenSetsPragmasAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	db := open(t, path)
	storetest.Release(t, db, storetest.Cable("MOSCOW", feb, "kept", "text"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again applies nothing twice and keeps what was stored.
	db = open(t, path)
	defer db.Close()
	if _, err := db.Cable(ctx, "2026MOSCOW00001"); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
	var n, version int
	if err := raw.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &version); err != nil || n != version || n < 1 {
		t.Errorf("schema_migrations: %d rows up to version %d, %v", n, version, err)
	}
	// A file from a newer program is refused rather than misread.
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if db2, err := sqlite.Open(ctx, path); err == nil {
		db2.Close()
		t.Error("Open accepted a schema newer than it knows")
	}
}

func TestOpenRejectsURIs(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if db, err := sqlite.Open(ctx, p); err == nil {
			db.Close()
			t.Errorf("Open(%q) accepted", p)
		} else if cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("Open(%q): %v, want EINVALID", p, err)
		}
	}
}

func TestConnectionPragmas(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "records.db"))
	defer db.Close()
	for pragma, want := range map[string]int{"foreign_keys": 1, "synchronous": 2, "busy_timeout": int(sqlite.BusyTimeout.Milliseconds())} {
		got, err := db.Pragma(ctx, pragma)
		if err != nil || got != want {
			t.Errorf("PRAGMA %s = %d, %v; want %d", pragma, got, err, want)
		}
	}
}

// Two handles on one file, as two processes would hold, release
// concurrently without a gap or a duplicate serial.
func TestTwoHandlesReleaseConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	a, b := open(t, path), open(t, path)
	defer a.Close()
	defer b.Close()
	storetest.ReleaseConcurrently(t, []cable.Records{a, b}, 4, 25)
}
