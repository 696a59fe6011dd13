package seal_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

// station creates a keyring for code in a fresh directory.
func station(t testing.TB, code string) *seal.Keyring {
	t.Helper()
	k, err := seal.Init(filepath.Join(t.TempDir(), "keys"), code)
	if err != nil {
		t.Fatalf("Init %s: %v", code, err)
	}
	return k
}

// trust makes a trust b's current identity.
func trust(t testing.TB, a, b *seal.Keyring) {
	t.Helper()
	if _, err := a.Trust(b.Export()); err != nil {
		t.Fatalf("%s trusts %s: %v", a.Station(), b.Station(), err)
	}
}

// seedText returns the Long Telegram from /work/shared, or skips.
func seedText(t testing.TB) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "shared", "seeds", "000_e3225f346bbef510.txt"))
	if err != nil {
		t.Skipf("seed cable absent: %v", err)
	}
	return b
}

func mustSeal(t testing.TB, k *seal.Keyring, text []byte, id string, to ...string) *seal.Sealed {
	t.Helper()
	s, err := k.Seal(text, id, to)
	if err != nil {
		t.Fatalf("Seal %s: %v", id, err)
	}
	return s
}

func mustOpen(t testing.TB, k *seal.Keyring, s *seal.Sealed, want []byte) {
	t.Helper()
	got, err := k.Open(s)
	if err != nil {
		t.Fatalf("%s opens %s: %v", k.Station(), s.CableID, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s opened %s: text differs (%d bytes, want %d)", k.Station(), s.CableID, len(got), len(want))
	}
}

// wantRefused checks err wraps target and carries code.
func wantRefused(t testing.TB, err, target error, code string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	if got := cable.ErrorCode(err); got != code {
		t.Fatalf("code = %q, want %q (err %v)", got, code, err)
	}
}

func TestRoundTripOneRecipient(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	text := seedText(t)
	s := mustSeal(t, moscow, text, "1946MOSCOW00511", "STATE")
	if s.Origin != "MOSCOW" || s.Generation != 1 || s.CableID != "1946MOSCOW00511" ||
		len(s.Recipients) != 1 || s.Recipients[0] != "STATE" || s.Size != len(s.Ciphertext) {
		t.Fatalf("envelope = %+v", s)
	}
	if bytes.Contains(s.Ciphertext, text[:64]) || bytes.Contains(s.Marshal(), []byte("Kennan")) {
		t.Fatal("ciphertext carries plaintext")
	}
	wire := s.Marshal()
	got, err := seal.UnmarshalSealed(wire)
	if err != nil {
		t.Fatalf("UnmarshalSealed: %v", err)
	}
	mustOpen(t, state, got, text)
}

func TestRoundTripSeveralRecipients(t *testing.T) {
	moscow, state, london, war := station(t, "MOSCOW"), station(t, "STATE"), station(t, "LONDON"), station(t, "WAR")
	for _, r := range []*seal.Keyring{state, london} {
		trust(t, moscow, r)
		trust(t, r, moscow)
	}
	trust(t, war, moscow)
	text := []byte("SECRET\nSUBJECT: TEST\n1. (S) ONE PARAGRAPH.\n")
	s := mustSeal(t, moscow, text, "1946MOSCOW00512", "STATE", "LONDON", "STATE")
	if strings.Join(s.Recipients, " ") != "LONDON STATE" {
		t.Fatalf("recipients = %v, want sorted and deduplicated", s.Recipients)
	}
	mustOpen(t, state, s, text)
	mustOpen(t, london, s, text)

	// WAR relays it: it knows the origin, but the cable is not sealed to it.
	_, err := war.Open(s)
	wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)
	// Relabelling the envelope to name itself does not help the relay.
	forged := *s
	forged.Recipients = []string{"LONDON", "STATE", "WAR"}
	_, err = war.Open(&forged)
	wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)
}

func TestSealToSelf(t *testing.T) {
	state := station(t, "STATE")
	text := []byte("NOTE TO FILE\n")
	mustOpen(t, state, mustSeal(t, state, text, "2026STATE00001", "STATE"), text)
}

