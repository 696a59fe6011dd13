package cable

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Objective is the speed-of-service objective of the precedence: the
// time from release within which a cable must be received at every
// addressed station. FLASH 10 minutes, IMMEDIATE 30 minutes, PRIORITY 3
// hours, ROUTINE 6 hours.
func (p Precedence) Objective() time.Duration {
	switch p {
	case Flash:
		return 10 * time.Minute
	case Immediate:
		return 30 * time.Minute
	case Priority:
		return 3 * time.Hour
	}
	return 6 * time.Hour
}

// Transmission kinds: a cable (or one section of it), or a receipt going
// back to the originating station.
const (
	KindCable   = "cable"
	KindReceipt = "receipt"
)

// MaxHops bounds the stations a transmission passes through; a
// transmission that would take more is refused as a routing loop.
const MaxHops = 8

// Routes says, for the stations a node hosts, the next hop towards each
// destination: "STATE via WAR". A destination without a route is sent
// direct. Routes are read from an operator-edited file; see ParseRoutes.
type Routes struct {
	next     map[string]string
	fallback string
}

// NextHop returns the station that takes custody next on the way to
// dest: the route's relay, else the default route's, else dest itself.
// A route never sends a transmission back to the station it is for.
func (r *Routes) NextHop(dest string) string {
	if r == nil {
		return dest
	}
	if hop, ok := r.next[dest]; ok {
		return hop
	}
	if r.fallback != "" {
		return r.fallback
	}
	return dest
}

// Lines returns the routes in the file's form, one a line, sorted, the
// default last.
func (r *Routes) Lines() []string {
	if r == nil {
		return nil
	}
	var out []string
	for d, h := range r.next {
		out = append(out, d+" via "+h)
	}
	sort.Strings(out)
	if r.fallback != "" {
		out = append(out, "* via "+r.fallback)
	}
	return out
}

// ParseRoutes reads a routes file: one route a line, "DEST via HOP"
// (cables for DEST go first to the relay or station HOP) or "* via HOP"
// (every destination without a route of its own); '#' begins a comment.
// Every station named must be in dir, a destination is routed once, the
// next hop is never the destination itself (a direct route needs no
// line). Every problem is reported with its line number.
func ParseRoutes(text []byte, dir *Directory) (*Routes, error) {
	r := &Routes{next: map[string]string{}}
	var ps Problems
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		field := fmt.Sprintf("line %d", n)
		if len(f) != 3 || !strings.EqualFold(f[1], "via") {
			ps.Add(field, "want \"DEST via HOP\" or \"* via HOP\", not %q", strings.TrimSpace(line))
			continue
		}
		dest, hop := strings.ToUpper(f[0]), strings.ToUpper(f[2])
		ok := true
		if dest != "*" {
			if _, err := dir.Station(dest); err != nil {
				ps.Add(field, "destination %s is not in the station directory", dest)
				ok = false
			}
		}
		if _, err := dir.Station(hop); err != nil {
			ps.Add(field, "next hop %s is not in the station directory", hop)
			ok = false
		}
		if dest == hop {
			ps.Add(field, "%s routed via itself: a direct route needs no line", dest)
			ok = false
		}
		if dest == "*" {
			if r.fallback != "" {
				ps.Add(field, "a second default route (* via %s): the first says via %s", hop, r.fallback)
				ok = false
			}
		} else if prev, dup := r.next[dest]; dup {
			ps.Add(field, "a second route for %s (via %s): the first says via %s", dest, hop, prev)
			ok = false
		}
		if !ok {
			continue
		}
		if dest == "*" {
			r.fallback = hop
		} else {
			r.next[dest] = hop
		}
	}
	if err := sc.Err(); err != nil {
		ps.Add("routes", "%v", err)
	}
	if err := ps.Err("invalid routes"); err != nil {
		return nil, err
	}
	return r, nil
}

