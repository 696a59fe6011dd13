package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// OpenVersion connects and migrates the database up to version v only,
// as an older program would have left it.
func OpenVersion(ctx context.Context, dsn string, v int) (*DB, error) { return open(ctx, dsn, v) }

// ExplainOverdue returns PostgreSQL's plan of the query of
// OverdueTransmissions at now, on a connection with sequential scans
// disabled (a test table is too small for the planner to prefer an
// index otherwise), one line a step.
func (db *DB) ExplainOverdue(ctx context.Context, now time.Time) (string, error) {
	var lines []string
	err := db.read(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+overdueQuery, overdueArgs(now, 10)...)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return strings.Join(lines, "\n"), err
}
