// Package seal signs and encrypts cables end to end between stations.
//
// Each station holds an Ed25519 signing key and an age X25519 encryption key,
// numbered by generation. The originating station signs a cable's canonical
// text and encrypts text and signature to every addressed station in one age
// ciphertext (its recipient stanzas share an X25519 key agreement across
// the cables of a few seconds: see session.go); relays see only the envelope (identifier, origin, generation,
// recipients, size). Stations trust each other only through an operator who
// exports one station's public identity and trusts it at another: there is no
// trust on first use.
//
// Replay protection is not done here: a sealed cable opens as often as it is
// presented. The receiver deduplicates by cable identifier (the records
// store keeps each identifier once), and Open binds the identifier inside
// the signature so a relay cannot pass an old cable off under a new one.
package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	cable "github.com/cable-archive/cable"
)

// Text form headers and domain-separation prefixes. Each signed byte string
// starts with its own prefix so a signature made for one purpose can never be
// replayed as another.
const (
	publicHeader   = "cable-public-identity-v1"
	privateHeader  = "cable-private-identity-v1"
	identityPrefix = "cable-identity-v1\n"
	sealPrefix     = "cable-seal-v1\n"
)

// Identity is one generation of a station's own key pair. It holds private
// keys: it never leaves the station's key directory.
type Identity struct {
	Station    string
	Generation int
	// SigningKey signs the cables the station originates.
	SigningKey ed25519.PrivateKey
	// EncryptionKey decrypts cables sealed to the station.
	EncryptionKey *age.X25519Identity
	CreatedAt     time.Time
}

// Public returns the public half of the identity.
func (id *Identity) Public() PublicIdentity {
	p := PublicIdentity{
		Station:    id.Station,
		Generation: id.Generation,
		SigningKey: id.SigningKey.Public().(ed25519.PublicKey),
		Recipient:  id.EncryptionKey.Recipient().String(),
		CreatedAt:  id.CreatedAt,
	}
	p.SelfSignature = ed25519.Sign(id.SigningKey, p.signedBytes())
	return p
}

// newIdentity generates a fresh identity for station at generation gen.
func newIdentity(station string, gen int, now time.Time) (*Identity, error) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, cable.Errorf(cable.EINTERNAL, "generate signing key: %v", err)
	}
	enc, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, cable.Errorf(cable.EINTERNAL, "generate encryption key: %v", err)
	}
	return &Identity{
		Station:       station,
		Generation:    gen,
		SigningKey:    priv,
		EncryptionKey: enc,
		CreatedAt:     now.UTC().Truncate(time.Second),
	}, nil
}

// PublicIdentity is what a station gives other stations: its code, key
// generation, public signing key and age recipient. Its text form (Marshal)
// carries a self-signature by the signing key over the other fields.
type PublicIdentity struct {
	Station    string
	Generation int
	SigningKey ed25519.PublicKey
	// Recipient is the age X25519 recipient, "age1...".
	Recipient string
	CreatedAt time.Time
	// SelfSignature is the signing key's Ed25519 signature over the other
	// fields (see signedBytes); Identity.Public and ParsePublicIdentity set it.
	SelfSignature []byte
}

// signedBytes returns the exact bytes the self-signature covers.
func (p PublicIdentity) signedBytes() []byte {
	var b bytes.Buffer
	b.WriteString(identityPrefix)
	b.WriteString("station: " + p.Station + "\n")
	b.WriteString("generation: " + strconv.Itoa(p.Generation) + "\n")
	b.WriteString("signing-key: " + base64.StdEncoding.EncodeToString(p.SigningKey) + "\n")
	b.WriteString("recipient: " + p.Recipient + "\n")
	b.WriteString("created-at: " + p.CreatedAt.UTC().Format(time.RFC3339) + "\n")
	return b.Bytes()
}

// Fingerprint returns a short digest of the identity for operators to compare
// over a second channel (telephone, courier) before trusting an exported file.
func (p PublicIdentity) Fingerprint() string {
	sum := sha256.Sum256(p.signedBytes())
	h := strings.ToUpper(hex.EncodeToString(sum[:16]))
	parts := make([]string, 0, 8)
	for i := 0; i < len(h); i += 4 {
		parts = append(parts, h[i:i+4])
	}
	return strings.Join(parts, " ")
}

