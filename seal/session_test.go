package seal

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	cable "github.com/cable-archive/cable"
)

// pair makes MOSCOW and STATE keyrings that trust each other.
func pair(t *testing.T) (moscow, state *Keyring) {
	t.Helper()
	var err error
	if moscow, err = Init(filepath.Join(t.TempDir(), "moscow"), "MOSCOW"); err != nil {
		t.Fatal(err)
	}
	if state, err = Init(filepath.Join(t.TempDir(), "state"), "STATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := moscow.Trust(state.Export()); err != nil {
		t.Fatal(err)
	}
	if _, err := state.Trust(moscow.Export()); err != nil {
		t.Fatal(err)
	}
	return moscow, state
}

// stanzaLines returns the "-> type args" lines of an age header.
func stanzaLines(t *testing.T, ct []byte) []string {
	t.Helper()
	head, _, ok := bytes.Cut(ct, []byte("\n---"))
	if !ok {
		t.Fatalf("no age header in %q", ct[:min(len(ct), 200)])
	}
	var out []string
	for l := range strings.SplitSeq(string(head), "\n") {
		if strings.HasPrefix(l, "-> ") {
			out = append(out, l)
		}
	}
	return out
}

func TestSessionSharedAndOpenedAlone(t *testing.T) {
	moscow, state := pair(t)
	ids := []string{"1946MOSCOW00511", "1946MOSCOW00512", "1946MOSCOW00513"}
	var sealed []*Sealed
	shares := map[string]bool{}
	nonces := map[string]bool{}
	for _, id := range ids {
		s, err := moscow.Seal([]byte("TEXT OF "+id+"\n"), id, []string{"STATE"})
		if err != nil {
			t.Fatal(err)
		}
		ls := stanzaLines(t, s.Ciphertext)
		if len(ls) != 1 {
			t.Fatalf("%s: stanzas %q, want one", id, ls)
		}
		f := strings.Fields(ls[0])
		if len(f) != 4 || f[1] != sessionStanzaType {
			t.Fatalf("%s: stanza %q, want a %s stanza with share and nonce", id, ls[0], sessionStanzaType)
		}
		shares[f[2]], nonces[f[3]] = true, true
		sealed = append(sealed, s)
	}
	if len(shares) != 1 || len(nonces) != len(ids) {
		t.Fatalf("%d ephemeral shares and %d nonces for %d cables, want 1 and %d", len(shares), len(nonces), len(ids), len(ids))
	}
	// A receiver that has opened none of the session opens each alone,
	// last first; then one that has opened the first opens the rest.
	for _, order := range [][]int{{2}, {1}, {0}, {0, 2, 1}} {
		fresh, err := Open(state.Dir())
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range order {
			text, err := fresh.Open(sealed[i])
			if err != nil {
				t.Fatalf("open %s (order %v): %v", ids[i], order, err)
			}
			if want := "TEXT OF " + ids[i] + "\n"; string(text) != want {
				t.Fatalf("open %s: %q, want %q", ids[i], text, want)
			}
		}
		if n := len(fresh.sessions.opened); n != 1 {
			t.Fatalf("receiver keeps %d session keys, want 1", n)
		}
	}
}

func TestSessionRenewed(t *testing.T) {
	moscow, _ := pair(t)
	r := moscow.peerCurrent("STATE").Recipient
	var ss sessions
	now := time.Now()
	first, err := ss.recipient(r, now)
	if err != nil {
		t.Fatal(err)
	}
	share := first.(sessionRecipient).s.share
	for range sessionUses - 1 {
		if _, err := ss.recipient(r, now); err != nil {
			t.Fatal(err)
		}
	}
	if got := ss.live[r].share; got != share {
		t.Fatal("session renewed before its last use")
	}
	next, _ := ss.recipient(r, now)
	if next.(sessionRecipient).s.share == share {
		t.Fatalf("session used %d times, not renewed", sessionUses+1)
	}
	share = next.(sessionRecipient).s.share
	later, _ := ss.recipient(r, now.Add(sessionLifetime-time.Millisecond))
	if later.(sessionRecipient).s.share != share {
		t.Fatal("session renewed before it expired")
	}
	expired, _ := ss.recipient(r, now.Add(sessionLifetime))
	if expired.(sessionRecipient).s.share == share {
		t.Fatalf("session %v old, not renewed", sessionLifetime)
	}
	if _, err := ss.recipient("age1bogus", now); err == nil {
		t.Fatal("a malformed recipient key made a session")
	}
}

