// Package sqlite implements the records store (cable.Records) on a SQLite
// file through modernc.org/sqlite, a pure-Go build of SQLite.
//
// The file is in WAL mode, so readers never wait for the writer. Every
// write is one transaction begun with BEGIN IMMEDIATE on the single write
// connection of a DB: writers in one process queue for that connection,
// writers in other processes (the CLI working on the data directory while
// the server runs) wait on SQLite's lock for up to BusyTimeout.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyTimeout is how long a writer waits for another process's write
// transaction to end before giving up.
const BusyTimeout = 10 * time.Second

// Snippet markers: FindCables wraps each matching word of a search hit's
// Snippet in SnippetStart and SnippetEnd, and marks cut text with
// SnippetEllipsis. They are plain text, safe to escape as any other text.
const (
	SnippetStart    = "«"
	SnippetEnd      = "»"
	SnippetEllipsis = "…"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the records store on one SQLite file. It implements cable.Records.
type DB struct {
	path string
	w    *sql.DB // one connection: every write transaction goes through it
	r    *sql.DB // a pool of read-only connections

	wstmts, rstmts *stmtCache

	// schema is the version of the file's schema: the last migration
	// applied. Only a test opens a file at an older one.
	schema int

	// Now returns the current time. It is time.Now unless a test replaces
	// it before the DB is used.
	Now func() time.Time
}

var _ cable.Records = (*DB)(nil)

// Open opens (creating if need be) the records file at path and brings
// its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) { return open(ctx, path, 0) }

// open opens the file and migrates it up to version upTo (0: every one).
func open(ctx context.Context, path string, upTo int) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, cable.Errorf(cable.EINVALID, "records file path %q must be a plain file name", path)
	}
	// busy_timeout comes first: setting WAL mode may have to wait for
	// another process's lock.
	pragmas := func(extra ...string) url.Values {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Add("_pragma", "synchronous(FULL)")
		for _, p := range extra {
			q.Add("_pragma", p)
		}
		return q
	}
	wq := pragmas()
	wq.Set("_txlock", "immediate")
	rq := pragmas("query_only(true)")

	db := &DB{path: path, Now: time.Now}
	var err error
	if db.w, err = sql.Open("sqlite", path+"?"+wq.Encode()); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if db.r, err = sql.Open("sqlite", path+"?"+rq.Encode()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	db.r.SetMaxOpenConns(n)
	db.r.SetMaxIdleConns(n)
	db.wstmts, db.rstmts = newStmtCache(db.w), newStmtCache(db.r)
	if err := db.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.r.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Close closes the file.
func (db *DB) Close() error {
	if db.wstmts != nil {
		db.wstmts.close()
		db.rstmts.close()
	}
	return errors.Join(db.r.Close(), db.w.Close())
}

// Path returns the file name the DB was opened with.
func (db *DB) Path() string { return db.path }

// migrate applies, in one write transaction, every embedded migration the
// file has not had yet, up to version upTo (every one when upTo is 0:
// tests of an upgrade in place open a file at an older version).
func (db *DB) migrate(ctx context.Context, upTo int) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	return db.write(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		latest := 0
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("migrate: %w", err)
			}
			applied[v] = true
			latest = max(latest, v)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		known := 0
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			digits, _, _ := strings.Cut(base, "_")
			v, err := strconv.Atoi(digits)
			if err != nil {
				return fmt.Errorf("migrate: migration %s has no version number", base)
			}
			known = max(known, v)
			if applied[v] || (upTo > 0 && v > upTo) {
				continue
			}
			src, err := migrations.ReadFile(name)
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if _, err := tx.Tx.ExecContext(ctx, string(src)); err != nil { // many statements: not cached
				return fmt.Errorf("migrate %s: %w", base, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				v, base, micros(time.Now())); err != nil {
				return fmt.Errorf("migrate %s: %w", base, err)
			}
			latest = max(latest, v)
		}
		db.schema = latest
		if latest > known {
			return cable.Errorf(cable.EINTERNAL, "records schema version %d is newer than this program knows (%d)", latest, known)
		}
		return nil
	})
}

// write runs fn in one write transaction (BEGIN IMMEDIATE), committing if
// fn returns nil and rolling back otherwise.
func (db *DB) write(ctx context.Context, fn func(*txn) error) error {
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &txn{sqlTx, db.wstmts}
	err = fn(tx)
	if err != nil {
		tx.Rollback()
	} else if err = tx.Commit(); err != nil {
		err = fmt.Errorf("commit: %w", err)
	}
	db.wstmts.fill(context.WithoutCancel(ctx))
	return err
}

// read runs fn in one read transaction, so that it sees one snapshot.
func (db *DB) read(ctx context.Context, fn func(*txn) error) error {
	sqlTx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	err = fn(&txn{sqlTx, db.rstmts})
	sqlTx.Rollback()
	db.rstmts.fill(context.WithoutCancel(ctx))
	return err
}

// now returns the current time as the store keeps it: UTC, to the microsecond.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// micros is the stored form of a time: Unix microseconds.
func micros(t time.Time) int64 { return t.UTC().Truncate(time.Microsecond).UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// isConstraint reports whether err is a violated constraint (unique key,
// foreign key, check).
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// dbErr maps a constraint violation to ECONFLICT and wraps other errors
// with what was being done; *cable.Error passes through.
func dbErr(what string, err error) error {
	var ce *cable.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case isConstraint(err):
		return &cable.Error{Code: cable.ECONFLICT, Message: what + ": " + err.Error()}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// TamperText overwrites the stored text of a cable, bypassing every rule
// of the store. It exists for tests of Verify only.
func (db *DB) TamperText(id string, text []byte) error {
	res, err := db.w.Exec(`UPDATE cables SET body = ? WHERE id = ?`, text, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return cable.Errorf(cable.ENOTFOUND, "no cable %s", id)
	}
	return nil
}

// TamperEvent overwrites the kind of a logged event, bypassing every rule
// of the store. It exists for tests of Verify only.
func (db *DB) TamperEvent(seq int64, kind string) error { return db.tamperEvent(seq, "kind", kind) }

// TamperEventDetail overwrites the stored detail of a logged event,
// bypassing every rule of the store. It exists for tests of Verify only.
func (db *DB) TamperEventDetail(seq int64, detail string) error {
	return db.tamperEvent(seq, "detail", detail)
}

// tamperEvent overwrites one column of a logged event.
func (db *DB) tamperEvent(seq int64, column, value string) error {
	res, err := db.w.Exec(`UPDATE events SET `+column+` = ? WHERE seq = ?`, value, seq)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return cable.Errorf(cable.ENOTFOUND, "no event %d", seq)
	}
	return nil
}
