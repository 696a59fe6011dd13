package seal

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	cable "github.com/cable-archive/cable"
)

// SignatureSize is the length of a signature made by Keyrings.Sign: a
// 4-byte big-endian key generation, then a 64-byte Ed25519 signature.
const SignatureSize = 4 + ed25519.SignatureSize

// messagePrefix separates Keyrings.Sign signatures from seal and identity
// signatures: what Sign signs can never be taken for either.
const messagePrefix = "cable-message-v1\n"

// Keyrings is the cable.Sealer of a node: the keyrings of the stations it
// hosts, read from DATA/keys/CODE. Stations hosted at the same node know
// one another's keys from their private key files, without a trust step.
// It is safe for concurrent use, also with Reload.
type Keyrings struct {
	dir      string
	stations []string // sorted, each once
	log      *slog.Logger

	mu    sync.RWMutex
	rings map[string]*Keyring
}

var _ cable.Sealer = (*Keyrings)(nil)

// OpenKeyrings reads the keyring of every hosted station from dir/CODE (dir
// is DATA/keys, where `cable station init --data DATA --station CODE` puts
// them). Hosted stations without keys are refused with one EINVALID naming
// each of them and the command that makes its keys.
func OpenKeyrings(dir string, stations []string) (*Keyrings, error) {
	var ps cable.Problems
	if len(stations) == 0 {
		ps.Add("stations", "name at least one hosted station")
	}
	var codes []string
	for _, st := range stations {
		if !cable.ValidStationCode(st) {
			ps.Add("stations", "%q is not a station code (2-20 upper-case letters)", st)
		} else if !slices.Contains(codes, st) {
			codes = append(codes, st)
		}
	}
	if err := ps.Err("cannot open station keys"); err != nil {
		return nil, err
	}
	slices.Sort(codes)
	ks := &Keyrings{dir: dir, stations: codes, log: slog.Default()}
	rings, err := ks.load()
	if err != nil {
		return nil, err
	}
	ks.rings = rings
	return ks, nil
}

// Reload reads every hosted station's keys again from disk, taking in the
// peers an operator has trusted and the generations rotated with `cable
// station trust` and `cable station rotate` while the node runs. On any
// error the keys in use are kept. Seals and opens in progress finish with
// the keys they started with.
func (ks *Keyrings) Reload() error {
	rings, err := ks.load()
	if err != nil {
		return fmt.Errorf("reload station keys (the keys in use are kept): %w", err)
	}
	ks.mu.Lock()
	for st, k := range rings {
		if old := ks.rings[st]; old != nil {
			k.sessions = old.sessions // live and opened sessions go on
		}
	}
	ks.rings = rings
	ks.mu.Unlock()
	gens := make([]string, len(ks.stations))
	for i, st := range ks.stations {
		gens[i] = st + ":" + strconv.Itoa(rings[st].Public().Generation)
	}
	ks.logger().Debug("station keys reloaded", "generations", strings.Join(gens, " "))
	return nil
}

// SetLogger sets the logger of Reload and of warnings about the keys
// (slog.Default until set, and when l is nil).
func (ks *Keyrings) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.Default()
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.log = l
}

func (ks *Keyrings) logger() *slog.Logger {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.log
}

// Stations returns the codes of the hosted stations, sorted.
func (ks *Keyrings) Stations() []string { return slices.Clone(ks.stations) }

// load opens the keyring of every hosted station and makes each know the
// others' keys.
func (ks *Keyrings) load() (map[string]*Keyring, error) {
	rings := make(map[string]*Keyring, len(ks.stations))
	var missing cable.Problems
	var names []string
	for _, st := range ks.stations {
		sub := filepath.Join(ks.dir, st)
		k, err := Open(sub)
		if cable.ErrorCode(err) == cable.ENOTFOUND {
			missing.Add(st, "no keys in %s; make them with: %s", sub, ks.initCommand(st))
			names = append(names, st)
			continue
		} else if err != nil {
			return nil, fmt.Errorf("keys of station %s: %w", st, err)
		}
		if k.Station() != st {
			return nil, cable.Errorf(cable.EINVALID, "%s holds the keys of station %s, not %s", sub, k.Station(), st)
		}
		rings[st] = k
	}
	if err := missing.Err("no keys for hosted station(s) " + strings.Join(names, ", ")); err != nil {
		return nil, err
	}
	for _, st := range ks.stations {
		keys := rings[st].Identities()
		pubs := make([]PublicIdentity, len(keys))
		for i, key := range keys {
			pubs[i] = key.PublicIdentity
		}
		for _, other := range ks.stations {
			if other == st {
				continue
			}
			for _, d := range rings[other].setHosted(st, pubs) {
				ks.logger().Warn("trusted key of a hosted station differs from its own keys; using its own keys",
					"keyring", other, "station", st, "detail", d)
			}
		}
	}
	return rings, nil
}

