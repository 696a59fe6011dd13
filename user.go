package cable

import (
	"fmt"
	"time"
)

// UserRole is a permission a user holds beyond reading.
type UserRole string

// Roles.
const (
	// RoleDrafter may draft and release cables for the user's station.
	RoleDrafter UserRole = "drafter"
	// RoleOperator manages the message centre: users, routing, the outbox.
	RoleOperator UserRole = "operator"
	// RoleArchivist files historical records: scanned transcripts and
	// documentary editions.
	RoleArchivist UserRole = "archivist"
)

// User is a person who signs in.
type User struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Station   string         `json:"station"`
	Offices   []string       `json:"offices"`
	Clearance Classification `json:"clearance"`
	Captions  []Caption      `json:"captions,omitempty"`
	Roles     []UserRole     `json:"roles,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

// HasRole reports whether u holds r.
func (u *User) HasRole(r UserRole) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// HoldsCaption reports whether u holds caption c.
func (u *User) HoldsCaption(c Caption) bool {
	for _, x := range u.Captions {
		if x == c {
			return true
		}
	}
	return false
}

// InOffice reports whether u belongs to office.
func (u *User) InOffice(office string) bool {
	for _, o := range u.Offices {
		if o == office {
			return true
		}
	}
	return false
}

// Validate checks a user against the directory and names every problem.
func (u *User) Validate(dir *Directory) error {
	var ps Problems
	if u.Name == "" || len(u.Name) > 64 {
		ps.Add("name", "name is required, at most 64 characters")
	}
	for _, r := range u.Name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			ps.Add("name", "name may hold letters, digits, '.', '-' and '_' only")
			break
		}
	}
	st, err := dir.Station(u.Station)
	if err != nil {
		ps.Add("station", "unknown station %q", u.Station)
	}
	if len(u.Offices) == 0 {
		ps.Add("offices", "at least one office is required")
	}
	for _, o := range u.Offices {
		if st != nil && !st.HasOffice(o) {
			ps.Add("offices", "station %s has no office %q", u.Station, o)
		}
	}
	if !u.Clearance.Valid() {
		ps.Add("clearance", "unknown clearance")
	}
	for _, c := range u.Captions {
		if !c.Valid() {
			ps.Add("captions", "unknown caption %q", c)
		}
	}
	for _, r := range u.Roles {
		if r != RoleDrafter && r != RoleOperator && r != RoleArchivist {
			ps.Add("roles", "unknown role %q", r)
		}
	}
	return ps.Err("invalid user")
}

// Uncleared says why u may not see c whatever its distribution (their
// clearance does not reach its classification, or they lack a caption it
// carries), "" if they may.
func (u *User) Uncleared(c *Cable) string {
	if !u.Clearance.Valid() || u.Clearance < c.Classification {
		return fmt.Sprintf("clearance %s does not reach %s", u.Clearance, c.Classification)
	}
	for _, k := range c.Captions {
		if !u.HoldsCaption(k) {
			return fmt.Sprintf("caption %s not held", k)
		}
	}
	return ""
}

// CanRead is the access policy. A user reads a cable only if their
// clearance reaches its classification, they hold every caption it
// carries, and it was sent by their station or distributed (in dist, the
// distribution at the user's station) to one of their offices.
func CanRead(u *User, c *Cable, dist *Distribution) bool {
	if u == nil || c == nil || u.Uncleared(c) != "" {
		return false
	}
	if c.Station == u.Station {
		return true
	}
	for _, o := range u.Offices {
		if dist.Has(o) {
			return true
		}
	}
	return false
}
