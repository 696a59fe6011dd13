package cable

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strconv"
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
	if len(b) > maxReceipt {
		return nil, nil, nil, Invalid("invalid receipt", []Problem{{Field: "receipt", Message: fmt.Sprintf("%d bytes, more than a receipt's %d", len(b), maxReceipt)}})
	}
	i := bytes.LastIndex(b, []byte("\nsignature: "))
	if !bytes.HasPrefix(b, []byte(receiptHeader+"\n")) || i < 0 || !bytes.HasSuffix(b, []byte("\n")) {
		return nil, nil, nil, Invalid("invalid receipt", []Problem{{Field: "receipt", Message: "not a cable-receipt-v1 ending in a signature line"}})
	}
	signed, sig := b[:i+1], parseSignature(b[i+1:], "", &ps)
	r := parseReceiptFields(signed, "", &ps)
	if err := ps.Err("invalid receipt"); err != nil {
		return nil, nil, nil, err
	}
	return r, signed, sig, nil
}

// parseSignature reads a "signature: <base64>\n" line.
func parseSignature(line []byte, prefix string, ps *Problems) []byte {
	v := strings.TrimSuffix(strings.TrimPrefix(string(line), "signature: "), "\n")
	// Strict decoding still skips line breaks: one line, as written.
	sig, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil || len(sig) == 0 || strings.ContainsAny(v, "\r\n") {
		ps.Add(prefix+"signature", "not base64")
	}
	return sig
}

// parseReceiptFields reads one receipt's signed lines (its header first),
// adding every problem to ps with prefix before the field's name.
func parseReceiptFields(signed []byte, prefix string, ps *Problems) *DeliveryReceipt {
	r := &DeliveryReceipt{}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(signed), "\n"), "\n")[1:] {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || seen[k] {
			ps.Add(prefix+"receipt", "bad or repeated line %q", line)
			continue
		}
		seen[k] = true
		switch k {
		case "id":
			r.CableID = v
			if _, _, _, err := ParseIdentifier(v); err != nil {
				ps.Add(prefix+"id", "%s", ErrorMessage(err))
			}
		case "origin":
			r.Origin = v
		case "station":
			r.Station = v
		case "received":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				ps.Add(prefix+"received", "not an RFC 3339 time: %q", v)
			}
			if err == nil && t.IsZero() {
				ps.Add(prefix+"received", "the zero time")
			}
			r.ReceivedAt = t
		case "control":
			r.ControlNumber = v
			if strings.TrimSpace(v) == "" {
				ps.Add(prefix+"control", "empty")
			}
		default:
			ps.Add(prefix+"receipt", "unknown line %q", line)
		}
	}
	for _, k := range []string{"id", "origin", "station", "received", "control"} {
		if !seen[k] {
			ps.Add(prefix+k, "missing")
		}
	}
	for _, s := range []struct{ field, code string }{{"origin", r.Origin}, {"station", r.Station}} {
		if seen[s.field] && !ValidStationCode(s.code) {
			ps.Add(prefix+s.field, "%q is not a station code", s.code)
		}
	}
	return r
}

// SignedReceipts are receipts as they travel: one or more receipts of one
// receiving station to one originating station, the bytes the receiving
// station signed and its one signature over them.
type SignedReceipts struct {
	Receipts  []*DeliveryReceipt
	Signed    []byte
	Signature []byte
}

// MaxReceiptBundle bounds a receipt transmission: the receipts of one
// receiving batch, at most a few hundred.
const MaxReceiptBundle = 1 << 20

// maxReceiptProblems bounds the problems reported of one receipt
// transmission: hostile input must not become a security event of
// megabytes.
const maxReceiptProblems = 20

// maxReceipt bounds one receipt in its wire form.
const maxReceipt = 4096

const receiptsHeader = "cable-receipts-v1"

// ReceiptsSignedBytes returns the exact bytes the receiving station signs
// for a bundle of its receipts to one origin: a header naming both
// stations and the count, then each receipt's signed bytes. Every receipt
// must be from station to origin.
func ReceiptsSignedBytes(station, origin string, rs []*DeliveryReceipt) []byte {
	var b bytes.Buffer
	b.WriteString(receiptsHeader + "\n")
	b.WriteString("station: " + station + "\n")
	b.WriteString("origin: " + origin + "\n")
	b.WriteString("count: " + strconv.Itoa(len(rs)) + "\n")
	for _, r := range rs {
		b.Write(r.SignedBytes())
	}
	return b.Bytes()
}

// MarshalReceipts returns a bundle's wire form: its signed bytes
// (ReceiptsSignedBytes), then a line with the signature.
func MarshalReceipts(signed, sig []byte) []byte {
	return append(slices.Clip(signed), "signature: "+base64.StdEncoding.EncodeToString(sig)+"\n"...)
}