func TestOpenRefusals(t *testing.T) {
	moscow, state, war := station(t, "MOSCOW"), station(t, "STATE"), station(t, "WAR")
	trust(t, moscow, state)
	trust(t, moscow, war)
	trust(t, state, moscow)
	trust(t, war, state)
	text := []byte("CONFIDENTIAL\n1. (C) TEXT.\n")
	good := mustSeal(t, moscow, text, "1946MOSCOW00511", "STATE")

	t.Run("unknown station", func(t *testing.T) {
		_, err := war.Open(mustSeal(t, moscow, text, "1946MOSCOW00511", "WAR"))
		wantRefused(t, err, seal.ErrUnknownStation, cable.EFORBIDDEN)
	})
	t.Run("envelope generation rewritten", func(t *testing.T) {
		// Refused at once as a mismatch, not held for a generation 2 that
		// the origin never signed under.
		s := *good
		s.Generation = 2
		_, err := state.Open(&s)
		wantRefused(t, err, seal.ErrEnvelopeMismatch, cable.EFORBIDDEN)
	})
	t.Run("bad signature", func(t *testing.T) {
		// An impostor calling itself MOSCOW, with its own keys, seals to STATE.
		impostor := station(t, "MOSCOW")
		trust(t, impostor, state)
		_, err := state.Open(mustSeal(t, impostor, text, "1946MOSCOW00511", "STATE"))
		wantRefused(t, err, seal.ErrBadSignature, cable.EFORBIDDEN)
	})
	t.Run("altered payload", func(t *testing.T) {
		s := *good
		s.Ciphertext = bytes.Clone(good.Ciphertext)
		s.Ciphertext[len(s.Ciphertext)-1] ^= 1
		_, err := state.Open(&s)
		wantRefused(t, err, seal.ErrAltered, cable.EFORBIDDEN)
	})
	t.Run("altered header", func(t *testing.T) {
		s := *good
		s.Ciphertext = bytes.Clone(good.Ciphertext)
		i := bytes.Index(s.Ciphertext, []byte("\n---")) + 6
		s.Ciphertext[i] ^= 1
		_, err := state.Open(&s)
		wantRefused(t, err, seal.ErrAltered, cable.EFORBIDDEN)
	})
	t.Run("truncated", func(t *testing.T) {
		s := *good
		s.Ciphertext = good.Ciphertext[:len(good.Ciphertext)-20]
		s.Size = len(s.Ciphertext)
		_, err := state.Open(&s)
		wantRefused(t, err, seal.ErrAltered, cable.EFORBIDDEN)
	})
	t.Run("not addressed to us", func(t *testing.T) {
		_, err := state.Open(mustSeal(t, moscow, text, "1946MOSCOW00513", "WAR"))
		wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)
	})
	t.Run("cable id mismatch", func(t *testing.T) {
		s := *good
		s.CableID = "1946MOSCOW00999"
		_, err := state.Open(&s)
		wantRefused(t, err, seal.ErrCableIDMismatch, cable.EFORBIDDEN)
	})
	t.Run("recipients relabelled", func(t *testing.T) {
		s := *good
		s.Recipients = []string{"LONDON", "STATE"}
		_, err := state.Open(&s)
		wantRefused(t, err, seal.ErrEnvelopeMismatch, cable.EFORBIDDEN)
	})
	t.Run("malformed envelope", func(t *testing.T) {
		s := *good
		s.CableID, s.Recipients, s.Size = "bogus", nil, 1
		_, err := state.Open(&s)
		if cable.ErrorCode(err) != cable.EINVALID || len(cable.ErrorProblems(err)) != 3 {
			t.Fatalf("err = %v, want EINVALID with 3 problems", err)
		}
		if _, err := state.Open(nil); cable.ErrorCode(err) != cable.EINVALID {
			t.Fatalf("Open(nil) = %v", err)
		}
	})
	// After all that, the genuine cable still opens.
	mustOpen(t, state, good, text)
}

