package seal

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sessions: what a station seals to one recipient key within a short
// while shares one X25519 key agreement.
//
// age's own X25519 recipient makes a fresh ephemeral key for every file:
// two scalar multiplications to seal and one to open, most of the CPU a
// sealed cable costs. A session does that agreement once: a random 16-byte
// session key is wrapped to the recipient by age's X25519 recipient, with
// its fresh ephemeral key, and each cable's own random file key is wrapped
// under a key derived from the session key with a random nonce. The
// stanza of each cable carries the X25519 wrapping of the session key
// beside its own wrapping, so every cable opens alone, in any order; the
// receiver unwraps a session key once and keeps it for the cables that
// follow.
//
// The sender stops using a session after sessionLifetime or sessionUses
// cables, whichever comes first, and forgets it when its lifetime is out,
// so what it holds in memory opens at most the cables it sealed to each
// recipient in the last two seconds (age's per-file ephemeral key is
// forgotten at once). The receiver's static key opens everything sent to
// it either way; keeping session keys adds nothing to what its compromise
// would reveal.
const (
	sessionStanzaType = "cable-x25519-session-v1"
	sessionLabel      = "cable-x25519-session-v1"
	sessionKeySize    = 16 // an age file key: what age's X25519 stanza wraps
	fileKeySize       = 16
	// x25519BodySize is the size of age's X25519 stanza body: the wrapped
	// 16-byte key and its Poly1305 tag.
	x25519BodySize = sessionKeySize + chacha20poly1305.Overhead

	sessionLifetime = 2 * time.Second
	sessionUses     = 4096
	// openedSessions bounds the session keys a receiver keeps.
	openedSessions = 4096
)

// session is the sender's side of one session to one recipient key.
type session struct {
	share   string // the X25519 stanza's argument: the ephemeral public key
	wrapped []byte // the X25519 stanza's body: the session key, wrapped
	aead    cipher.AEAD
	expires time.Time
	uses    int
}

// usable reports whether s (nil when there is none) may wrap another
// file key at now.
func (s *session) usable(now time.Time) bool {
	return s != nil && s.uses < sessionUses && now.Before(s.expires)
}

// newSession agrees a session key with recipient.
func newSession(recipient *age.X25519Recipient, now time.Time, lifetime time.Duration) (*session, error) {
	key := make([]byte, sessionKeySize)
	rand.Read(key)
	stanzas, err := recipient.Wrap(key)
	if err != nil {
		return nil, fmt.Errorf("wrap session key: %w", err)
	}
	if len(stanzas) != 1 || stanzas[0].Type != "X25519" || len(stanzas[0].Args) != 1 || len(stanzas[0].Body) != x25519BodySize {
		return nil, errors.New("wrap session key: age's X25519 recipient made an unexpected stanza")
	}
	aead, err := sessionCipher(key, stanzas[0].Args[0], stanzas[0].Body)
	if err != nil {
		return nil, err
	}
	return &session{share: stanzas[0].Args[0], wrapped: stanzas[0].Body, aead: aead, expires: now.Add(lifetime)}, nil
}

// sessionCipher derives the cipher that wraps file keys from the session
// key, bound to the stanza that carries it.
func sessionCipher(key []byte, share string, wrapped []byte) (cipher.AEAD, error) {
	info := append([]byte(sessionLabel+"\n"+share+"\n"), wrapped...)
	k, err := hkdf.Key(sha256.New, key, nil, string(info), chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive session cipher: %w", err)
	}
	return chacha20poly1305.New(k)
}

// stanza wraps a file key in the session.
//
//	-> cable-x25519-session-v1 <ephemeral share> <nonce>
//	<X25519 body wrapping the session key> <file key wrapped under the session>
func (s *session) stanza(fileKey []byte) *age.Stanza {
	nonce := make([]byte, chacha20poly1305.NonceSize)
	rand.Read(nonce)
	body := make([]byte, 0, len(s.wrapped)+fileKeySize+chacha20poly1305.Overhead)
	body = append(body, s.wrapped...)
	body = s.aead.Seal(body, nonce, fileKey, nil)
	return &age.Stanza{Type: sessionStanzaType, Args: []string{s.share, b64.EncodeToString(nonce)}, Body: body}
}

// b64 is age's encoding of stanza arguments.
var b64 = base64.RawStdEncoding.Strict()

// sessions holds a sender's live sessions, one per recipient key, and the
// session keys a receiver has opened. The zero value is ready for use.
type sessions struct {
	// lifetime is how long a session lasts: sessionLifetime when zero.
	lifetime time.Duration

	mu     sync.Mutex
	live   map[string]*session    // by recipient "age1..."
	opened map[string]cipher.AEAD // by stanza argument and X25519 body
}