// DeliveryReceipt is what a receiving message centre sends back to the
// originating station once it has stored a cable: the time of receipt and
// the control number, signed by the receiving station.
type DeliveryReceipt struct {
	CableID       string    `json:"cable_id"`
	Origin        string    `json:"origin"`
	Station       string    `json:"station"`
	ReceivedAt    time.Time `json:"received_at"`
	ControlNumber string    `json:"control_number"`
}

const receiptHeader = "cable-receipt-v1"

// SignedBytes returns the exact bytes the receiving station signs.
func (r *DeliveryReceipt) SignedBytes() []byte {
	var b bytes.Buffer
	b.WriteString(receiptHeader + "\n")
	b.WriteString("id: " + r.CableID + "\n")
	b.WriteString("origin: " + r.Origin + "\n")
	b.WriteString("station: " + r.Station + "\n")
	b.WriteString("received: " + r.ReceivedAt.UTC().Format(time.RFC3339Nano) + "\n")
	b.WriteString("control: " + r.ControlNumber + "\n")
	return b.Bytes()
}

// MarshalReceipt returns the receipt's wire form: its signed bytes, then a
// line with the signature.
func MarshalReceipt(r *DeliveryReceipt, sig []byte) []byte {
	b := r.SignedBytes()
	return append(b, "signature: "+base64.StdEncoding.EncodeToString(sig)+"\n"...)
}

// ParseReceipt reads a receipt's wire form and returns the receipt, the
// bytes that were signed and the signature. Every problem is reported.
func ParseReceipt(b []byte) (*DeliveryReceipt, []byte, []byte, error) {
	var ps Problems
	if len(b) > 4096 {
		return nil, nil, nil, Invalid("invalid receipt", []Problem{{Field: "receipt", Message: fmt.Sprintf("%d bytes, more than a receipt's 4096", len(b))}})
	}
	i := bytes.LastIndex(b, []byte("\nsignature: "))
	if !bytes.HasPrefix(b, []byte(receiptHeader+"\n")) || i < 0 || !bytes.HasSuffix(b, []byte("\n")) {
		return nil, nil, nil, Invalid("invalid receipt", []Problem{{Field: "receipt", Message: "not a cable-receipt-v1 ending in a signature line"}})
	}
	signed, sigLine := b[:i+1], b[i+len("\nsignature: "):len(b)-1]
	sig, err := base64.StdEncoding.DecodeString(string(sigLine))
	if err != nil || len(sig) == 0 {
		ps.Add("signature", "not base64")
	}
	r := &DeliveryReceipt{}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(signed), "\n"), "\n")[1:] {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || seen[k] {
			ps.Add("receipt", "bad or repeated line %q", line)
			continue
		}
		seen[k] = true
		switch k {
		case "id":
			r.CableID = v
			if _, _, _, err := ParseIdentifier(v); err != nil {
				ps.Add("id", "%s", ErrorMessage(err))
			}
		case "origin":
			r.Origin = v
		case "station":
			r.Station = v
		case "received":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				ps.Add("received", "not an RFC 3339 time: %q", v)
			}
			r.ReceivedAt = t
		case "control":
			r.ControlNumber = v
		default:
			ps.Add("receipt", "unknown line %q", line)
		}
	}
	for _, k := range []string{"id", "origin", "station", "received", "control"} {
		if !seen[k] {
			ps.Add(k, "missing")
		}
	}
	for _, s := range []struct{ field, code string }{{"origin", r.Origin}, {"station", r.Station}} {
		if seen[s.field] && !ValidStationCode(s.code) {
			ps.Add(s.field, "%q is not a station code", s.code)
		}
	}
	if err := ps.Err("invalid receipt"); err != nil {
		return nil, nil, nil, err
	}
	return r, signed, sig, nil
}

// SignedReceipt is a receipt as it travels: the receipt, the bytes its
// station signed and the signature.
type SignedReceipt struct {
	Receipt   *DeliveryReceipt
	Signed    []byte
	Signature []byte
}

