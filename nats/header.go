package nats

import (
	"slices"
	"strconv"
	"strings"
	"time"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Header names of the routing envelope.
const (
	HeaderCableID     = "Cable-Id"
	HeaderOrigin      = "Cable-Origin"
	HeaderDestination = "Cable-Destination"
	HeaderPrecedence  = "Cable-Precedence"
	HeaderSHA256      = "Cable-Sha256"
	HeaderQueuedAt    = "Cable-Queued-At"
	// HeaderKind is cable.KindCable or cable.KindReceipt.
	HeaderKind = "Cable-Kind"
	// HeaderSection and HeaderSections number a section ("2" of "5");
	// both are absent for a transmission sent whole.
	HeaderSection  = "Cable-Section"
	HeaderSections = "Cable-Sections"
	// HeaderRoute lists the stations that have held the transmission,
	// origin first, separated by spaces.
	HeaderRoute = "Cable-Route"
)

const (
	maxCableIDLen = 64
	// MaxSections is the most sections a cable is cut into.
	MaxSections = 99
	// envelopeRoom is what MaxPayload leaves for the envelope headers, a
	// route grown to cable.MaxHops stations included.
	envelopeRoom = 4 << 10
)

// validCableID accepts identifiers that are safe in a header and a
// message id: 1946MOSCOW00511 and the like.
func validCableID(id string) bool {
	if id == "" || len(id) > maxCableIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func validSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// kindOf is the transmission's kind, KindCable when empty.
func kindOf(tr *cable.Transmission) string {
	if tr.Kind == "" {
		return cable.KindCable
	}
	return tr.Kind
}

// msgID is the JetStream message id of a transmission in custody at
// station at: <cableid>.<kind>.<dest>.<section>.<at>, so that a
// transmission sent (or forwarded) twice within the duplicate window is
// stored once at each hop. The holder is part of it because two hops may
// share one stream (a shared server, a node hosting a relay and the
// destination): the same id on the next hop's subject would be taken for
// a duplicate there and dropped.
//
// A receipt transmission carries the receipts of a batch, named by its
// first cable: its id ends in the SHA-256 of its text, so that two
// different bundles beginning with the same cable are both kept.
func msgID(tr *cable.Transmission, sum, at string) string {
	id := tr.CableID + "." + kindOf(tr) + "." + tr.Destination + "." + strconv.Itoa(tr.Section) + "." + at
	if tr.Kind == cable.KindReceipt {
		id += "." + sum[:min(16, len(sum))]
	}
	return id
}

// inSubject is the subject of a transmission in custody at station at
// and addressed to it: cable.STATE.in.Z.
func (t *Transport) inSubject(at string, p cable.Precedence) string {
	return t.prefix + "." + at + ".in." + p.Prosign()
}

// fwdSubject is the subject of a transmission in custody at station at,
// to be forwarded towards dest: cable.WAR.fwd.STATE.Z.
func (t *Transport) fwdSubject(at, dest string, p cable.Precedence) string {
	return t.prefix + "." + at + ".fwd." + dest + "." + p.Prosign()
}

// fwdDestination reads DEST from a subject prefix.AT.fwd.DEST.P.
func (t *Transport) fwdDestination(subject string) string {
	rest, ok := strings.CutPrefix(subject, t.prefix+".")
	if !ok {
		return ""
	}
	f := strings.Split(rest, ".")
	if len(f) != 4 || f[1] != "fwd" {
		return ""
	}
	return f[2]
}

// checkTransmission names every problem of tr, field names prefixed by
// field, and returns the hex SHA-256 of its text.
func checkTransmission(tr *cable.Transmission, field string, ps *cable.Problems) string {
	if tr == nil {
		ps.Add(field, "no transmission")
		return ""
	}
	if !validCableID(tr.CableID) {
		ps.Add(field+".cable_id", "%q is not a cable identifier", tr.CableID)
	}
	if !cable.ValidStationCode(tr.Origin) {
		ps.Add(field+".origin", "cable %s: %q is not a station code", tr.CableID, tr.Origin)
	}
	if !cable.ValidStationCode(tr.Destination) {
		ps.Add(field+".destination", "cable %s: %q is not a station code", tr.CableID, tr.Destination)
	}
	if !tr.Precedence.Valid() {
		ps.Add(field+".precedence", "cable %s: %v is not a precedence", tr.CableID, tr.Precedence)
	}
	if k := kindOf(tr); k != cable.KindCable && k != cable.KindReceipt {
		ps.Add(field+".kind", "cable %s: %q is not a transmission kind", tr.CableID, tr.Kind)
	}
	switch {
	case tr.Sections < 0 || tr.Sections > MaxSections:
		ps.Add(field+".sections", "cable %s: %d sections, want 1 to %d", tr.CableID, tr.Sections, MaxSections)
	case tr.Sections == 0 && tr.Section != 0:
		ps.Add(field+".section", "cable %s: section %d of no sections", tr.CableID, tr.Section)
	case tr.Sections > 0 && (tr.Section < 1 || tr.Section > tr.Sections):
		ps.Add(field+".section", "cable %s: section %d of %d", tr.CableID, tr.Section, tr.Sections)
	}
	if len(tr.Text) == 0 {
		ps.Add(field+".text", "cable %s: no text", tr.CableID)
		return ""
	}
	sum := cable.SHA256Hex(tr.Text)
	if tr.SHA256 != "" && tr.SHA256 != sum {
		ps.Add(field+".sha256", "cable %s: %s is not the SHA-256 of its text (%s)", tr.CableID, tr.SHA256, sum)
	}
	return sum
}

// cloneHeader returns a copy of h that shares nothing with it.
func cloneHeader(h natsgo.Header) natsgo.Header {
	out := make(natsgo.Header, len(h))
	for k, vs := range h {
		out[k] = slices.Clone(vs)
	}
	return out
}

// encodeHeader writes the routing envelope of a checked transmission in
// custody at station at that has been held by the stations of route.
func encodeHeader(tr *cable.Transmission, sum, stream, at string, route []string) natsgo.Header {
	h := make(natsgo.Header, 12)
	h.Set(jetstream.MsgIDHeader, msgID(tr, sum, at))
	h.Set(jetstream.ExpectedStreamHeader, stream)
	h.Set(HeaderCableID, tr.CableID)
	h.Set(HeaderKind, kindOf(tr))
	h.Set(HeaderOrigin, tr.Origin)
	h.Set(HeaderDestination, tr.Destination)
	h.Set(HeaderPrecedence, tr.Precedence.String())
	h.Set(HeaderSHA256, sum)
	h.Set(HeaderQueuedAt, tr.QueuedAt.UTC().Format(time.RFC3339Nano))
	if tr.Sections > 0 {
		h.Set(HeaderSection, strconv.Itoa(tr.Section))
		h.Set(HeaderSections, strconv.Itoa(tr.Sections))
	}
	h.Set(HeaderRoute, strings.Join(route, " "))
	return h
}

// headerSize is the size of h on the wire, as the server counts it
// against its maximum payload.
func headerSize(h natsgo.Header) int {
	n := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// parseRoute reads a Cable-Route header: one to cable.MaxHops station
// codes, none twice.
func parseRoute(s string) ([]string, bool) {
	route := strings.Split(s, " ")
	if len(route) == 0 || len(route) > cable.MaxHops {
		return route, false
	}
	for i, st := range route {
		if !cable.ValidStationCode(st) {
			return route, false
		}
		for _, prev := range route[:i] {
			if prev == st {
				return route, false
			}
		}
	}
	return route, true
}

// parseSection reads a section number header: 1 to MaxSections.
func parseSection(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= MaxSections
}

// decodeTransmission reads a transmission back from a message's headers
// and body, checking every field and the text against its SHA-256; a body
// longer than maxText is refused (maxText <= 0: no limit). On a failed
// check it returns what it could read with the error.
func decodeTransmission(h natsgo.Header, body []byte, maxText int) (*cable.Transmission, error) {
	var ps cable.Problems
	if h.Get(HeaderBatch) != "" {
		// Only a batch that could not be read comes here whole.
		if _, err := decodeBatch(h, body); err != nil {
			ps.Add(HeaderBatch, "unreadable batch of transmissions: %v", err)
		}
	}
	tr := &cable.Transmission{
		CableID:     h.Get(HeaderCableID),
		Kind:        h.Get(HeaderKind),
		Origin:      h.Get(HeaderOrigin),
		Destination: h.Get(HeaderDestination),
		SHA256:      h.Get(HeaderSHA256),
		Text:        body,
	}
	if !validCableID(tr.CableID) {
		ps.Add(HeaderCableID, "%q is not a cable identifier", tr.CableID)
	}
	if tr.Kind != cable.KindCable && tr.Kind != cable.KindReceipt {
		ps.Add(HeaderKind, "%q is not a transmission kind", tr.Kind)
	}
	if !cable.ValidStationCode(tr.Origin) {
		ps.Add(HeaderOrigin, "%q is not a station code", tr.Origin)
	}
	if !cable.ValidStationCode(tr.Destination) {
		ps.Add(HeaderDestination, "%q is not a station code", tr.Destination)
	}
	if p, err := cable.ParsePrecedence(h.Get(HeaderPrecedence)); err != nil {
		ps.Add(HeaderPrecedence, "%q is not a precedence", h.Get(HeaderPrecedence))
	} else {
		tr.Precedence = p
	}
	if at, err := time.Parse(time.RFC3339Nano, h.Get(HeaderQueuedAt)); err != nil {
		ps.Add(HeaderQueuedAt, "%q is not an RFC 3339 time", h.Get(HeaderQueuedAt))
	} else {
		tr.QueuedAt = at
	}
	sec, secs := h.Get(HeaderSection), h.Get(HeaderSections)
	if sec != "" || secs != "" {
		n, okN := parseSection(secs)
		i, okI := parseSection(sec)
		switch {
		case !okN:
			ps.Add(HeaderSections, "%q is not a number of sections from 1 to %d", secs, MaxSections)
		case !okI || i > n:
			ps.Add(HeaderSection, "%q is not a section of %d", sec, n)
		default:
			tr.Section, tr.Sections = i, n
		}
	}
	if route, ok := parseRoute(h.Get(HeaderRoute)); !ok {
		ps.Add(HeaderRoute, "%q is not a route of 1 to %d stations, none twice", h.Get(HeaderRoute), cable.MaxHops)
	} else if route[0] != tr.Origin {
		ps.Add(HeaderRoute, "route %q does not begin at the origin %s", h.Get(HeaderRoute), tr.Origin)
	} else {
		tr.Route = route
	}
	if !validSHA256Hex(tr.SHA256) {
		ps.Add(HeaderSHA256, "%q is not a hex SHA-256", tr.SHA256)
	} else if maxText <= 0 || len(body) <= maxText {
		if sum := cable.SHA256Hex(body); sum != tr.SHA256 {
			ps.Add("text", "SHA-256 %s does not match the envelope's %s", sum, tr.SHA256)
		}
	}
	if len(body) == 0 {
		ps.Add("text", "empty")
	} else if maxText > 0 && len(body) > maxText {
		ps.Add("text", "%d bytes, more than the %d the channel carries", len(body), maxText)
	}
	if err := ps.Err("malformed transmission"); err != nil {
		return tr, err
	}
	return tr, nil
}
