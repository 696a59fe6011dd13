package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	cable "github.com/cable-archive/cable"
)

const (
	sealedHeader  = "cable-sealed-v1"
	contentHeader = "cable-sealed-content-v1"
	// maxEnvelope bounds the envelope header so a hostile input cannot make
	// UnmarshalSealed scan a large body for the end of the header.
	maxEnvelope = 8 << 10
	// maxRecipients bounds the recipient list of one cable.
	maxRecipients = 200
)

// Sealed is a signed and encrypted cable. The envelope fields are in the
// clear for relays to route and account by; the text, its signature and the
// signed copy of the envelope are inside Ciphertext.
type Sealed struct {
	CableID    string
	Origin     string
	Generation int      // origin's key generation that signed it
	Recipients []string // station codes, sorted, each once
	Size       int      // len(Ciphertext)
	Ciphertext []byte   // age ciphertext, one for all recipients
}

// signedBytes returns the exact bytes the origin signs: a domain-separation
// prefix, the cable identifier, origin, key generation, sorted recipients and
// the SHA-256 of the text.
func signedBytes(cableID, origin string, gen int, recipients []string, textSum []byte) []byte {
	var b bytes.Buffer
	b.WriteString(sealPrefix)
	b.WriteString("id: " + cableID + "\n")
	b.WriteString("origin: " + origin + "\n")
	b.WriteString("generation: " + strconv.Itoa(gen) + "\n")
	b.WriteString("recipients: " + strings.Join(recipients, " ") + "\n")
	b.WriteString("sha256: " + hex.EncodeToString(textSum) + "\n")
	return b.Bytes()
}

