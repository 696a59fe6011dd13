package cable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// List limits of FindCables.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// CheckReleaseRequests names every problem with a batch of release
// requests, as a records store checks them before writing.
func CheckReleaseRequests(reqs []*ReleaseRequest) error {
	var ps Problems
	for i, r := range reqs {
		f := fmt.Sprintf("reqs[%d]", i)
		if r == nil || r.Cable == nil {
			ps.Add(f+".cable", "no cable")
			continue
		}
		if r.Render == nil {
			ps.Add(f+".render", "no render function")
		}
		c := r.Cable
		if !ValidStationCode(c.Station) {
			ps.Add(f+".cable.station", "station code %q must be 2-20 upper-case letters", c.Station)
		}
		if c.DTG.IsZero() {
			ps.Add(f+".cable.dtg", "a cable is released with its date-time group")
		} else if y := c.DTG.UTC().Year(); y < 1000 || y > 9999 {
			ps.Add(f+".cable.dtg", "year %d is out of range", y)
		}
		if !c.Precedence.Valid() {
			ps.Add(f+".cable.precedence", "unknown precedence")
		}
		if !c.Classification.Valid() {
			ps.Add(f+".cable.classification", "unknown classification")
		}
	}
	return ps.Err("invalid release")
}

// CheckArrivals names every problem with a batch of arrivals, as a
// records store checks them before writing.
func CheckArrivals(arrivals []*Arrival) error {
	var ps Problems
	for i, a := range arrivals {
		f := fmt.Sprintf("arrivals[%d]", i)
		if a == nil {
			ps.Add(f, "no arrival")
			continue
		}
		if !ValidStationCode(a.Station) {
			ps.Add(f+".station", "station code %q must be 2-20 upper-case letters", a.Station)
		}
		if a.Cable == nil {
			ps.Add(f+".cable", "no cable")
		} else if _, _, _, err := RecordKey(a.Cable, a.Origin); err != nil {
			ps.Add(f+".cable.id", "%s", ErrorMessage(err))
		}
		if len(a.Text) == 0 {
			ps.Add(f+".text", "no text")
		} else if a.SHA256 != "" && a.SHA256 != SHA256Hex(a.Text) {
			ps.Add(f+".sha256", "SHA-256 %s is not the hash of the text", a.SHA256)
		}
		if a.At.IsZero() {
			ps.Add(f+".at", "time of receipt is required")
		} else if y := a.At.UTC().Year(); y < 1000 || y > 9999 {
			ps.Add(f+".at", "year %d is out of range", y)
		}
		switch a.Origin {
		case "", OriginReceived, OriginReleased, OriginHistorical:
		default:
			ps.Add(f+".origin", "unknown origin %q", a.Origin)
		}
		for _, o := range a.Distribution.Offices() {
			if o != "" && !ValidOfficeCode(o) {
				ps.Add(f+".distribution", "office symbol %q is malformed", o)
			}
		}
	}
	return ps.Err("invalid arrivals")
}

// Check names every problem with a filter and sets the default and
// maximum limit.
func (f *CableFilter) Check() error {
	var ps Problems
	if !f.MaxClassification.Valid() {
		ps.Add("max_classification", "a list is bounded by the reader's clearance")
	}
	if f.Office != "" && f.Sent {
		ps.Add("office", "an office's inbox and the sent list are different lists")
	}
	if f.Office != "" && len(f.Offices) > 0 {
		ps.Add("offices", "give either one office (an inbox) or several (a search scope)")
	}
	if f.Station == "" && (f.Office != "" || f.Sent || len(f.Offices) > 0) {
		ps.Add("station", "an inbox, sent list or office scope needs the viewing station")
	}
	if f.Precedence != 0 && !f.Precedence.Valid() {
		ps.Add("precedence", "unknown precedence")
	}
	if f.Classification != 0 && !f.Classification.Valid() {
		ps.Add("classification", "unknown classification")
	}
	if f.Offset < 0 {
		ps.Add("offset", "offset may not be negative")
	}
	if f.Limit < 0 {
		ps.Add("limit", "limit may not be negative")
	}
	if err := ps.Err("invalid cable filter"); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = DefaultListLimit
	}
	f.Limit = min(f.Limit, MaxListLimit)
	return nil
}

// CheckChain names what is wrong with e as the event after the one with
// seq lastSeq and hash lastHash.
func (e *Event) CheckChain(lastSeq int64, lastHash string) []string {
	var ps []string
	if e.Seq != lastSeq+1 {
		ps = append(ps, fmt.Sprintf("event %d: follows event %d (want %d)", e.Seq, lastSeq, lastSeq+1))
	}
	if e.PrevHash != lastHash {
		ps = append(ps, fmt.Sprintf("event %d: prev_hash %s is not the hash of the event before it (%s)", e.Seq, e.PrevHash, lastHash))
	}
	if got := e.ComputeHash(); got != e.Hash {
		ps = append(ps, fmt.Sprintf("event %d: content hashes to %s, stored hash is %s", e.Seq, got, e.Hash))
	}
	return ps
}