// A cable sealed with age's own X25519 stanza (before sessions) still opens.
func TestOpenPlainX25519(t *testing.T) {
	moscow, state := pair(t)
	s, err := moscow.Seal([]byte("TEXT\n"), "1946MOSCOW00511", []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	// Take the signed content out and encrypt it again, as before sessions.
	r, err := age.Decrypt(bytes.NewReader(s.Ciphertext), state.sessions.identity(state.current().EncryptionKey))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, state.current().EncryptionKey.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	w.Close()
	if ls := stanzaLines(t, ct.Bytes()); len(ls) != 1 || !strings.HasPrefix(ls[0], "-> X25519 ") {
		t.Fatalf("stanzas %q, want age's X25519", ls)
	}
	old := *s
	old.Ciphertext, old.Size = ct.Bytes(), ct.Len()
	fresh, err := Open(state.Dir())
	if err != nil {
		t.Fatal(err)
	}
	text, err := fresh.Open(&old)
	if err != nil || string(text) != "TEXT\n" {
		t.Fatalf("open = %q, %v", text, err)
	}
}

func TestSessionStanzaAltered(t *testing.T) {
	moscow, state := pair(t)
	good, err := moscow.Seal([]byte("TEXT\n"), "1946MOSCOW00511", []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := moscow.Seal([]byte("OTHER\n"), "1946MOSCOW00512", []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	line := stanzaLines(t, other.Ciphertext)[0]
	f := strings.Fields(line)
	// Another nonce of the right size, and a share of another session.
	otherNonce := strings.Replace(line, f[3], strings.Repeat("A", len(f[3])), 1)
	var ss sessions
	alien, _ := ss.recipient(moscow.peerCurrent("STATE").Recipient, time.Now())
	otherShare := strings.Replace(line, f[2], alien.(sessionRecipient).s.share, 1)
	for name, repl := range map[string]string{
		"nonce":                 otherNonce,
		"share":                 otherShare,
		"stanza type":           strings.Replace(line, sessionStanzaType, "cable-x25519-sessiom", 1),
		"missing nonce":         "-> " + sessionStanzaType + " " + f[2],
		"nonce of another size": strings.Replace(line, f[3], f[3]+"AAAA", 1),
	} {
		t.Run(name, func(t *testing.T) {
			s := *other
			s.Ciphertext = bytes.Replace(other.Ciphertext, []byte(line), []byte(repl), 1)
			s.Size = len(s.Ciphertext)
			_, err := state.Open(&s)
			if cable.ErrorCode(err) != cable.EFORBIDDEN || !(errors.Is(err, ErrAltered) || errors.Is(err, ErrNotAddressed)) {
				t.Fatalf("open = %v, want refused as altered or not addressed", err)
			}
		})
	}
	// A refused stanza leaves nothing behind: the genuine cables open, and
	// the receiver keeps one session key, theirs.
	for _, s := range []*Sealed{good, other} {
		if _, err := state.Open(s); err != nil {
			t.Fatalf("genuine %s after the altered ones: %v", s.CableID, err)
		}
	}
	if n := len(state.sessions.opened); n != 1 {
		t.Fatalf("receiver keeps %d session keys, want 1", n)
	}
}

func TestOpenedSessionsBounded(t *testing.T) {
	moscow, state := pair(t)
	state.sessions.opened = map[string]cipher.AEAD{}
	for i := range openedSessions {
		state.sessions.opened[strings.Repeat("x", i)] = nil
	}
	s, err := moscow.Seal([]byte("TEXT\n"), "1946MOSCOW00511", []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := state.Open(s); err != nil {
		t.Fatal(err)
	}
	if n := len(state.sessions.opened); n > openedSessions/2+1 || n == 0 {
		t.Fatalf("receiver keeps %d session keys after a full cache took one more, want at most %d", n, openedSessions/2+1)
	}
	// The new session was kept: opening it again needs no X25519.
	f := strings.Fields(stanzaLines(t, s.Ciphertext)[0])
	found := false
	for k := range state.sessions.opened {
		found = found || strings.HasPrefix(k, f[2]+" ")
	}
	if !found {
		t.Fatal("the session just opened was not kept")
	}
}