// Equal reports whether p and q are the same identity.
func (p PublicIdentity) Equal(q PublicIdentity) bool {
	return p.Station == q.Station && p.Generation == q.Generation &&
		p.SigningKey.Equal(q.SigningKey) && p.Recipient == q.Recipient &&
		p.CreatedAt.Equal(q.CreatedAt)
}

// Marshal returns the exchange form of the identity: three comment lines
// naming the station and fingerprint, then "key: value" lines ending with the
// self-signature. ParsePublicIdentity reads it back.
func (p PublicIdentity) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("# Public identity of station " + p.Station + ", key generation " + strconv.Itoa(p.Generation) + ".\n")
	b.WriteString("# Fingerprint: " + p.Fingerprint() + "\n")
	b.WriteString("# Confirm the fingerprint with the station's operator before trusting this file.\n")
	b.WriteString(publicHeader + "\n")
	b.WriteString("station: " + p.Station + "\n")
	b.WriteString("generation: " + strconv.Itoa(p.Generation) + "\n")
	b.WriteString("signing-key: " + base64.StdEncoding.EncodeToString(p.SigningKey) + "\n")
	b.WriteString("recipient: " + p.Recipient + "\n")
	b.WriteString("created-at: " + p.CreatedAt.UTC().Format(time.RFC3339) + "\n")
	b.WriteString("self-signature: " + base64.StdEncoding.EncodeToString(p.SelfSignature) + "\n")
	return b.Bytes()
}

// ParsePublicIdentity parses an exported public identity and verifies its
// self-signature. Lines starting with '#' and blank lines are ignored. A
// malformed file is refused with an EINVALID error naming every problem; a
// well-formed file whose self-signature does not verify (a tampered file) is
// refused with ErrBadSelfSignature.
func ParsePublicIdentity(b []byte) (*PublicIdentity, error) {
	kv, ps := parseFields(b, publicHeader, []string{"station", "generation", "signing-key", "recipient", "created-at", "self-signature"})
	p := &PublicIdentity{}
	p.Station = parseStation(kv, &ps)
	p.Generation = parseGeneration(kv, &ps)
	if v, ok := kv["signing-key"]; ok {
		k, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil || len(k) != ed25519.PublicKeySize {
			ps.Add("signing-key", "must be a base64 Ed25519 public key of %d bytes", ed25519.PublicKeySize)
		} else {
			p.SigningKey = ed25519.PublicKey(k)
		}
	}
	if v, ok := kv["recipient"]; ok {
		r, err := age.ParseX25519Recipient(v)
		if err != nil {
			ps.Add("recipient", "must be an age X25519 recipient (age1...): %v", err)
		} else {
			p.Recipient = r.String()
		}
	}
	p.CreatedAt = parseTime(kv, "created-at", &ps)
	var sig []byte
	if v, ok := kv["self-signature"]; ok {
		s, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil || len(s) != ed25519.SignatureSize {
			ps.Add("self-signature", "must be a base64 Ed25519 signature of %d bytes", ed25519.SignatureSize)
		} else {
			sig = s
		}
	}
	if err := ps.Err("malformed public identity"); err != nil {
		return nil, err
	}
	if !ed25519.Verify(p.SigningKey, p.signedBytes(), sig) {
		return nil, ErrBadSelfSignature
	}
	p.SelfSignature = sig
	if err := p.checkComments(b); err != nil {
		return nil, err
	}
	return p, nil
}

// checkComments refuses a file whose comment lines, which Marshal writes
// for the operator to read, say other than its key: the operators confirm
// the fingerprint by reading it from the file, and a file swapped on its
// way could otherwise carry another key under the genuine fingerprint.
func (p *PublicIdentity) checkComments(b []byte) error {
	title := "# Public identity of station " + p.Station + ", key generation " + strconv.Itoa(p.Generation) + "."
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " \t\r")
		switch {
		case strings.HasPrefix(line, "# Fingerprint:"):
			if got := strings.TrimSpace(strings.TrimPrefix(line, "# Fingerprint:")); got != p.Fingerprint() {
				return fmt.Errorf("the file says fingerprint %q, its key's is %q: %w", got, p.Fingerprint(), ErrCommentMismatch)
			}
		case strings.HasPrefix(line, "# Public identity of station "):
			if line != title {
				return fmt.Errorf("the file says %q, its key is station %s generation %d: %w", strings.TrimPrefix(line, "# "), p.Station, p.Generation, ErrCommentMismatch)
			}
		}
	}
	return nil
}

