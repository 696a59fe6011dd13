package nats

import (
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
)

const maxCableIDLen = 64

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

// msgID is the JetStream message id of a transmission: one per cable and
// destination, so a transmission sent twice is stored once.
func msgID(tr *cable.Transmission) string { return tr.CableID + "/" + tr.Destination }

// subject is the subject a transmission is published on.
func (t *Transport) subject(station string, p cable.Precedence) string {
	return t.prefix + ".to." + station + "." + p.Prosign()
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

// encodeHeader writes the routing envelope of a checked transmission.
func encodeHeader(tr *cable.Transmission, sum, stream string) natsgo.Header {
	h := make(natsgo.Header, 8)
	h.Set(jetstream.MsgIDHeader, msgID(tr))
	h.Set(jetstream.ExpectedStreamHeader, stream)
	h.Set(HeaderCableID, tr.CableID)
	h.Set(HeaderOrigin, tr.Origin)
	h.Set(HeaderDestination, tr.Destination)
	h.Set(HeaderPrecedence, tr.Precedence.String())
	h.Set(HeaderSHA256, sum)
	h.Set(HeaderQueuedAt, tr.QueuedAt.UTC().Format(time.RFC3339Nano))
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

// decodeTransmission reads a transmission back from a message's headers
// and body, checking every field and the text against its SHA-256. On a
// failed check it returns what it could read with the error.
func decodeTransmission(h natsgo.Header, body []byte) (*cable.Transmission, error) {
	var ps cable.Problems
	tr := &cable.Transmission{
		CableID:     h.Get(HeaderCableID),
		Origin:      h.Get(HeaderOrigin),
		Destination: h.Get(HeaderDestination),
		SHA256:      h.Get(HeaderSHA256),
		Text:        body,
	}
	if !validCableID(tr.CableID) {
		ps.Add(HeaderCableID, "%q is not a cable identifier", tr.CableID)
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
	if !validSHA256Hex(tr.SHA256) {
		ps.Add(HeaderSHA256, "%q is not a hex SHA-256", tr.SHA256)
	} else if sum := cable.SHA256Hex(body); sum != tr.SHA256 {
		ps.Add("text", "SHA-256 %s does not match the envelope's %s", sum, tr.SHA256)
	}
	if len(body) == 0 {
		ps.Add("text", "empty")
	}
	if err := ps.Err("malformed transmission"); err != nil {
		return tr, err
	}
	return tr, nil
}