// DecodeEventDetail reads an event's stored detail back, numbers exactly
// as written, so that it hashes as it did when it was appended.
func DecodeEventDetail(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("event detail: %w", err)
	}
	return d, nil
}

// OfficeRole is one office of a distribution with its role.
type OfficeRole struct {
	Office string
	Role   Role
}

// Roles lists the action office, then each info office not listed before.
func (d Distribution) Roles() []OfficeRole {
	seen := map[string]bool{}
	var out []OfficeRole
	if d.Action != "" {
		out = append(out, OfficeRole{d.Action, RoleAction})
		seen[d.Action] = true
	}
	for _, o := range d.Info {
		if o != "" && !seen[o] {
			out = append(out, OfficeRole{o, RoleInfo})
			seen[o] = true
		}
	}
	return out
}

// CheckFields names every problem a records store finds with a user
// without a station directory at hand (User.Validate checks against one).
func (u *User) CheckFields() error {
	var ps Problems
	if u == nil {
		ps.Add("", "no user")
		return ps.Err("invalid user")
	}
	if u.Name == "" || len(u.Name) > 64 {
		ps.Add("name", "name is required, at most 64 characters")
	}
	if !ValidStationCode(u.Station) {
		ps.Add("station", "station code %q must be 2-20 upper-case letters", u.Station)
	}
	if !u.Clearance.Valid() {
		ps.Add("clearance", "unknown clearance")
	}
	for _, c := range u.Captions {
		if !c.Valid() {
			ps.Add("captions", "unknown caption %q", c)
		}
	}
	return ps.Err("invalid user")
}

// CheckEvents names every problem with events to append.
func CheckEvents(events []*Event) error {
	var ps Problems
	for i, e := range events {
		if e == nil {
			ps.Add(fmt.Sprintf("events[%d]", i), "no event")
		} else if strings.TrimSpace(e.Kind) == "" {
			ps.Add(fmt.Sprintf("events[%d].kind", i), "kind is required")
		}
	}
	return ps.Err("invalid events")
}

// CopyEvents checks events (CheckEvents) and returns a copy of each, for a
// store to fill in (Seq, hashes) inside its transaction and copy back only
// once the transaction commits.
func CopyEvents(events []*Event) ([]*Event, error) {
	if err := CheckEvents(events); err != nil {
		return nil, err
	}
	out := make([]*Event, len(events))
	for i, e := range events {
		c := *e
		out[i] = &c
	}
	return out, nil
}

// KeptEvents returns the events keep marks (every one when keep is nil)
// and their places in events: what a store appends when the outcome of a
// write decides which events it records.
func KeptEvents(events []*Event, keep []bool) (kept []*Event, at []int) {
	for i, e := range events {
		if keep == nil || keep[i] {
			kept = append(kept, e)
			at = append(at, i)
		}
	}
	return kept, at
}

// CheckToken names every problem with a token to store.
func CheckToken(t *Token) error {
	var ps Problems
	if t == nil {
		ps.Add("", "no token")
	} else {
		if t.Hash == "" {
			ps.Add("hash", "token hash is required")
		}
		if t.Kind != TokenAPI && t.Kind != TokenSession {
			ps.Add("kind", "unknown token kind %q (want api or session)", t.Kind)
		}
	}
	return ps.Err("invalid token")
}

// CheckReceiptEvents checks the events given with receipts to
// Records.MarkDelivered: none, or one for each receipt.
func CheckReceiptEvents(rs []*DeliveryReceipt, events []*Event) error {
	if events != nil && len(events) != len(rs) {
		return Invalid("invalid receipts", []Problem{{Field: "events", Message: fmt.Sprintf("%d events for %d receipts: one for each, or none", len(events), len(rs))}})
	}
	return nil
}

// CheckReceipts names every problem of a batch of delivery receipts given
// to a records store's MarkDelivered.
func CheckReceipts(rs []*DeliveryReceipt) error {
	var ps Problems
	for i, r := range rs {
		f := fmt.Sprintf("receipts[%d]", i)
		if r == nil {
			ps.Add(f, "no receipt")
			continue
		}
		if strings.TrimSpace(r.CableID) == "" {
			ps.Add(f+".cable_id", "cable identifier is required")
		}
		if r.Station == "" {
			ps.Add(f+".station", "receiving station is required")
		} else if !ValidStationCode(r.Station) {
			ps.Add(f+".station", "station code %q must be 2-20 upper-case letters", r.Station)
		}
		if r.ReceivedAt.IsZero() {
			ps.Add(f+".received_at", "time of receipt is required")
		}
		if strings.TrimSpace(r.ControlNumber) == "" {
			ps.Add(f+".control_number", "control number is required")
		}
	}
	return ps.Err("invalid receipts")
}
