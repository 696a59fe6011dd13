package seal

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	cable "github.com/cable-archive/cable"
)

// Key directory layout. Files are written once and never changed.
//
//	identity-0001.key        own private keys, generation 1 (mode 0600)
//	peers/MOSCOW-0001.pub    trusted public identity of MOSCOW, generation 1
var (
	privateFilePattern = regexp.MustCompile(`^identity-(\d{4})\.key$`)
	peerFilePattern    = regexp.MustCompile(`^([A-Z]{2,20})-(\d{4})\.pub$`)
)

func privateFileName(gen int) string { return fmt.Sprintf("identity-%04d.key", gen) }

func peerFileName(station string, gen int) string {
	return fmt.Sprintf("%s-%04d.pub", station, gen)
}

// Key is one trusted generation of a station's public identity, marked
// superseded when a later generation of the same station is known.
// Superseded keys still verify and decrypt what is in flight.
type Key struct {
	PublicIdentity
	Superseded bool
}

// Keyring holds a station's own identity generations and the public
// identities an operator has trusted. It is safe for concurrent use.
type Keyring struct {
	dir     string
	station string
	// Now returns the current time; tests may replace it before use.
	Now func() time.Time

	mu    sync.RWMutex
	own   []*Identity                        // by generation ascending
	peers map[string]map[int]*PublicIdentity // station -> generation -> identity

	// sessions is shared with the keyring that replaces this one on a
	// reload (Keyrings.Reload), so that sessions outlive it.
	sessions *sessions
}

// Init creates the first identity (generation 1) of station in dir, which is
// created if needed. It refuses with ErrKeysExist if dir already holds keys.
func Init(dir, station string) (*Keyring, error) {
	if !cable.ValidStationCode(station) {
		return nil, cable.Errorf(cable.EINVALID, "station code %q must be 2-20 upper-case letters", station)
	}
	if err := os.MkdirAll(filepath.Join(dir, "peers"), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	gens, err := privateGenerations(dir)
	if err != nil {
		return nil, err
	}
	if len(gens) > 0 {
		return nil, fmt.Errorf("%s holds %d key generation(s): %w", dir, len(gens), ErrKeysExist)
	}
	k := &Keyring{dir: dir, station: station, Now: time.Now, peers: map[string]map[int]*PublicIdentity{}, sessions: &sessions{}}
	id, err := newIdentity(station, 1, k.Now())
	if err != nil {
		return nil, err
	}
	if err := writeFileOnce(dir, privateFileName(1), id.marshalPrivate(), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w", dir, ErrKeysExist)
		}
		return nil, err
	}
	k.own = []*Identity{id}
	return k, nil
}

// Open reads the keyring in dir. It refuses private key files readable by
// anyone but their owner, and peer files whose self-signature fails.
func Open(dir string) (*Keyring, error) {
	gens, err := privateGenerations(dir)
	if err != nil {
		return nil, err
	}
	if len(gens) == 0 {
		return nil, cable.Errorf(cable.ENOTFOUND, "no station keys in %s (run cable station init)", dir)
	}
	k := &Keyring{dir: dir, Now: time.Now, peers: map[string]map[int]*PublicIdentity{}, sessions: &sessions{}}
	for _, gen := range gens {
		name := filepath.Join(dir, privateFileName(gen))
		fi, err := os.Stat(name)
		if err != nil {
			return nil, fmt.Errorf("stat private key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, cable.Errorf(cable.EFORBIDDEN, "private key file %s has mode %v; want 0600", name, fi.Mode().Perm())
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read private key: %w", err)
		}
		id, err := parsePrivate(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if id.Generation != gen {
			return nil, cable.Errorf(cable.EINVALID, "%s holds generation %d", name, id.Generation)
		}
		if k.station == "" {
			k.station = id.Station
		} else if id.Station != k.station {
			return nil, cable.Errorf(cable.EINVALID, "%s belongs to station %s, not %s", name, id.Station, k.station)
		}
		k.own = append(k.own, id)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "peers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	for _, e := range entries {
		m := peerFilePattern.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		name := filepath.Join(dir, "peers", e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read peer: %w", err)
		}
		p, err := ParsePublicIdentity(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if gen, _ := strconv.Atoi(m[2]); p.Station != m[1] || p.Generation != gen {
			return nil, cable.Errorf(cable.EINVALID, "%s holds station %s generation %d", name, p.Station, p.Generation)
		}
		k.addPeer(p)
	}
	return k, nil
}

// privateGenerations lists the generations of private key files in dir.
func privateGenerations(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read key directory: %w", err)
	}
	var gens []int
	for _, e := range entries {
		if m := privateFilePattern.FindStringSubmatch(e.Name()); m != nil {
			gen, _ := strconv.Atoi(m[1])
			gens = append(gens, gen)
		}
	}
	sort.Ints(gens)
	return gens, nil
}

func (k *Keyring) addPeer(p *PublicIdentity) {
	if k.peers[p.Station] == nil {
		k.peers[p.Station] = map[int]*PublicIdentity{}
	}
	k.peers[p.Station][p.Generation] = p
}

// Station returns the code of the station the keyring belongs to.
func (k *Keyring) Station() string { return k.station }

// Dir returns the key directory.
func (k *Keyring) Dir() string { return k.dir }

func (k *Keyring) current() *Identity { return k.own[len(k.own)-1] }

// Public returns the station's current public identity.
func (k *Keyring) Public() PublicIdentity {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current().Public()
}

// Export returns the current public identity in its exchange form, for the
// operator to give to other stations.
func (k *Keyring) Export() []byte {
	p := k.Public()
	return p.Marshal()
}

// Identities returns every generation of the station's own public identity,
// oldest first; all but the newest are superseded.
func (k *Keyring) Identities() []Key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	keys := make([]Key, len(k.own))
	for i, id := range k.own {
		keys[i] = Key{PublicIdentity: id.Public(), Superseded: i < len(k.own)-1}
	}
	return keys
}

// Trust parses an exported public identity, verifies its self-signature and
// records it as trusted. Trusting the same identity twice is harmless. It
// refuses the station's own identity, and a different key for a station and
// generation already trusted (ErrKeyConflict). A new generation of a trusted
// station is accepted on its self-signature alone: the operator must confirm
// its fingerprint with the other station's operator before trusting it.
func (k *Keyring) Trust(b []byte) (*PublicIdentity, error) {
	p, err := ParsePublicIdentity(b)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if p.Station == k.station {
		return nil, cable.Errorf(cable.EINVALID, "%s is this station's own identity; there is nothing to trust", p.Station)
	}
	if old := k.peers[p.Station][p.Generation]; old != nil {
		if old.Equal(*p) {
			return old, nil
		}
		return nil, fmt.Errorf("station %s generation %d (trusted fingerprint %s, offered %s): %w",
			p.Station, p.Generation, old.Fingerprint(), p.Fingerprint(), ErrKeyConflict)
	}
	if err := os.MkdirAll(filepath.Join(k.dir, "peers"), 0o700); err != nil {
		return nil, fmt.Errorf("create peers directory: %w", err)
	}
	if err := writeFileOnce(filepath.Join(k.dir, "peers"), peerFileName(p.Station, p.Generation), p.Marshal(), 0o644); err != nil {
		return nil, err
	}
	k.addPeer(p)
	return p, nil
}

// Rotate makes a new key generation current. Older generations are kept, so
// cables sealed under them or to them while in flight still open; the
// operator exports the new identity and other stations trust it.
func (k *Keyring) Rotate() (*PublicIdentity, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	gen := k.current().Generation + 1
	id, err := newIdentity(k.station, gen, k.Now())
	if err != nil {
		return nil, err
	}
	if err := writeFileOnce(k.dir, privateFileName(gen), id.marshalPrivate(), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, cable.Errorf(cable.ECONFLICT, "generation %d already exists in %s (rotated by another process? reopen the keyring)", gen, k.dir)
		}
		return nil, err
	}
	k.own = append(k.own, id)
	p := id.Public()
	return &p, nil
}

