package centre

import (
	"context"
	"fmt"
	"time"

	cable "github.com/cable-archive/cable"
)

// dummyHash makes a sign-in with an unknown name cost as much as one with
// a wrong password, so names cannot be probed by timing.
var dummyHash, _ = HashPassword("not a password")

// Authenticate checks a name and password.
func (c *Centre) Authenticate(ctx context.Context, name, password string) (*cable.User, error) {
	u, hash, err := c.records.UserByName(ctx, name)
	if cable.ErrorCode(err) == cable.ENOTFOUND {
		CheckPassword(dummyHash, password)
		return nil, cable.Errorf(cable.EUNAUTHORIZED, "wrong name or password")
	} else if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if !CheckPassword(hash, password) {
		return nil, cable.Errorf(cable.EUNAUTHORIZED, "wrong name or password")
	}
	return u, nil
}

// CreateSession starts a web session for u.
func (c *Centre) CreateSession(ctx context.Context, u *cable.User) (token, csrf string, err error) {
	token, hash, err := newToken()
	if err != nil {
		return "", "", err
	}
	csrf, _, err = newToken()
	if err != nil {
		return "", "", err
	}
	now := c.now().UTC()
	if err := c.records.CreateToken(ctx, &cable.Token{
		Hash: hash, UserID: u.ID, Kind: cable.TokenSession, CreatedAt: now, ExpiresAt: now.Add(c.ttl), CSRF: csrf,
	}); err != nil {
		return "", "", fmt.Errorf("create session: %w", err)
	}
	return token, csrf, nil
}

// UserBySession returns the user of a live session and its CSRF token.
func (c *Centre) UserBySession(ctx context.Context, token string) (*cable.User, string, error) {
	u, t, err := c.records.UserByToken(ctx, tokenHash(token), c.now().UTC())
	if err != nil || t.Kind != cable.TokenSession {
		return nil, "", cable.Errorf(cable.EUNAUTHORIZED, "session expired; sign in again")
	}
	return u, t.CSRF, nil
}

// EndSession signs a session out.
func (c *Centre) EndSession(ctx context.Context, token string) error {
	return c.records.DeleteToken(ctx, tokenHash(token))
}

// UserByToken returns the user of an API bearer token.
func (c *Centre) UserByToken(ctx context.Context, token string) (*cable.User, error) {
	u, t, err := c.records.UserByToken(ctx, tokenHash(token), c.now().UTC())
	if err != nil || t.Kind != cable.TokenAPI {
		return nil, cable.Errorf(cable.EUNAUTHORIZED, "invalid or expired bearer token")
	}
	return u, nil
}

// AddUser validates u against the directory and stores it with password.
func AddUser(ctx context.Context, rec cable.Records, dir *cable.Directory, u *cable.User, password string) error {
	if err := u.Validate(dir); err != nil {
		return err
	}
	if len(password) < 12 {
		return cable.Invalid("invalid user", []cable.Problem{{Field: "password", Message: "a password has at least 12 characters"}})
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := rec.CreateUser(ctx, u, hash); err != nil {
		return err
	}
	return rec.AppendEvents(ctx, []*cable.Event{{
		Kind: cable.EventUser, Station: u.Station, Actor: "operator",
		Detail: map[string]any{"action": "add", "user": u.Name, "clearance": u.Clearance.String()},
	}})
}

// CreateAPIToken makes a bearer token for the named user and returns it;
// only its hash is stored.
func CreateAPIToken(ctx context.Context, rec cable.Records, name string, now func() time.Time) (string, error) {
	u, _, err := rec.UserByName(ctx, name)
	if err != nil {
		return "", err
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	if err := rec.CreateToken(ctx, &cable.Token{Hash: hash, UserID: u.ID, Kind: cable.TokenAPI, CreatedAt: now().UTC()}); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	if err := rec.AppendEvents(ctx, []*cable.Event{{
		Kind: cable.EventUser, Station: u.Station, Actor: "operator",
		Detail: map[string]any{"action": "token", "user": u.Name},
	}}); err != nil {
		return "", err
	}
	return token, nil
}