// Texts across age's 64 KiB chunks open whole, and a sealed cable cut or
// rearranged at a chunk boundary, where each chunk still authenticates on
// its own, is refused.
func TestOpenAcrossChunks(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	const chunk = 64 << 10
	text := bytes.Repeat([]byte("1. (S) THE TEXT RUNS ON.\n"), 3*chunk/25)
	// The signed content's header takes a few hundred bytes: these sizes
	// put the plain text's end on, just before and just after a boundary.
	for n := chunk - 512; n <= chunk+16; n++ {
		mustOpen(t, state, mustSeal(t, moscow, text[:n], "1946MOSCOW00511", "STATE"), text[:n])
	}
	long := text[:2*chunk+1000]
	s := mustSeal(t, moscow, long, "1946MOSCOW00511", "STATE")
	mustOpen(t, state, s, long)

	ct := s.Ciphertext
	end := bytes.Index(ct, []byte("\n--- "))
	if end < 0 {
		t.Fatal("no age header end")
	}
	payload := end + 1 + bytes.IndexByte(ct[end+1:], '\n') + 1 + 16 // header, then the stream nonce
	const enc = chunk + 16
	if n := len(ct) - payload; n <= 2*enc || n > 3*enc {
		t.Fatalf("payload of %d bytes, want three chunks", n)
	}
	c1, c2, c3 := ct[payload:payload+enc], ct[payload+enc:payload+2*enc], ct[payload+2*enc:]
	join := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{ct[:payload]}, parts...), nil) }
	for name, bad := range map[string][]byte{
		"last chunk cut":      join(c1, c2),
		"middle chunk cut":    join(c1, c3),
		"chunks swapped":      join(c2, c1, c3),
		"last chunk twice":    join(c1, c2, c3, c3),
		"a byte past the end": join(c1, c2, c3, []byte{0}),
	} {
		t.Run(name, func(t *testing.T) {
			altered := *s
			altered.Ciphertext, altered.Size = bad, len(bad)
			_, err := state.Open(&altered)
			wantRefused(t, err, seal.ErrAltered, cable.EFORBIDDEN)
		})
	}
}

func TestSealRefusesBadInput(t *testing.T) {
	moscow := station(t, "MOSCOW")
	_, err := moscow.Seal(nil, "1946LONDON00001", []string{"STATE", "bad"})
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	ps := cable.ErrorProblems(err)
	if len(ps) != 4 { // empty text, foreign id, bad code, untrusted STATE
		t.Fatalf("problems = %v, want 4", ps)
	}
	if _, err := moscow.Seal([]byte("x"), "1946MOSCOW00001", nil); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("no recipients: err = %v", err)
	}
}

func TestSenderRotation(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	old := []byte("SENT UNDER GENERATION 1\n")
	c1 := mustSeal(t, moscow, old, "1946MOSCOW00511", "STATE")

	p2, err := moscow.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if p2.Generation != 2 || moscow.Public().Generation != 2 {
		t.Fatalf("after rotate: generation %d, public %d", p2.Generation, moscow.Public().Generation)
	}
	ids := moscow.Identities()
	if len(ids) != 2 || !ids[0].Superseded || ids[1].Superseded {
		t.Fatalf("Identities = %+v", ids)
	}
	newer := []byte("SENT UNDER GENERATION 2\n")
	c2 := mustSeal(t, moscow, newer, "1946MOSCOW00512", "STATE")
	if c2.Generation != 2 {
		t.Fatalf("c2 generation = %d", c2.Generation)
	}
	// STATE has not yet trusted generation 2.
	_, err = state.Open(c2)
	wantRefused(t, err, seal.ErrUntrustedGeneration, cable.EFORBIDDEN)

	if _, err := state.Trust(moscow.Export()); err != nil {
		t.Fatalf("trust generation 2: %v", err)
	}
	// Both the cable in flight under generation 1 and the new one open, also
	// after both keyrings are read back from disk.
	mustOpen(t, state, c1, old)
	mustOpen(t, state, c2, newer)
	state2, err := seal.Open(state.Dir())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	mustOpen(t, state2, c1, old)
	mustOpen(t, state2, c2, newer)
	peers := state2.Peers()
	if len(peers) != 2 || peers[0].Generation != 1 || !peers[0].Superseded || peers[1].Generation != 2 || peers[1].Superseded {
		t.Fatalf("Peers = %+v", peers)
	}
	moscow2, err := seal.Open(moscow.Dir())
	if err != nil {
		t.Fatalf("reopen sender: %v", err)
	}
	if s := mustSeal(t, moscow2, newer, "1946MOSCOW00513", "STATE"); s.Generation != 2 {
		t.Fatalf("reopened sender seals under generation %d", s.Generation)
	}
}