// dataDir names the node's data directory in operator commands: the
// parent of dir when dir is DATA/keys, else DATA.
func (ks *Keyrings) dataDir() string {
	if filepath.Base(ks.dir) == "keys" {
		return filepath.Dir(ks.dir)
	}
	return "DATA"
}

// initCommand is the operator's command that makes station's keys.
func (ks *Keyrings) initCommand(station string) string {
	return "cable station init --data " + ks.dataDir() + " --station " + station
}

// ring returns the keyring of a hosted station, or nil.
func (ks *Keyrings) ring(station string) *Keyring {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.rings[station]
}

// notHosted is the EINVALID of CanSeal and Seal for an origin whose keys
// are not here.
func (ks *Keyrings) notHosted(station string) error {
	return cable.Errorf(cable.EINVALID, "station %q is not hosted at this node (hosted: %s): its keys are not here",
		station, strings.Join(ks.stations, " "))
}

// CanSeal reports with an EINVALID naming the station whether origin can
// seal to recipient: origin is hosted here and recipient is hosted here or
// trusted by origin's keyring.
func (ks *Keyrings) CanSeal(origin, recipient string) error {
	k := ks.ring(origin)
	if k == nil {
		return ks.notHosted(origin)
	}
	if !cable.ValidStationCode(recipient) {
		return cable.Errorf(cable.EINVALID, "recipient %q is not a station code (2-20 upper-case letters)", recipient)
	}
	if ks.ring(recipient) != nil {
		return nil
	}
	if _, err := k.Peer(recipient); err != nil {
		return cable.Errorf(cable.EINVALID, "station %s does not trust station %s: have %s's operator export its identity, confirm the fingerprint, then run cable station trust --data %s --station %s FILE",
			origin, recipient, recipient, ks.dataDir(), origin)
	}
	return nil
}

// Seal signs text as origin with its current key and encrypts it to the
// current key of each recipient (see Keyring.Seal), returning the wire form
// (Sealed.Marshal). An origin not hosted here, an untrusted recipient or a
// cable identifier origin does not originate is EINVALID.
func (ks *Keyrings) Seal(origin, cableID string, text []byte, recipients []string) ([]byte, error) {
	k := ks.ring(origin)
	if k == nil {
		return nil, ks.notHosted(origin)
	}
	s, err := k.Seal(text, cableID, recipients)
	if err != nil {
		return nil, fmt.Errorf("seal %s at %s: %w", cableID, origin, err)
	}
	return s.Marshal(), nil
}

// Open reads the wire form, decrypts it with any key generation of the
// hosted station, verifies the origin's signature and returns the cable
// identifier, origin and text as signed. Every refusal is EFORBIDDEN and
// wraps one of this package's Err values: ErrNotHosted for a station not
// hosted here, ErrAltered for malformed or damaged bytes, and those of
// Keyring.Open. A refusal for a key generation not trusted yet
// (ErrUntrustedGeneration) comes with the envelope's cable identifier and
// origin, checked against the sealed content, and no text.
func (ks *Keyrings) Open(station string, sealed []byte) (*cable.Opened, error) {
	k := ks.ring(station)
	if k == nil {
		return nil, fmt.Errorf("open at %q: %w", station, ErrNotHosted)
	}
	s, err := UnmarshalSealed(sealed)
	if err != nil {
		return nil, fmt.Errorf("open at %s: %v: %w", station, err, ErrAltered)
	}
	text, err := k.Open(s)
	if err != nil {
		if cable.ErrorCode(err) != cable.EFORBIDDEN {
			return nil, fmt.Errorf("open at %s: %v: %w", station, err, ErrAltered)
		}
		if errors.Is(err, ErrUntrustedGeneration) {
			// Named, so that the caller checks them against what the
			// transport said before it holds the cable for later.
			return &cable.Opened{CableID: s.CableID, Origin: s.Origin}, fmt.Errorf("open at %s: %w", station, err)
		}
		return nil, fmt.Errorf("open at %s: %w", station, err)
	}
	return &cable.Opened{CableID: s.CableID, Origin: s.Origin, Text: text}, nil
}