// parseFields reads a "key: value" block that starts with header. Every key
// in want must appear exactly once and no other key may appear.
func parseFields(b []byte, header string, want []string) (map[string]string, cable.Problems) {
	var ps cable.Problems
	kv := map[string]string{}
	allowed := map[string]bool{}
	for _, k := range want {
		allowed[k] = true
	}
	sawHeader := false
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !sawHeader {
			if line != header {
				ps.Add("header", "first line must be %q", header)
				return kv, ps
			}
			sawHeader = true
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			ps.Add("line "+strconv.Itoa(n+1), "want \"key: value\"")
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !allowed[k]:
			ps.Add(safeField(k), "unknown field")
		case hasKey(kv, k):
			ps.Add(k, "appears more than once")
		default:
			kv[k] = v
		}
	}
	if !sawHeader {
		ps.Add("header", "first line must be %q", header)
		return kv, ps
	}
	for _, k := range want {
		if _, ok := kv[k]; !ok {
			ps.Add(k, "missing")
		}
	}
	return kv, ps
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// safeField bounds the length of a field name echoed back in a problem.
func safeField(k string) string {
	if len(k) > 40 {
		return strconv.Quote(k[:40]) + "..."
	}
	return strconv.Quote(k)
}

func parseStation(kv map[string]string, ps *cable.Problems) string {
	v, ok := kv["station"]
	if !ok {
		return ""
	}
	if !cable.ValidStationCode(v) {
		ps.Add("station", "station code must be 2-20 upper-case letters")
		return ""
	}
	return v
}

func parseGeneration(kv map[string]string, ps *cable.Problems) int {
	v, ok := kv["generation"]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 9999 || strconv.Itoa(n) != v {
		ps.Add("generation", "must be a whole number from 1 to 9999")
		return 0
	}
	return n
}

func parseTime(kv map[string]string, key string, ps *cable.Problems) time.Time {
	v, ok := kv[key]
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || !strings.HasSuffix(v, "Z") || t.Format(time.RFC3339) != v {
		ps.Add(key, "must be an RFC 3339 UTC time to the second (2026-01-02T15:04:05Z)")
		return time.Time{}
	}
	return t
}

// marshalPrivate renders an identity's private key file.
func (id *Identity) marshalPrivate() []byte {
	var b bytes.Buffer
	b.WriteString("# Private keys of station " + id.Station + ", generation " + strconv.Itoa(id.Generation) + ". Keep secret.\n")
	b.WriteString(privateHeader + "\n")
	b.WriteString("station: " + id.Station + "\n")
	b.WriteString("generation: " + strconv.Itoa(id.Generation) + "\n")
	b.WriteString("created-at: " + id.CreatedAt.UTC().Format(time.RFC3339) + "\n")
	b.WriteString("signing-key: " + base64.StdEncoding.EncodeToString(id.SigningKey.Seed()) + "\n")
	b.WriteString("encryption-key: " + id.EncryptionKey.String() + "\n")
	return b.Bytes()
}

// parsePrivate parses a private key file.
func parsePrivate(b []byte) (*Identity, error) {
	kv, ps := parseFields(b, privateHeader, []string{"station", "generation", "created-at", "signing-key", "encryption-key"})
	id := &Identity{}
	id.Station = parseStation(kv, &ps)
	id.Generation = parseGeneration(kv, &ps)
	id.CreatedAt = parseTime(kv, "created-at", &ps)
	if v, ok := kv["signing-key"]; ok {
		seed, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil || len(seed) != ed25519.SeedSize {
			ps.Add("signing-key", "must be a base64 Ed25519 seed of %d bytes", ed25519.SeedSize)
		} else {
			id.SigningKey = ed25519.NewKeyFromSeed(seed)
		}
	}
	if v, ok := kv["encryption-key"]; ok {
		enc, err := age.ParseX25519Identity(v)
		if err != nil {
			ps.Add("encryption-key", "must be an age secret key (AGE-SECRET-KEY-1...)")
		} else {
			id.EncryptionKey = enc
		}
	}
	if err := ps.Err("malformed private key file"); err != nil {
		return nil, err
	}
	return id, nil
}
