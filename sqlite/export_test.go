package sqlite

import (
	"context"
	"strings"
	"time"
)

// Pragma reads an integer pragma on the write connection.
func (db *DB) Pragma(ctx context.Context, name string) (int, error) {
	var v int
	err := db.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// OpenVersion opens the file migrated up to version v only, as an older
// program would have left it.
func OpenVersion(ctx context.Context, path string, v int) (*DB, error) { return open(ctx, path, v) }

// ExplainOverdue returns SQLite's plan of the query of
// OverdueTransmissions at now, one step a line.
func (db *DB) ExplainOverdue(ctx context.Context, now time.Time) (string, error) {
	rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+overdueQuery, overdueArgs(now, 10)...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "\n"), rows.Err()
}