// recipient returns the age recipient that wraps file keys for the
// recipient key r in its live session, agreeing a new one when there is
// none or it has expired. A session is forgotten when it expires, whether
// or not anything is sealed after it.
func (ss *sessions) recipient(r string, now time.Time) (age.Recipient, error) {
	ss.mu.Lock()
	if s := ss.live[r]; s.usable(now) {
		s.uses++
		ss.mu.Unlock()
		return sessionRecipient{s}, nil
	}
	ss.mu.Unlock()

	// The two scalar multiplications happen outside the lock, so that
	// sealing to other keys and opening go on meanwhile.
	ar, err := age.ParseX25519Recipient(r)
	if err != nil {
		return nil, err
	}
	lifetime := ss.lifetime
	if lifetime == 0 {
		lifetime = sessionLifetime
	}
	fresh, err := newSession(ar, now, lifetime)
	if err != nil {
		return nil, err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s := ss.live[r]; s.usable(now) {
		s.uses++ // another seal agreed one meanwhile
		return sessionRecipient{s}, nil
	}
	if ss.live == nil {
		ss.live = map[string]*session{}
	}
	ss.live[r] = fresh
	fresh.uses++
	time.AfterFunc(lifetime, func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ss.live[r] == fresh {
			delete(ss.live, r)
		}
	})
	return sessionRecipient{fresh}, nil
}

type sessionRecipient struct{ s *session }

func (r sessionRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	if len(fileKey) != fileKeySize {
		return nil, fmt.Errorf("file key of %d bytes, want %d", len(fileKey), fileKeySize)
	}
	return []*age.Stanza{r.s.stanza(fileKey)}, nil
}

// identity returns the age identity that opens, with the X25519 key id,
// both age's own X25519 stanzas and session stanzas.
func (ss *sessions) identity(id *age.X25519Identity) age.Identity {
	return sessionIdentity{ss: ss, x25519: id}
}

type sessionIdentity struct {
	ss     *sessions
	x25519 *age.X25519Identity
}

func (i sessionIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	var sawX25519 bool
	for _, st := range stanzas {
		switch st.Type {
		case "X25519":
			sawX25519 = true
		case sessionStanzaType:
			k, err := i.unwrap(st)
			if errors.Is(err, age.ErrIncorrectIdentity) {
				continue
			}
			return k, err
		}
	}
	if sawX25519 {
		// Sealed before sessions, or by a station without them.
		return i.x25519.Unwrap(stanzas)
	}
	return nil, age.ErrIncorrectIdentity
}

// unwrap opens one session stanza: the session key from the cache or by
// age's X25519 identity, then the file key under it. A stanza for another
// key is ErrIncorrectIdentity; a malformed one is an error of its own.
func (i sessionIdentity) unwrap(st *age.Stanza) ([]byte, error) {
	if len(st.Args) != 2 || len(st.Body) != x25519BodySize+fileKeySize+chacha20poly1305.Overhead {
		return nil, errors.New("malformed session stanza")
	}
	nonce, err := b64.DecodeString(st.Args[1])
	if err != nil || len(nonce) != chacha20poly1305.NonceSize {
		return nil, errors.New("malformed session stanza nonce")
	}
	share, wrapped, wrappedFileKey := st.Args[0], st.Body[:x25519BodySize], st.Body[x25519BodySize:]
	cacheKey := share + " " + string(wrapped)

	i.ss.mu.Lock()
	aead := i.ss.opened[cacheKey]
	i.ss.mu.Unlock()
	cached := aead != nil
	if !cached {
		key, err := i.x25519.Unwrap([]*age.Stanza{{Type: "X25519", Args: []string{share}, Body: wrapped}})
		if err != nil {
			return nil, err // ErrIncorrectIdentity when sealed to another key
		}
		if aead, err = sessionCipher(key, share, wrapped); err != nil {
			return nil, err
		}
	}
	fileKey, err := aead.Open(nil, nonce, wrappedFileKey, nil)
	if err != nil {
		// The session key opened, the file key did not: altered.
		return nil, errors.New("session stanza does not open")
	}
	if !cached {
		// Kept only once a file key has opened under it, so that garbage
		// cannot crowd out the sessions in use. (Anyone holding the
		// station's public key can make sessions that open: that costs
		// only the X25519 a crowded-out session costs again.)
		i.ss.mu.Lock()
		if len(i.ss.opened) >= openedSessions {
			for k := range i.ss.opened {
				delete(i.ss.opened, k)
				if len(i.ss.opened) < openedSessions/2 {
					break
				}
			}
		}
		if i.ss.opened == nil {
			i.ss.opened = map[string]cipher.AEAD{}
		}
		i.ss.opened[cacheKey] = aead
		i.ss.mu.Unlock()
	}
	return fileKey, nil
}