// maxReceiptBundle bounds a receipt transmission: the receipts of one
// receiving batch, at most a few hundred.
const maxReceiptBundle = 1 << 20

// ParseReceipts reads a receipt transmission: one or more receipts in
// their wire form, one after another, as a receiving centre sends back the
// receipts of a batch to their origin in one message. Every problem of
// every receipt is reported, each named by its place in the bundle.
func ParseReceipts(b []byte) ([]SignedReceipt, error) {
	if len(b) > maxReceiptBundle {
		return nil, Invalid("invalid receipts", []Problem{{Field: "receipts", Message: fmt.Sprintf("%d bytes, more than %d", len(b), maxReceiptBundle)}})
	}
	var out []SignedReceipt
	var ps Problems
	start := []byte(receiptHeader + "\n")
	for i := 0; len(b) > 0; i++ {
		n := bytes.Index(b[1:], append([]byte("\n"), start...))
		one := b
		if n >= 0 {
			one, b = b[:n+2], b[n+2:]
		} else {
			b = nil
		}
		r, signed, sig, err := ParseReceipt(one)
		if err != nil {
			for _, p := range ErrorProblems(err) {
				ps.Add(fmt.Sprintf("receipts[%d].%s", i, p.Field), "%s", p.Message)
			}
			continue
		}
		out = append(out, SignedReceipt{Receipt: r, Signed: signed, Signature: sig})
	}
	if len(out) == 0 && len(ps) == 0 {
		ps.Add("receipts", "none")
	}
	if err := ps.Err("invalid receipts"); err != nil {
		return nil, err
	}
	return out, nil
}

// Opened is a sealed cable (or section) opened by its addressee: the text
// and the identifier and origin its signature covers.
type Opened struct {
	CableID string
	Origin  string
	Text    []byte
}

// Sealer signs and encrypts what a station sends and verifies and
// decrypts what it receives, with the keys of the stations a node hosts
// and the public identities its operators trust.
type Sealer interface {
	// CanSeal reports, with an EINVALID naming the station, whether origin
	// can seal to recipient: origin's keys are here, recipient is trusted.
	CanSeal(origin, recipient string) error
	// Seal signs text as origin and encrypts it to the recipients,
	// returning the sealed bytes a relay carries without reading.
	Seal(origin, cableID string, text []byte, recipients []string) ([]byte, error)
	// Open verifies and decrypts sealed bytes addressed to station. Unknown
	// station, bad signature, altered bytes: EFORBIDDEN.
	Open(station string, sealed []byte) (*Opened, error)
	// Sign signs msg as station.
	Sign(station string, msg []byte) ([]byte, error)
	// Verify checks that station signed msg; EFORBIDDEN otherwise.
	Verify(station string, msg, sig []byte) error
}

// Forwarder is a transport that carries transmissions hop by hop.
type Forwarder interface {
	// Forward takes each transmission in custody at station and not
	// addressed to it and hands it to the next hop by the routes, most
	// urgent first, letting it go only once the next hop has custody. It
	// reads only the envelope. After each batch it calls h with the
	// transmissions forwarded (Hop set to the station that took them) and
	// those refused (Refused set: malformed envelope, routing loop), so
	// the centre can follow its own cables and record the refusals; an
	// error from h is logged, custody has passed already. It blocks until
	// ctx is done.
	Forward(ctx context.Context, station string, h func(context.Context, []*Transmission) error) error
}

// ErrNotYetTrusted is what a Sealer's Open wraps when a trusted station
// sealed under a key generation not trusted here yet: it has rotated its
// keys and the operators have not finished exchanging the new identity.
// The receiver keeps such a cable in custody and tries again, rather than
// refusing it, so that a rotation loses no cable in flight.
var ErrNotYetTrusted = &Error{Code: EFORBIDDEN, Message: "Sealed under a key generation of a known station that is not trusted here yet."}
