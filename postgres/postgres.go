// Package postgres implements the records store (cable.Records) on
// PostgreSQL through pgx and its connection pool.
//
// Every method is one transaction. Writers that number cables or log
// events first lock the single row at the head of the event chain, so the
// chain never forks and concurrent writers (in this process or in others
// sharing the database) never deadlock; serials and control numbers come
// from counter rows locked by INSERT ... ON CONFLICT DO UPDATE ...
// RETURNING, so they are gapless and never reused.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Snippet markers: FindCables wraps each matching word of a search hit's
// Snippet in SnippetStart and SnippetEnd, and joins fragments with
// SnippetEllipsis. They are plain text, safe to escape as any other text.
const (
	SnippetStart    = "«"
	SnippetEnd      = "»"
	SnippetEllipsis = "…"
)

// migrationLock is the advisory lock key that serializes migrations of
// databases opened at the same time.
const migrationLock = 0x6361626c65 // "cable"

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the records store on a PostgreSQL database. It implements
// cable.Records.
type DB struct {
	pool *pgxpool.Pool

	// schema is the database's schema version: the highest recorded in
	// schema_migrations. Only tests open a database at an older version.
	schema int

	// Now returns the current time. It is time.Now unless a test replaces
	// it before the DB is used.
	Now func() time.Time
}

var _ cable.Records = (*DB)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string; search_path and other run-time parameters may be
// given in it) and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*DB, error) { return open(ctx, dsn, 0) }

// open connects and migrates the database up to version upTo (0: every one).
func open(ctx context.Context, dsn string, upTo int) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, cable.Errorf(cable.EINVALID, "malformed PostgreSQL connection string: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	db := &DB{pool: pool, Now: time.Now}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := db.checkEncoding(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.migrate(ctx, upTo); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// checkEncoding refuses a database, or a connection string, whose text is
// not UTF-8: cables are written in every script, and a text column in
// another encoding would refuse or alter what it cannot represent, the
// text the full-text index reads and, from schema version 3, the only
// copy of most cables' text.
func (db *DB) checkEncoding(ctx context.Context) error {
	var server, client string
	err := db.pool.QueryRow(ctx, `SELECT current_setting('server_encoding'), current_setting('client_encoding')`).Scan(&server, &client)
	if err != nil {
		return fmt.Errorf("connect: encoding: %w", err)
	}
	var problems []string
	if server != "UTF8" {
		problems = append(problems, fmt.Sprintf("the database's encoding is %s (create it with ENCODING 'UTF8')", server))
	}
	if client != "UTF8" {
		problems = append(problems, fmt.Sprintf("the connection's client_encoding is %s (leave it unset or set it to UTF8)", client))
	}
	if len(problems) > 0 {
		return cable.Errorf(cable.EINVALID, "the records database must hold text as UTF-8: %s", strings.Join(problems, "; "))
	}
	return nil
}

// textColumns returns, for the schema version, the expressions that read a
// cable row's text: its raw bytes, its search_text where that is the text
// (NULL otherwise), and its paragraph spans. prefix qualifies the columns
// ("c." or "").
func (db *DB) textColumns(prefix string) (raw, search, spans string) {
	if db.schema < textOnceFrom {
		return prefix + "body", "NULL::text", "''"
	}
	return prefix + "raw_text", "CASE WHEN " + prefix + "raw_text IS NULL THEN " + prefix + "search_text END", prefix + "text_spans"
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// migrate applies, in one transaction, every embedded migration the
// database has not had yet, up to version upTo (every one when upTo is 0:
// tests of an upgrade in place open a database at an older version).
func (db *DB) migrate(ctx context.Context, upTo int) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	return db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		applied := map[int]bool{}
		latest := 0
		for _, v := range versions {
			applied[int(v)] = true
			latest = max(latest, int(v))
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
			if _, err := tx.Exec(ctx, string(src)); err != nil {
				return fmt.Errorf("migrate %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())`, v, base); err != nil {
				return fmt.Errorf("migrate %s: %w", base, err)
			}
			latest = max(latest, v)
		}
		if latest > known {
			return cable.Errorf(cable.EINTERNAL, "records schema version %d is newer than this program knows (%d)", latest, known)
		}
		db.schema = latest
		return nil
	})
}

// write runs fn in one transaction, committing if fn returns nil and
// rolling back otherwise.
func (db *DB) write(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return dbErr("commit", err)
	}
	return nil
}

// read runs fn in one read-only transaction at repeatable read, so that
// it sees one snapshot.
func (db *DB) read(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// readBatch runs the statements queue puts on a batch in one round trip,
// inside one read-only transaction at repeatable read, and hands their
// results, in order, to read.
func (db *DB) readBatch(ctx context.Context, queue func(*pgx.Batch), read func(pgx.BatchResults) error) error {
	var b pgx.Batch
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	queue(&b)
	b.Queue(`COMMIT`)
	br := db.pool.SendBatch(ctx, &b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("begin: %w", err)
	}
	if err := read(br); err != nil {
		br.Close()
		return err
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("commit: %w", err)
	}
	return br.Close()
}

// now returns the current time as the store keeps it: UTC, to the microsecond.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// dbErr maps an integrity constraint violation to ECONFLICT and a data
// exception (a NUL in text, a number out of range) to EINVALID, and wraps
// other errors with what was being done; *cable.Error passes through.
func dbErr(what string, err error) error {
	var ce *cable.Error
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23"):
		return &cable.Error{Code: cable.ECONFLICT, Message: what + ": " + pe.Message}
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22"):
		return &cable.Error{Code: cable.EINVALID, Message: what + ": " + pe.Message}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isConstraint reports whether err is a violated integrity constraint.
func isConstraint(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23")
}

// TamperText overwrites the stored text of a cable, bypassing every rule
// of the store, in the column the row keeps it in (raw_text, or
// search_text when the row has no raw_text and text is valid UTF-8 without
// NUL). It exists for tests of Verify only.
func (db *DB) TamperText(id string, text []byte) error {
	search := searchText(text)
	raw, _, _ := db.textColumns("")
	tag, err := db.pool.Exec(context.Background(), `UPDATE cables SET
		`+raw+` = CASE WHEN `+raw+` IS NULL AND $3 THEN NULL ELSE $1::bytea END,
		search_text = CASE WHEN `+raw+` IS NULL AND $3 THEN $4 ELSE search_text END
		WHERE id = $2`, text, id, search == string(text), search)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
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
	tag, err := db.pool.Exec(context.Background(), `UPDATE events SET `+column+` = $1 WHERE seq = $2`, value, seq)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return cable.Errorf(cable.ENOTFOUND, "no event %d", seq)
	}
	return nil
}
