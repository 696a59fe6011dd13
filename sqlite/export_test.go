package sqlite

import "context"

// Pragma reads an integer pragma on the write connection.
func (db *DB) Pragma(ctx context.Context, name string) (int, error) {
	var v int
	err := db.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}
