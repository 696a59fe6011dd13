package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStatements bounds the statement cache; queries beyond it are
// prepared at each use.
const maxCachedStatements = 256

// stmtCache keeps statements prepared on a pool, so that a connection
// parses a query once rather than at every call.
//
// A statement is never prepared on the pool while a transaction is open:
// the write pool has one connection, which the transaction holds. A
// transaction that meets a query not cached yet prepares it on its own
// connection for this once and notes it; the query is prepared on the
// pool when the transaction has ended.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// lookup returns the cached statement for query, or nil after noting
// that it is wanted.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[query]
	if s == nil && len(c.m)+len(c.wanted) < maxCachedStatements {
		c.wanted[query] = true
	}
	return s
}

// fill prepares the wanted statements. It is called with no transaction
// open; a statement that fails to prepare is left out.
func (c *stmtCache) fill(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.wanted {
		qs = append(qs, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range qs {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m[q] == nil {
			c.m[q] = s
			s = nil
		}
		c.mu.Unlock()
		if s != nil {
			s.Close()
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// txn is a transaction whose statements come from a cache.
type txn struct {
	*sql.Tx
	cache *stmtCache
}

// PrepareContext returns the cached statement bound to the transaction,
// or one prepared for the transaction alone.
func (t *txn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := t.cache.lookup(query); s != nil {
		return t.Tx.StmtContext(ctx, s), nil
	}
	return t.Tx.PrepareContext(ctx, query)
}

// ExecContext runs a statement.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.cache.lookup(query); s != nil {
		return t.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a statement.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.cache.lookup(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a statement.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.cache.lookup(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// readRow runs a query of one row on the read pool outside a transaction,
// through the statement cache, and hands the row to scan: the lookups of
// every request (a session's or bearer token's user) would otherwise
// parse their query each time.
func (db *DB) readRow(ctx context.Context, scan func(*sql.Row) error, query string, args ...any) error {
	if s := db.rstmts.lookup(query); s != nil {
		return scan(s.QueryRowContext(ctx, args...))
	}
	err := scan(db.r.QueryRowContext(ctx, query, args...))
	db.rstmts.fill(context.WithoutCancel(ctx))
	return err
}

// insertRows inserts rows (each of as many values as prefix names columns)
// with multi-row INSERT statements of 64, 32, ... 1 rows, so that a batch
// takes a few statements rather than one a row, and the statement cache
// holds at most seven forms of each.
func (t *txn) insertRows(ctx context.Context, prefix string, rows [][]any) error {
	for len(rows) > 0 {
		n := 64
		for n > len(rows) {
			n /= 2
		}
		cols := len(rows[0])
		var q strings.Builder
		q.WriteString(prefix)
		q.WriteString(" VALUES ")
		args := make([]any, 0, n*cols)
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('(')
			for j := range cols {
				if j > 0 {
					q.WriteByte(',')
				}
				q.WriteByte('?')
			}
			q.WriteByte(')')
			args = append(args, r...)
		}
		if _, err := t.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