func TestReceiverRotation(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	old := []byte("SEALED TO STATE GENERATION 1\n")
	c1 := mustSeal(t, moscow, old, "1946MOSCOW00511", "STATE")
	if _, err := state.Rotate(); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	mustOpen(t, state, c1, old)

	trust(t, moscow, state)
	if p, err := moscow.Peer("STATE"); err != nil || p.Generation != 2 {
		t.Fatalf("Peer(STATE) = %+v, %v", p, err)
	}
	newer := []byte("SEALED TO STATE GENERATION 2\n")
	c2 := mustSeal(t, moscow, newer, "1946MOSCOW00512", "STATE")
	mustOpen(t, state, c2, newer)

	// A copy of STATE's keys holding only generation 2 opens c2 and not c1:
	// the new cable is sealed to the new key.
	dir := filepath.Join(t.TempDir(), "keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(state.Dir(), "identity-0002.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "identity-0002.key"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	only2, err := seal.Open(dir)
	if err != nil {
		t.Fatalf("open generation-2 copy: %v", err)
	}
	trust(t, only2, moscow)
	mustOpen(t, only2, c2, newer)
	_, err = only2.Open(c1)
	wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)
}

func TestTrustRefusesTamperedExport(t *testing.T) {
	moscow, state, london := station(t, "MOSCOW"), station(t, "STATE"), station(t, "LONDON")
	exp := string(moscow.Export())
	line := func(key string, k *seal.Keyring) string {
		for _, l := range strings.Split(string(k.Export()), "\n") {
			if strings.HasPrefix(l, key+": ") {
				return l
			}
		}
		t.Fatalf("no %s line", key)
		return ""
	}
	ts := line("created-at", moscow)
	tampered := map[string]string{
		"recipient swapped":   strings.Replace(exp, line("recipient", moscow), line("recipient", london), 1),
		"signing key swapped": strings.Replace(exp, line("signing-key", moscow), line("signing-key", london), 1),
		"station renamed":     strings.Replace(exp, "station: MOSCOW", "station: LONDON", 1),
		"generation changed":  strings.Replace(exp, "generation: 1", "generation: 7", 1),
		"time changed":        strings.Replace(exp, ts, strings.Replace(ts, "created-at: 2", "created-at: 1", 1), 1),
	}
	for name, b := range tampered {
		t.Run(name, func(t *testing.T) {
			if b == exp {
				t.Fatal("tampering did not change the file")
			}
			_, err := state.Trust([]byte(b))
			wantRefused(t, err, seal.ErrBadSelfSignature, cable.EFORBIDDEN)
		})
	}
	if len(state.Peers()) != 0 {
		t.Fatalf("a tampered file was trusted: %+v", state.Peers())
	}
	// Comments and CRLF line ends do not matter; the untouched file is trusted.
	crlf := strings.ReplaceAll("# forwarded by courier\n"+exp, "\n", "\r\n")
	p, err := state.Trust([]byte(crlf))
	if err != nil || p.Station != "MOSCOW" || p.Fingerprint() != moscow.Public().Fingerprint() {
		t.Fatalf("Trust = %+v, %v", p, err)
	}
}

func TestTrustConflictsAndOwn(t *testing.T) {
	moscow, impostor, state := station(t, "MOSCOW"), station(t, "MOSCOW"), station(t, "STATE")
	trust(t, state, moscow)
	trust(t, state, moscow) // the same file twice is harmless
	_, err := state.Trust(impostor.Export())
	wantRefused(t, err, seal.ErrKeyConflict, cable.ECONFLICT)
	if _, err := state.Trust(state.Export()); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("trusting own identity: %v", err)
	}
	if _, err := state.Peer("LONDON"); !errors.Is(err, seal.ErrUnknownStation) {
		t.Fatalf("Peer(LONDON) = %v", err)
	}
	reopened, err := seal.Open(state.Dir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := reopened.Peer("MOSCOW")
	if err != nil || !p.Equal(moscow.Public()) {
		t.Fatalf("reopened Peer(MOSCOW) = %+v, %v", p, err)
	}
}

