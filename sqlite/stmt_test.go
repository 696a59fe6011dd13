package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestInsertRows inserts batches of every size around the statement
// sizes and reads back each row once, in order.
func TestInsertRows(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE rows_test (batch INTEGER, i INTEGER, s TEXT, PRIMARY KEY (batch, i))`); err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 2, 3, 63, 64, 65, 127, 128, 131}
	for _, n := range sizes {
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{n, i, fmt.Sprintf("row %d of %d", i, n)}
		}
		if err := db.write(ctx, func(tx *txn) error {
			return tx.insertRows(ctx, `INSERT INTO rows_test (batch, i, s)`, rows)
		}); err != nil {
			t.Fatalf("%d rows: %v", n, err)
		}
		var count, sum int
		if err := db.w.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(i), 0) FROM rows_test WHERE batch = ?`, n).Scan(&count, &sum); err != nil {
			t.Fatal(err)
		}
		if count != n || sum != n*(n-1)/2 {
			t.Errorf("%d rows: stored %d, indexes summing to %d", n, count, sum)
		}
	}
	// A row that breaks a constraint fails the statement and the write.
	dup := [][]any{{1, 5, "new"}, {1, 0, "again"}}
	err = db.write(ctx, func(tx *txn) error { return tx.insertRows(ctx, `INSERT INTO rows_test (batch, i, s)`, dup) })
	if err == nil {
		t.Fatal("a duplicate row was inserted")
	}
	var count int
	db.w.QueryRowContext(ctx, `SELECT count(*) FROM rows_test WHERE batch = 1`).Scan(&count)
	if count != 1 {
		t.Fatalf("batch 1 holds %d rows after the failed write, want 1", count)
	}
}