// Seal signs text (a cable's canonical text) with the station's current
// signing key and encrypts it to the current key of every recipient station.
// The cable identifier must be one this station originates.
func (k *Keyring) Seal(text []byte, cableID string, recipients []string) (*Sealed, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var ps cable.Problems
	if len(text) == 0 {
		ps.Add("text", "is empty")
	}
	if _, st, _, err := cable.ParseIdentifier(cableID); err != nil {
		ps.Add("cable_id", "%s", cable.ErrorMessage(err))
	} else if st != k.station {
		ps.Add("cable_id", "%s was not originated by this station (%s)", cableID, k.station)
	}
	rcpts := normalizeRecipients(recipients)
	if len(rcpts) == 0 {
		ps.Add("recipients", "name at least one station")
	} else if len(rcpts) > maxRecipients {
		ps.Add("recipients", "at most %d stations", maxRecipients)
	}
	var ageRcpts []age.Recipient
	for _, st := range rcpts {
		if !cable.ValidStationCode(st) {
			ps.Add("recipients", "station code %q must be 2-20 upper-case letters", st)
			continue
		}
		var r string
		if st == k.station {
			r = k.current().EncryptionKey.Recipient().String()
		} else if p := k.peerCurrent(st); p != nil {
			r = p.Recipient
		} else {
			ps.Add("recipients", "station %s is not trusted here (no public identity)", st)
			continue
		}
		ar, err := k.sessions.recipient(r, time.Now())
		if err != nil {
			return nil, cable.Errorf(cable.EINTERNAL, "recipient key of %s: %v", st, err)
		}
		ageRcpts = append(ageRcpts, ar)
	}
	if err := ps.Err("cannot seal cable"); err != nil {
		return nil, err
	}

	id := k.current()
	sum := sha256.Sum256(text)
	sig := ed25519.Sign(id.SigningKey, signedBytes(cableID, k.station, id.Generation, rcpts, sum[:]))

	var plain bytes.Buffer
	plain.Grow(len(text) + 512)
	plain.WriteString(contentHeader + "\n")
	plain.WriteString("id: " + cableID + "\n")
	plain.WriteString("origin: " + k.station + "\n")
	plain.WriteString("generation: " + strconv.Itoa(id.Generation) + "\n")
	plain.WriteString("recipients: " + strings.Join(rcpts, " ") + "\n")
	plain.WriteString("signature: " + base64.StdEncoding.EncodeToString(sig) + "\n\n")
	plain.Write(text)

	var ct bytes.Buffer
	ct.Grow(plain.Len() + 512)
	w, err := age.Encrypt(&ct, ageRcpts...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(plain.Bytes()); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return &Sealed{
		CableID:    cableID,
		Origin:     k.station,
		Generation: id.Generation,
		Recipients: rcpts,
		Size:       ct.Len(),
		Ciphertext: ct.Bytes(),
	}, nil
}

func normalizeRecipients(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, strings.TrimSpace(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Open decrypts a sealed cable with any generation of this station's keys,
// verifies the origin's signature with its trusted key of the stated
// generation, checks the envelope against what was signed and returns the
// text. Each refusal wraps one of the Err values of this package.
func (k *Keyring) Open(s *Sealed) (text []byte, err error) {
	if s == nil {
		return nil, cable.Errorf(cable.EINVALID, "no sealed cable")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if !slices.Contains(s.Recipients, k.station) {
		return nil, fmt.Errorf("cable %s is addressed to %s, not %s: %w", s.CableID, strings.Join(s.Recipients, " "), k.station, ErrNotAddressed)
	}
	// A generation not trusted yet is reported only once the envelope is
	// known to match what was signed: a relay that rewrites the envelope's
	// generation is refused at once, not held for the identity to come.
	verifyKey, keyErr := k.signingKey(s.Origin, s.Generation)
	if keyErr != nil && !errors.Is(keyErr, ErrUntrustedGeneration) {
		return nil, fmt.Errorf("cable %s: %w", s.CableID, keyErr)
	}

	ids := make([]age.Identity, 0, len(k.own))
	for i := len(k.own) - 1; i >= 0; i-- {
		ids = append(ids, k.sessions.identity(k.own[i].EncryptionKey))
	}
	// Read at an offset, age authenticates the last chunk first and so
	// knows the plain text's size: it is read into one buffer of that
	// size. Its streaming reader holds two 64 KiB buffers whatever the
	// size, and a cable is mostly a few kilobytes: decrypting made most of
	// the receiving node's garbage.
	r, size, err := age.DecryptReaderAt(bytes.NewReader(s.Ciphertext), int64(len(s.Ciphertext)), ids...)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, fmt.Errorf("cable %s: no key generation of %s opens it: %w", s.CableID, k.station, ErrNotAddressed)
	} else if err != nil {
		return nil, fmt.Errorf("cable %s: %v: %w", s.CableID, err, ErrAltered)
	}
	plain := make([]byte, size)
	if n, err := r.ReadAt(plain, 0); n != len(plain) || (err != nil && err != io.EOF) {
		return nil, fmt.Errorf("cable %s: %d of %d bytes decrypted: %v: %w", s.CableID, n, len(plain), err, ErrAltered)
	}

	c, err := parseContent(plain)
	if err != nil {
		return nil, fmt.Errorf("cable %s: %v: %w", s.CableID, err, ErrAltered)
	}
	if c.origin != s.Origin || c.generation != s.Generation || !slices.Equal(c.recipients, s.Recipients) {
		return nil, fmt.Errorf("cable %s: signed origin %s generation %d to %s: %w",
			s.CableID, c.origin, c.generation, strings.Join(c.recipients, " "), ErrEnvelopeMismatch)
	}
	// Before the generation is reported: a relay that relabels a cable
	// sealed under a generation not trusted yet must not have it held.
	if c.cableID != s.CableID {
		return nil, fmt.Errorf("envelope says %s, the sealed content %s: %w", s.CableID, c.cableID, ErrCableIDMismatch)
	}
	if keyErr != nil {
		return nil, fmt.Errorf("cable %s: %w", s.CableID, keyErr)
	}
	sum := sha256.Sum256(c.text)
	if !ed25519.Verify(verifyKey, signedBytes(c.cableID, c.origin, c.generation, c.recipients, sum[:]), c.signature) {
		return nil, fmt.Errorf("cable %s from %s generation %d: %w", s.CableID, s.Origin, s.Generation, ErrBadSignature)
	}
	return c.text, nil
}

// MaxGenerationsAhead is how far past the newest trusted key generation of
// a station a cable may name one and wait for its identity to be trusted
// (the station rotated and the operators are exchanging the new identity).
// A generation further ahead, or an older one not held, is refused.
const MaxGenerationsAhead = 3

// signingKey returns the trusted public signing key of station's generation.
func (k *Keyring) signingKey(station string, gen int) (ed25519.PublicKey, error) {
	if station == k.station {
		newest := 0
		for _, id := range k.own {
			if id.Generation == gen {
				return id.SigningKey.Public().(ed25519.PublicKey), nil
			}
			newest = max(newest, id.Generation)
		}
		return nil, generationError("own", gen, newest)
	}
	gens := k.peers[station]
	if len(gens) == 0 {
		return nil, fmt.Errorf("station %s: %w", station, ErrUnknownStation)
	}
	p := gens[gen]
	if p == nil {
		return nil, generationError("station "+station, gen, slices.Max(slices.Collect(maps.Keys(gens))))
	}
	// A generation replaced by a newer one trusted here verifies what was
	// in flight for SupersededGrace after the newer one was made, then no
	// more: a key stolen and then rotated away must stop working.
	var next *PublicIdentity
	for g, q := range gens {
		if g > gen && (next == nil || g < next.Generation) {
			next = q
		}
	}
	if next != nil {
		if retired := next.CreatedAt.Add(SupersededGrace); k.Now().After(retired) {
			return nil, fmt.Errorf("station %s generation %d, replaced by generation %d made %s, retired %s: %w", station, gen,
				next.Generation, next.CreatedAt.UTC().Format(time.RFC3339), retired.UTC().Format(time.RFC3339), ErrRetiredGeneration)
		}
	}
	return p.SigningKey, nil
}

// SupersededGrace is how long after a station makes a new key generation
// its older ones still verify here (cable.RotationGrace).
const SupersededGrace = cable.RotationGrace

// generationError says why generation gen of whose, not held, is refused:
// not trusted yet if it may still come, unknown if not.
func generationError(whose string, gen, newest int) error {
	if gen > newest && gen <= newest+MaxGenerationsAhead {
		return fmt.Errorf("%s generation %d (newest trusted %d): %w", whose, gen, newest, ErrUntrustedGeneration)
	}
	return fmt.Errorf("%s generation %d (newest trusted %d): %w", whose, gen, newest, ErrUnknownGeneration)
}

type content struct {
	cableID    string
	origin     string
	generation int
	recipients []string
	signature  []byte
	text       []byte
}

// parseContent parses the decrypted content: a header, a blank line, the text.
func parseContent(b []byte) (*content, error) {
	i := bytes.Index(b, []byte("\n\n"))
	if i < 0 || i > maxEnvelope {
		return nil, errors.New("no content header")
	}
	kv, ps := parseFields(b[:i+1], contentHeader, []string{"id", "origin", "generation", "recipients", "signature"})
	c := &content{text: b[i+2:], cableID: kv["id"], origin: kv["origin"], recipients: strings.Fields(kv["recipients"])}
	c.generation = parseGeneration(kv, &ps)
	sig, err := base64.StdEncoding.Strict().DecodeString(kv["signature"])
	if err != nil || len(sig) != ed25519.SignatureSize {
		ps.Add("signature", "must be a base64 Ed25519 signature")
	}
	c.signature = sig
	if err := ps.Err("malformed sealed content"); err != nil {
		return nil, err
	}
	return c, nil
}

// validate checks the envelope's form.
func (s *Sealed) validate() error {
	var ps cable.Problems
	if _, st, _, err := cable.ParseIdentifier(s.CableID); err != nil {
		ps.Add("id", "%s", cable.ErrorMessage(err))
	} else if st != s.Origin {
		ps.Add("id", "%s was not originated by %s", s.CableID, s.Origin)
	}
	if !cable.ValidStationCode(s.Origin) {
		ps.Add("origin", "station code must be 2-20 upper-case letters")
	}
	if s.Generation < 1 || s.Generation > 9999 {
		ps.Add("generation", "must be a whole number from 1 to 9999")
	}
	if len(s.Recipients) == 0 || len(s.Recipients) > maxRecipients {
		ps.Add("recipients", "must name 1 to %d stations", maxRecipients)
	}
	for i, r := range s.Recipients {
		if !cable.ValidStationCode(r) {
			ps.Add("recipients", "station code %q must be 2-20 upper-case letters", r)
		} else if i > 0 && r <= s.Recipients[i-1] {
			ps.Add("recipients", "must be sorted, each once")
		}
	}
	if s.Size != len(s.Ciphertext) {
		ps.Add("size", "says %d bytes, ciphertext has %d", s.Size, len(s.Ciphertext))
	}
	return ps.Err("malformed sealed cable")
}

// Marshal returns the wire form: the envelope as "key: value" lines, a blank
// line, then the ciphertext.
func (s *Sealed) Marshal() []byte {
	var b bytes.Buffer
	b.Grow(len(s.Ciphertext) + 256)
	b.WriteString(sealedHeader + "\n")
	b.WriteString("id: " + s.CableID + "\n")
	b.WriteString("origin: " + s.Origin + "\n")
	b.WriteString("generation: " + strconv.Itoa(s.Generation) + "\n")
	b.WriteString("recipients: " + strings.Join(s.Recipients, " ") + "\n")
	b.WriteString("size: " + strconv.Itoa(s.Size) + "\n\n")
	b.Write(s.Ciphertext)
	return b.Bytes()
}

// UnmarshalSealed parses the wire form written by Marshal. It reads only the
// envelope and needs no keys, so relays use it. The returned Ciphertext
// shares memory with b. A malformed input is refused with EINVALID naming
// every problem.
func UnmarshalSealed(b []byte) (*Sealed, error) {
	head := b
	if len(head) > maxEnvelope {
		head = head[:maxEnvelope]
	}
	i := bytes.Index(head, []byte("\n\n"))
	if i < 0 {
		return nil, cable.Errorf(cable.EINVALID, "malformed sealed cable: no envelope within %d bytes", maxEnvelope)
	}
	kv, ps := parseFields(b[:i+1], sealedHeader, []string{"id", "origin", "generation", "recipients", "size"})
	if err := ps.Err("malformed sealed cable"); err != nil {
		return nil, err
	}
	s := &Sealed{
		CableID:    kv["id"],
		Origin:     kv["origin"],
		Recipients: strings.Fields(kv["recipients"]),
		Ciphertext: b[i+2:],
	}
	s.Generation = parseGeneration(kv, &ps)
	n, err := strconv.Atoi(kv["size"])
	if err != nil || n < 0 {
		ps.Add("size", "must be a whole number of bytes")
	}
	s.Size = n
	if err := ps.Err("malformed sealed cable"); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}