func TestParsePublicIdentityNamesEveryProblem(t *testing.T) {
	b := []byte("cable-public-identity-v1\nstation: moscow\ngeneration: 0\nsigning-key: !!\ncreated-at: yesterday\ncolour: red\n")
	_, err := seal.ParsePublicIdentity(b)
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("err = %v", err)
	}
	got := map[string]bool{}
	for _, p := range cable.ErrorProblems(err) {
		got[p.Field] = true
	}
	for _, f := range []string{"station", "generation", "signing-key", "created-at", `"colour"`, "recipient", "self-signature"} {
		if !got[f] {
			t.Errorf("no problem for %s in %v", f, err)
		}
	}
	if _, err := seal.ParsePublicIdentity([]byte("hello")); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("garbage: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := seal.Init(dir, "MOSCOW")
	if err != nil {
		t.Fatal(err)
	}
	_, err = seal.Init(dir, "MOSCOW")
	wantRefused(t, err, seal.ErrKeysExist, cable.ECONFLICT)
	_, err = seal.Init(dir, "LONDON")
	wantRefused(t, err, seal.ErrKeysExist, cable.ECONFLICT)
	if _, err := seal.Init(t.TempDir(), "moscow"); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("bad station: %v", err)
	}

	trust(t, k, station(t, "STATE"))
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{
		".":                    0o700,
		"identity-0001.key":    0o600,
		"identity-0002.key":    0o600,
		"peers":                0o700,
		"peers/STATE-0001.pub": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	// No temporary files left behind.
	for _, d := range []string{dir, filepath.Join(dir, "peers")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file left: %s", e.Name())
			}
		}
	}
	// The private key file holds the private keys; the export does not.
	priv, _ := os.ReadFile(filepath.Join(dir, "identity-0001.key"))
	if !bytes.Contains(priv, []byte("AGE-SECRET-KEY-1")) || bytes.Contains(k.Export(), []byte("AGE-SECRET-KEY")) {
		t.Fatal("private key file or export content wrong")
	}
	// A private key file readable by others is refused.
	if err := os.Chmod(filepath.Join(dir, "identity-0001.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Open(dir); cable.ErrorCode(err) != cable.EFORBIDDEN {
		t.Fatalf("Open with 0644 private key: %v", err)
	}
	if _, err := seal.Open(t.TempDir()); cable.ErrorCode(err) != cable.ENOTFOUND {
		t.Fatalf("Open empty dir: %v", err)
	}
}

func TestUnmarshalSealedRefusesDamage(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	wire := mustSeal(t, moscow, []byte("TEXT\n"), "1946MOSCOW00511", "STATE").Marshal()
	for name, b := range map[string][]byte{
		"truncated":  wire[:len(wire)-1],
		"extended":   append(bytes.Clone(wire), 'x'),
		"no header":  []byte("hello\n\nworld"),
		"empty":      nil,
		"no body":    bytes.SplitN(wire, []byte("\n\n"), 2)[0],
		"bad origin": bytes.Replace(wire, []byte("origin: MOSCOW"), []byte("origin: LONDON"), 1),
	} {
		if _, err := seal.UnmarshalSealed(b); cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}

// TestConcurrentUse seals and opens from many goroutines while both ends
// rotate; run under -race.
func TestConcurrentUse(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				text := fmt.Appendf(nil, "CABLE %d %d\n", g, i)
				s, err := moscow.Seal(text, fmt.Sprintf("1946MOSCOW%05d", g*100+i+1), []string{"STATE"})
				if err != nil {
					errs <- err
					return
				}
				if got, err := state.Open(s); err != nil || !bytes.Equal(got, text) {
					errs <- fmt.Errorf("open: %v", err)
					return
				}
			}
		}()
	}
	if _, err := state.Rotate(); err != nil {
		t.Fatal(err)
	}
	_ = moscow.Peers()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGenerationsAhead: a cable under a generation newer than any trusted
// waits (ErrUntrustedGeneration) while it is at most MaxGenerationsAhead
// past the newest; further ahead it is refused outright.
func TestGenerationsAhead(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state) // STATE trusts MOSCOW generation 1
	trust(t, state, moscow)
	text := []byte("CONFIDENTIAL\n1. (C) TEXT.\n")
	for gen := 2; gen <= 1+seal.MaxGenerationsAhead+1; gen++ {
		if _, err := moscow.Rotate(); err != nil {
			t.Fatal(err)
		}
		_, err := state.Open(mustSeal(t, moscow, text, "1946MOSCOW00511", "STATE"))
		if gen <= 1+seal.MaxGenerationsAhead {
			wantRefused(t, err, seal.ErrUntrustedGeneration, cable.EFORBIDDEN)
		} else {
			wantRefused(t, err, seal.ErrUnknownGeneration, cable.EFORBIDDEN)
			if errors.Is(err, cable.ErrNotYetTrusted) {
				t.Errorf("generation %d, %d ahead, would be held: %v", gen, gen-1, err)
			}
		}
	}
}
