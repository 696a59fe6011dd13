package seal

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"fmt"
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
	var ss sessions
	alien, _ := ss.recipient(moscow.peerCurrent("STATE").Recipient, time.Now())
	cases := []struct {
		name, line string
		want       error
	}{
		// The session opens, the file key does not: altered.
		{"nonce", strings.Replace(line, f[3], strings.Repeat("A", len(f[3])), 1), ErrAltered},
		{"missing nonce", "-> " + sessionStanzaType + " " + f[2], ErrAltered},
		{"nonce of another size", strings.Replace(line, f[3], f[3]+"AAAA", 1), ErrAltered},
		// Nothing opens for this station: as age says of a stanza it cannot
		// open, not addressed here.
		{"share of another session", strings.Replace(line, f[2], alien.(sessionRecipient).s.share, 1), ErrNotAddressed},
		{"stanza type", strings.Replace(line, sessionStanzaType, "cable-x25519-sessiom-v1", 1), ErrNotAddressed},
	}
	// Each refused before the session is known to the receiver, and again
	// once it holds it.
	for _, cached := range []bool{false, true} {
		if cached {
			if _, err := state.Open(good); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/cached=%v", c.name, cached), func(t *testing.T) {
				s := *other
				s.Ciphertext = bytes.Replace(other.Ciphertext, []byte(line), []byte(c.line), 1)
				s.Size = len(s.Ciphertext)
				_, err := state.Open(&s)
				if cable.ErrorCode(err) != cable.EFORBIDDEN || !errors.Is(err, c.want) {
					t.Fatalf("open = %v, want %v", err, c.want)
				}
			})
		}
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

func TestSessionSeveralRecipients(t *testing.T) {
	moscow, state := pair(t)
	london, err := Init(filepath.Join(t.TempDir(), "london"), "LONDON")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moscow.Trust(london.Export()); err != nil {
		t.Fatal(err)
	}
	if _, err := london.Trust(moscow.Export()); err != nil {
		t.Fatal(err)
	}
	shares := map[string]bool{}
	for _, id := range []string{"1946MOSCOW00511", "1946MOSCOW00512"} {
		s, err := moscow.Seal([]byte(id+"\n"), id, []string{"STATE", "LONDON"})
		if err != nil {
			t.Fatal(err)
		}
		ls := stanzaLines(t, s.Ciphertext)
		if len(ls) != 2 {
			t.Fatalf("stanzas %q, want one for each recipient", ls)
		}
		for _, l := range ls {
			shares[strings.Fields(l)[2]] = true
		}
		for _, k := range []*Keyring{state, london} {
			if text, err := k.Open(s); err != nil || string(text) != id+"\n" {
				t.Fatalf("%s opens %s: %q, %v", k.Station(), id, text, err)
			}
		}
	}
	if len(shares) != 2 {
		t.Fatalf("%d ephemeral shares for two cables to two stations, want one session each", len(shares))
	}
}

func TestSessionForgotten(t *testing.T) {
	moscow, _ := pair(t)
	r := moscow.peerCurrent("STATE").Recipient
	ss := sessions{lifetime: 50 * time.Millisecond}
	if _, err := ss.recipient(r, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ss.mu.Lock()
		n := len(ss.live)
		ss.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired session is still held, with nothing sealed since")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reload of the node's keyrings keeps the sessions: the receiver does
// not unwrap again what it has opened, the sender goes on with its own.
func TestSessionsOutliveReload(t *testing.T) {
	dir := t.TempDir()
	for _, st := range []string{"MOSCOW", "STATE"} {
		if _, err := Init(filepath.Join(dir, st), st); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := OpenKeyrings(dir, []string{"MOSCOW", "STATE"})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := ks.Seal("MOSCOW", "1946MOSCOW00511", []byte("TEXT\n"), []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Open("STATE", wire); err != nil {
		t.Fatal(err)
	}
	before := ks.ring("STATE").sessions
	if err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	after := ks.ring("STATE").sessions
	if after != before || len(after.opened) != 1 || len(ks.ring("MOSCOW").sessions.live) != 1 {
		t.Fatalf("after a reload: same sessions %v, %d opened, %d live", after == before, len(after.opened), len(ks.ring("MOSCOW").sessions.live))
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
