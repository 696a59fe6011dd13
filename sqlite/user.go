package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

// CreateUser adds a user with a password hash, setting ID and CreatedAt
// (if zero). ECONFLICT if the name is taken. Checking the user against
// the station directory is the caller's business.
func (db *DB) CreateUser(ctx context.Context, u *cable.User, passwordHash string) error {
	if err := u.CheckFields(); err != nil {
		return err
	}
	offices, _ := json.Marshal(nonNil(u.Offices))
	captions, _ := json.Marshal(u.Captions)
	roles, _ := json.Marshal(u.Roles)
	created := u.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	created = created.UTC().Truncate(time.Microsecond)
	var id int64
	err := db.write(ctx, func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (name, station, offices, clearance, captions, roles, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Name, u.Station, string(offices), int(u.Clearance), string(captions), string(roles), passwordHash, micros(created)).Scan(&id)
		if isConstraint(err) {
			return cable.Errorf(cable.ECONFLICT, "user name %q is taken", u.Name)
		}
		return dbErr("create user", err)
	})
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt = id, created
	return nil
}

const userColumns = `u.id, u.name, u.station, u.offices, u.clearance, u.captions, u.roles, u.created_at`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*cable.User, error) {
	var u cable.User
	var offices, captions, roles string
	var created int64
	dst := append([]any{&u.ID, &u.Name, &u.Station, &offices, &u.Clearance, &captions, &roles, &created}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	for _, x := range []struct {
		src string
		dst any
	}{{offices, &u.Offices}, {captions, &u.Captions}, {roles, &u.Roles}} {
		if err := json.Unmarshal([]byte(x.src), x.dst); err != nil {
			return nil, fmt.Errorf("user %s: %w", u.Name, err)
		}
	}
	return &u, nil
}

// UserByName returns the user and their password hash, or ENOTFOUND.
func (db *DB) UserByName(ctx context.Context, name string) (*cable.User, string, error) {
	var hash string
	var u *cable.User
	err := db.readRow(ctx, func(r *sql.Row) (err error) {
		u, err = scanUser(r, &hash)
		return err
	}, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.name = ?`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", cable.Errorf(cable.ENOTFOUND, "no user %q", name)
	} else if err != nil {
		return nil, "", fmt.Errorf("user by name: %w", err)
	}
	return u, hash, nil
}

// Users lists every user in the order they were created.
func (db *DB) Users(ctx context.Context) ([]*cable.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	out := []*cable.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// CreateToken stores a token by its hash, setting CreatedAt if zero.
// ECONFLICT if the hash is stored already, ENOTFOUND if the user is not.
func (db *DB) CreateToken(ctx context.Context, t *cable.Token) error {
	if err := cable.CheckToken(t); err != nil {
		return err
	}
	created := t.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	created = created.UTC().Truncate(time.Microsecond)
	var expires sql.NullInt64
	if !t.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: micros(t.ExpiresAt), Valid: true}
	}
	err := db.write(ctx, func(tx *txn) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, t.UserID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return cable.Errorf(cable.ENOTFOUND, "no user %d", t.UserID)
		} else if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, user_id, kind, created_at, expires_at, csrf) VALUES (?, ?, ?, ?, ?, ?)`,
			t.Hash, t.UserID, t.Kind, micros(created), expires, t.CSRF)
		if isConstraint(err) {
			return cable.Errorf(cable.ECONFLICT, "token exists")
		}
		return dbErr("create token", err)
	})
	if err != nil {
		return err
	}
	t.CreatedAt = created
	return nil
}

// UserByToken returns the user holding the token with the hash and the
// token, or ENOTFOUND when there is no such token or it has expired at now.
func (db *DB) UserByToken(ctx context.Context, hash string, now time.Time) (*cable.User, *cable.Token, error) {
	var t cable.Token
	var created int64
	var expires sql.NullInt64
	var u *cable.User
	err := db.readRow(ctx, func(r *sql.Row) (err error) {
		u, err = scanUser(r, &t.Hash, &t.UserID, &t.Kind, &created, &expires, &t.CSRF)
		return err
	}, `SELECT `+userColumns+`, t.hash, t.user_id, t.kind, t.created_at, t.expires_at, t.csrf
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`, hash, micros(now))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, cable.Errorf(cable.ENOTFOUND, "no such token, or it has expired")
	} else if err != nil {
		return nil, nil, fmt.Errorf("user by token: %w", err)
	}
	t.CreatedAt = fromMicros(created)
	if expires.Valid {
		t.ExpiresAt = fromMicros(expires.Int64)
	}
	return u, &t, nil
}

// DeleteToken removes the token with the hash; removing a token that is
// not stored is not an error, so that signing out twice is harmless.
func (db *DB) DeleteToken(ctx context.Context, hash string) error {
	return db.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE hash = ?`, hash)
		return dbErr("delete token", err)
	})
}