// ParseReceipts reads a receipt transmission: a bundle of receipts under
// one signature (MarshalReceipts), or, as stations sent them before
// bundles, receipts each with its own signature (MarshalReceipt) one after
// another. Every problem of every receipt is reported, each named by its
// place in the transmission.
func ParseReceipts(b []byte) ([]SignedReceipts, error) {
	if len(b) > MaxReceiptBundle {
		return nil, Invalid("invalid receipts", []Problem{{Field: "receipts", Message: fmt.Sprintf("%d bytes, more than %d", len(b), MaxReceiptBundle)}})
	}
	if bytes.HasPrefix(b, []byte(receiptsHeader+"\n")) {
		sr, err := parseReceiptBundle(b)
		if err != nil {
			return nil, err
		}
		return []SignedReceipts{*sr}, nil
	}
	var out []SignedReceipts
	var ps Problems
	for i := 0; len(b) > 0; i++ {
		var one []byte
		one, b = cutReceipt(b)
		if len(ps) >= maxReceiptProblems {
			ps.Add("receipts", "more problems not listed")
			break
		}
		r, signed, sig, err := ParseReceipt(one)
		if err != nil {
			for _, p := range ErrorProblems(err) {
				ps.Add(fmt.Sprintf("receipts[%d].%s", i, p.Field), "%s", p.Message)
			}
			continue
		}
		out = append(out, SignedReceipts{Receipts: []*DeliveryReceipt{r}, Signed: signed, Signature: sig})
	}
	if len(out) == 0 && len(ps) == 0 {
		ps.Add("receipts", "none")
	}
	if err := ps.Err("invalid receipts"); err != nil {
		return nil, err
	}
	return out, nil
}

// cutReceipt cuts b, receipts one after another, before the header of
// the second: the first receipt, and the rest.
func cutReceipt(b []byte) (one, rest []byte) {
	if n := bytes.Index(b[1:], []byte("\n"+receiptHeader+"\n")); n >= 0 {
		return b[:n+2], b[n+2:]
	}
	return b, nil
}

// parseReceiptBundle reads a bundle written by MarshalReceipts: only
// that form, byte for byte (ReceiptsSignedBytes of what it reads), so that
// what is verified is what is recorded.
func parseReceiptBundle(b []byte) (*SignedReceipts, error) {
	var ps Problems
	i := bytes.LastIndex(b, []byte("\nsignature: "))
	if i < 0 || !bytes.HasSuffix(b, []byte("\n")) {
		return nil, Invalid("invalid receipts", []Problem{{Field: "receipts", Message: "not a cable-receipts-v1 ending in a signature line"}})
	}
	out := &SignedReceipts{Signed: b[:i+1], Signature: parseSignature(b[i+1:], "", &ps)}
	body := out.Signed[len(receiptsHeader)+1:]
	head := map[string]string{}
	for _, k := range []string{"station", "origin", "count"} {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		v, ok := strings.CutPrefix(string(line), k+": ")
		if !ok {
			ps.Add(k, "missing: the bundle's header is station, origin and count, in that order")
			continue
		}
		head[k], body = v, rest
	}
	for _, k := range []string{"station", "origin"} {
		if v, ok := head[k]; ok && !ValidStationCode(v) {
			ps.Add(k, "%q is not a station code", v)
		}
	}
	count, err := strconv.Atoi(head["count"])
	if _, ok := head["count"]; ok && (err != nil || count < 1) {
		ps.Add("count", "%q is not a whole number of receipts", head["count"])
	}
	if len(body) > 0 && !bytes.HasPrefix(body, []byte(receiptHeader+"\n")) {
		ps.Add("receipts", "not a cable-receipt-v1 after the header")
		body = nil
	}
	for n := 0; len(body) > 0; n++ {
		if len(ps) >= maxReceiptProblems {
			ps.Add("receipts", "more problems not listed")
			return nil, ps.Err("invalid receipts")
		}
		var one []byte
		one, body = cutReceipt(body)
		prefix := fmt.Sprintf("receipts[%d].", n)
		if len(one) > maxReceipt {
			ps.Add(prefix+"receipt", "%d bytes, more than a receipt's %d", len(one), maxReceipt)
			continue
		}
		r := parseReceiptFields(one, prefix, &ps)
		if r.Station != head["station"] || r.Origin != head["origin"] {
			ps.Add(prefix+"station", "from %s to %s in a bundle from %s to %s", r.Station, r.Origin, head["station"], head["origin"])
		}
		out.Receipts = append(out.Receipts, r)
	}
	if len(out.Receipts) != count && err == nil {
		ps.Add("count", "says %d receipts, the bundle holds %d", count, len(out.Receipts))
	}
	if len(ps) == 0 && !bytes.Equal(out.Signed, ReceiptsSignedBytes(head["station"], head["origin"], out.Receipts)) {
		ps.Add("receipts", "not in the form a station writes them (fields out of order, a time not in UTC, or the like)")
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
	// station, bad signature, altered bytes: EFORBIDDEN. Sealed under a
	// key generation not trusted yet: ErrNotYetTrusted, with the sealed
	// envelope's cable identifier and origin (no text), so that the caller
	// can check them before it holds the cable for later.
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

// RotationGrace is the time a key rotation is given, from the new key
// generation's making: the old generation still verifies for that long
// (what was sealed under it may still be in flight, behind a link down for
// days), and a cable under the new one waits that long for the operators
// to exchange and trust it. Long enough for an exchange by courier; short
// enough that a key stolen and then rotated away soon stops working.
const RotationGrace = 7 * 24 * time.Hour

// ErrNotYetTrusted is what a Sealer's Open wraps when a trusted station
// sealed under a key generation not trusted here yet: it has rotated its
// keys and the operators have not finished exchanging the new identity.
// The receiver keeps such a cable in custody and tries again, rather than
// refusing it, so that a rotation loses no cable in flight.
var ErrNotYetTrusted = &Error{Code: EFORBIDDEN, Message: "Sealed under a key generation of a known station that is not trusted here yet."}