// Peer returns the current (newest trusted) public identity of station, or
// ErrUnknownStation if no generation of it is trusted.
func (k *Keyring) Peer(station string) (*PublicIdentity, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	p := k.peerCurrent(station)
	if p == nil {
		return nil, fmt.Errorf("station %s: %w", station, ErrUnknownStation)
	}
	cp := *p
	return &cp, nil
}

func (k *Keyring) peerCurrent(station string) *PublicIdentity {
	var best *PublicIdentity
	for _, p := range k.peers[station] {
		if best == nil || p.Generation > best.Generation {
			best = p
		}
	}
	return best
}

// trustedSigningKey returns the public signing key of station's generation
// gen that k trusts (its own, or a trusted peer's), taking the lock.
func (k *Keyring) trustedSigningKey(station string, gen int) (ed25519.PublicKey, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.signingKey(station, gen)
}

// currentIdentity returns the station's current private identity.
func (k *Keyring) currentIdentity() *Identity {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current()
}

// setHosted makes k know station, hosted at the same node, by exactly the
// public identities pubs read from its private key files: they replace
// whatever k's peers/ files say of station, in memory only. It returns a
// description of each trusted generation that differed or is not among
// pubs, for the caller to log.
func (k *Keyring) setHosted(station string, pubs []PublicIdentity) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[int]*PublicIdentity, len(pubs))
	for i := range pubs {
		m[pubs[i].Generation] = &pubs[i]
	}
	var diffs []string
	for gen, old := range k.peers[station] {
		if p := m[gen]; p == nil {
			diffs = append(diffs, fmt.Sprintf("generation %d (fingerprint %s) is trusted but %s has no such key generation", gen, old.Fingerprint(), station))
		} else if !p.Equal(*old) {
			diffs = append(diffs, fmt.Sprintf("generation %d is trusted with fingerprint %s but %s's own key is %s", gen, old.Fingerprint(), station, p.Fingerprint()))
		}
	}
	sort.Strings(diffs)
	k.peers[station] = m
	return diffs
}

// Peers returns every trusted generation of every peer station, by station
// and generation.
func (k *Keyring) Peers() []Key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var keys []Key
	for station, gens := range k.peers {
		cur := k.peerCurrent(station)
		for _, p := range gens {
			keys = append(keys, Key{PublicIdentity: *p, Superseded: p != cur})
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Station != keys[j].Station {
			return keys[i].Station < keys[j].Station
		}
		return keys[i].Generation < keys[j].Generation
	})
	return keys
}

// writeFileOnce atomically creates dir/name holding b with mode perm: it
// writes and syncs a temporary file, links it into place (failing with
// fs.ErrExist rather than replacing an existing file) and syncs the directory.
func writeFileOnce(dir, name string, b []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("chmod key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close key file: %w", err)
	}
	if err := os.Link(tmp, filepath.Join(dir, name)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", name, fs.ErrExist)
		}
		return fmt.Errorf("install key file: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key directory: %w", err)
	}
	return nil
}