// messageBytes returns the bytes Sign signs for msg: a domain-separation
// prefix, the station and key generation, a blank line, then msg.
func messageBytes(station string, gen int, msg []byte) []byte {
	head := messagePrefix + "station: " + station + "\ngeneration: " + strconv.Itoa(gen) + "\n\n"
	b := make([]byte, 0, len(head)+len(msg))
	return append(append(b, head...), msg...)
}

// Sign signs msg as a hosted station with its current Ed25519 signing key.
// The signature (SignatureSize bytes) starts with the key generation, so
// that Verify still checks it after the station rotates. What is signed is
// msg behind a prefix naming the purpose, station and generation, so a
// signature made here is never valid as a seal or identity signature. A
// station not hosted here is EFORBIDDEN (ErrNotHosted).
func (ks *Keyrings) Sign(station string, msg []byte) ([]byte, error) {
	k := ks.ring(station)
	if k == nil {
		return nil, fmt.Errorf("sign as %q: %w", station, ErrNotHosted)
	}
	id := k.currentIdentity()
	sig := make([]byte, 4, SignatureSize)
	binary.BigEndian.PutUint32(sig, uint32(id.Generation))
	return append(sig, ed25519.Sign(id.SigningKey, messageBytes(station, id.Generation, msg))...), nil
}

// Verify checks that station signed msg (a signature from Sign) with the
// key generation the signature names: a hosted station's own generations,
// or a generation of another station that a hosted station's keyring
// trusts. Every refusal is EFORBIDDEN: ErrUnknownStation (no hosted
// keyring trusts station), ErrUntrustedGeneration, ErrBadSignature
// (malformed or not verifying).
func (ks *Keyrings) Verify(station string, msg, sig []byte) error {
	if len(sig) != SignatureSize {
		return fmt.Errorf("signature of %q: %d bytes, want %d: %w", station, len(sig), SignatureSize, ErrBadSignature)
	}
	g := binary.BigEndian.Uint32(sig)
	if g < 1 || g > 9999 {
		return fmt.Errorf("signature of %q names key generation %d: %w", station, g, ErrBadSignature)
	}
	gen := int(g)
	keys, err := ks.verifyKeys(station, gen)
	if err != nil {
		return fmt.Errorf("signature of %q: %w", station, err)
	}
	m := messageBytes(station, gen, msg)
	for _, pk := range keys {
		if ed25519.Verify(pk, m, sig[4:]) {
			return nil
		}
	}
	return fmt.Errorf("signature of %s generation %d: %w", station, gen, ErrBadSignature)
}

// verifyKeys returns the public keys of station's generation gen trusted
// at this node: the hosted station's own, else every one a hosted keyring
// trusts.
func (ks *Keyrings) verifyKeys(station string, gen int) ([]ed25519.PublicKey, error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if k := ks.rings[station]; k != nil {
		pk, err := k.trustedSigningKey(station, gen)
		if err != nil {
			return nil, err
		}
		return []ed25519.PublicKey{pk}, nil
	}
	var keys []ed25519.PublicKey
	firstErr := fmt.Errorf("station %s: %w", station, ErrUnknownStation)
	for _, st := range ks.stations {
		pk, err := ks.rings[st].trustedSigningKey(station, gen)
		if err == nil {
			keys = append(keys, pk)
		} else if errors.Is(err, ErrUntrustedGeneration) || errors.Is(err, ErrUnknownGeneration) && !errors.Is(firstErr, ErrUntrustedGeneration) {
			// Not yet trusted by one hosted keyring outranks unknown to
			// another: the identity may still come.
			firstErr = err
		}
	}
	if len(keys) == 0 {
		return nil, firstErr
	}
	return keys, nil
}
