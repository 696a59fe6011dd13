package seal_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

// testNode is a node's data directory with keys for its hosted stations,
// made as `cable station init` makes them, and its Keyrings.
type testNode struct {
	data string
	ks   *seal.Keyrings
}

func (n *testNode) keysDir() string { return filepath.Join(n.data, "keys") }

// keyring opens a hosted station's keyring as the command line does, to
// trust, rotate or export while the node runs.
func (n *testNode) keyring(t testing.TB, station string) *seal.Keyring {
	t.Helper()
	k, err := seal.Open(filepath.Join(n.keysDir(), station))
	if err != nil {
		t.Fatalf("open keyring %s: %v", station, err)
	}
	return k
}

func (n *testNode) reload(t testing.TB) {
	t.Helper()
	if err := n.ks.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
}

// newNode makes keys for stations in a fresh data directory and opens them.
func newNode(t testing.TB, stations ...string) *testNode {
	t.Helper()
	n := &testNode{data: t.TempDir()}
	for _, st := range stations {
		if _, err := seal.Init(filepath.Join(n.keysDir(), st), st); err != nil {
			t.Fatalf("Init %s: %v", st, err)
		}
	}
	ks, err := seal.OpenKeyrings(n.keysDir(), stations)
	if err != nil {
		t.Fatalf("OpenKeyrings: %v", err)
	}
	ks.SetLogger(slog.New(slog.DiscardHandler))
	n.ks = ks
	return n
}

// trustAcross makes station st at node a trust the current identity of
// station from at node b, on disk as the operator does, and reloads a.
func trustAcross(t testing.TB, a *testNode, st string, b *testNode, from string) {
	t.Helper()
	if _, err := a.keyring(t, st).Trust(b.keyring(t, from).Export()); err != nil {
		t.Fatalf("%s trusts %s: %v", st, from, err)
	}
	a.reload(t)
}

func mustSealWire(t testing.TB, ks *seal.Keyrings, origin, id string, text []byte, to ...string) []byte {
	t.Helper()
	b, err := ks.Seal(origin, id, text, to)
	if err != nil {
		t.Fatalf("Seal %s: %v", id, err)
	}
	return b
}

func mustOpenWire(t testing.TB, ks *seal.Keyrings, station string, wire []byte, id, origin string, text []byte) {
	t.Helper()
	o, err := ks.Open(station, wire)
	if err != nil {
		t.Fatalf("open %s at %s: %v", id, station, err)
	}
	if o.CableID != id || o.Origin != origin || !bytes.Equal(o.Text, text) {
		t.Fatalf("opened %s at %s: id %s origin %s, %d bytes; want %s %s %d bytes", id, station, o.CableID, o.Origin, len(o.Text), id, origin, len(text))
	}
}

func TestOpenKeyringsRefusals(t *testing.T) {
	n := newNode(t, "MOSCOW")
	_, err := seal.OpenKeyrings(n.keysDir(), []string{"MOSCOW", "LONDON", "STATE"})
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("missing keys: err = %v, want EINVALID", err)
	}
	for _, st := range []string{"LONDON", "STATE"} {
		if !strings.Contains(cable.ErrorMessage(err), st) {
			t.Errorf("message %q does not name %s", cable.ErrorMessage(err), st)
		}
		found := false
		for _, p := range cable.ErrorProblems(err) {
			if p.Field == st && strings.Contains(p.Message, "cable station init --data "+n.data+" --station "+st) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem for %s with its init command in %v", st, err)
		}
	}
	if len(cable.ErrorProblems(err)) != 2 {
		t.Errorf("problems = %v, want 2", cable.ErrorProblems(err))
	}

	if _, err := seal.OpenKeyrings(n.keysDir(), nil); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("no stations: %v", err)
	}
	if _, err := seal.OpenKeyrings(n.keysDir(), []string{"moscow"}); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("bad code: %v", err)
	}
	// MOSCOW's keys copied under LONDON are not LONDON's keys.
	b, err := os.ReadFile(filepath.Join(n.keysDir(), "MOSCOW", "identity-0001.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(n.keysDir(), "LONDON"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.keysDir(), "LONDON", "identity-0001.key"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = seal.OpenKeyrings(n.keysDir(), []string{"LONDON"})
	if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "MOSCOW") {
		t.Errorf("keys of another station: %v", err)
	}
	// Duplicates are harmless and the list comes back sorted.
	ks, err := seal.OpenKeyrings(n.keysDir(), []string{"MOSCOW", "MOSCOW"})
	if err != nil || strings.Join(ks.Stations(), " ") != "MOSCOW" {
		t.Fatalf("OpenKeyrings(MOSCOW, MOSCOW) = %v, %v", ks, err)
	}
}

func TestKeyringsHostedToHosted(t *testing.T) {
	// One node hosts three stations and no operator has trusted anything:
	// hosted stations know one another's keys from their private files.
	n := newNode(t, "STATE", "MOSCOW", "WAR")
	if got := strings.Join(n.ks.Stations(), " "); got != "MOSCOW STATE WAR" {
		t.Fatalf("Stations = %s", got)
	}
	if err := n.ks.CanSeal("MOSCOW", "STATE"); err != nil {
		t.Fatalf("CanSeal(MOSCOW, STATE) = %v", err)
	}
	if err := n.ks.CanSeal("MOSCOW", "MOSCOW"); err != nil {
		t.Fatalf("CanSeal(MOSCOW, MOSCOW) = %v", err)
	}
	for _, c := range []struct{ origin, recipient, name string }{
		{"MOSCOW", "LONDON", "LONDON"},
		{"LONDON", "STATE", "LONDON"},
		{"MOSCOW", "nope", "nope"},
	} {
		err := n.ks.CanSeal(c.origin, c.recipient)
		if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(cable.ErrorMessage(err), c.name) {
			t.Errorf("CanSeal(%s, %s) = %v, want EINVALID naming %s", c.origin, c.recipient, err, c.name)
		}
	}
	text := seedText(t)
	wire := mustSealWire(t, n.ks, "MOSCOW", "1946MOSCOW00511", text, "STATE", "WAR")
	if bytes.Contains(wire, []byte("Kennan")) {
		t.Fatal("wire form carries plaintext")
	}
	mustOpenWire(t, n.ks, "STATE", wire, "1946MOSCOW00511", "MOSCOW", text)
	mustOpenWire(t, n.ks, "WAR", wire, "1946MOSCOW00511", "MOSCOW", text)
	_, err := n.ks.Open("MOSCOW", wire)
	wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)

	// Seal refuses what CanSeal refuses, as EINVALID.
	if _, err := n.ks.Seal("LONDON", "1946LONDON00001", text, []string{"STATE"}); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Seal from unhosted origin: %v", err)
	}
	if _, err := n.ks.Seal("MOSCOW", "1946MOSCOW00512", text, []string{"LONDON"}); cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "LONDON") {
		t.Errorf("Seal to untrusted recipient: %v", err)
	}
	if _, err := n.ks.Seal("MOSCOW", "1946STATE00512", text, []string{"STATE"}); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("Seal of another station's cable: %v", err)
	}

	// Receipts signed by one hosted station verify at the node, and a
	// station verifies its own signatures.
	msg := []byte("cable-receipt-v1\nid: 1946MOSCOW00511\n")
	sig, err := n.ks.Sign("STATE", msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if len(sig) != seal.SignatureSize || binary.BigEndian.Uint32(sig) != 1 {
		t.Fatalf("signature %d bytes, generation %d", len(sig), binary.BigEndian.Uint32(sig))
	}
	if err := n.ks.Verify("STATE", msg, sig); err != nil {
		t.Fatalf("Verify own: %v", err)
	}
	err = n.ks.Verify("MOSCOW", msg, sig)
	wantRefused(t, err, seal.ErrBadSignature, cable.EFORBIDDEN)
}

// TestKeyringsHostedOverridesStalePeer: a peers/ file that names a hosted
// station with another key (an impostor trusted by mistake, or keys made
// again) does not keep the node's own stations from reaching each other.
func TestKeyringsHostedOverridesStalePeer(t *testing.T) {
	n := newNode(t, "MOSCOW", "STATE")
	impostor := station(t, "STATE")
	if _, err := impostor.Rotate(); err != nil { // generation 2, which real STATE lacks
		t.Fatal(err)
	}
	if _, err := n.keyring(t, "MOSCOW").Trust(impostor.Export()); err != nil {
		t.Fatalf("trust impostor generation 2: %v", err)
	}
	var logged bytes.Buffer
	n.ks.SetLogger(slog.New(slog.NewTextHandler(&logged, nil)))
	n.reload(t)
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "generation 2") {
		t.Errorf("no warning of the stale peer key in the log:\n%s", logged.String())
	}
	text := []byte("TO THE REAL STATE\n")
	wire := mustSealWire(t, n.ks, "MOSCOW", "1946MOSCOW00511", text, "STATE")
	if s, err := seal.UnmarshalSealed(wire); err != nil || s.Generation != 1 {
		t.Fatalf("envelope %+v, %v", s, err)
	}
	mustOpenWire(t, n.ks, "STATE", wire, "1946MOSCOW00511", "MOSCOW", text)
	if _, err := impostor.Open(mustUnmarshal(t, wire)); err == nil {
		t.Fatal("impostor opened a cable for the hosted STATE")
	}
}

func mustUnmarshal(t testing.TB, wire []byte) *seal.Sealed {
	t.Helper()
	s, err := seal.UnmarshalSealed(wire)
	if err != nil {
		t.Fatalf("UnmarshalSealed: %v", err)
	}
	return s
}

func TestKeyringsAcrossNodes(t *testing.T) {
	post, centre := newNode(t, "MOSCOW"), newNode(t, "STATE", "EUR")
	err := post.ks.CanSeal("MOSCOW", "STATE")
	if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(cable.ErrorMessage(err), "cable station trust --data "+post.data+" --station MOSCOW") {
		t.Fatalf("CanSeal before trust = %v", err)
	}
	// The operators exchange identities while both nodes run; Reload
	// takes them in.
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	trustAcross(t, centre, "STATE", post, "MOSCOW")
	if err := post.ks.CanSeal("MOSCOW", "STATE"); err != nil {
		t.Fatalf("CanSeal after trust = %v", err)
	}
	if err := post.ks.CanSeal("MOSCOW", "EUR"); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("CanSeal to a station not trusted = %v", err)
	}

	text := seedText(t)
	wire := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00511", text, "STATE")
	mustOpenWire(t, centre.ks, "STATE", wire, "1946MOSCOW00511", "MOSCOW", text)
	// Opened again (a redelivery), it opens the same: replays are the
	// records' business.
	mustOpenWire(t, centre.ks, "STATE", wire, "1946MOSCOW00511", "MOSCOW", text)
	// EUR, hosted at the centre, does not trust MOSCOW and is not addressed.
	_, err = centre.ks.Open("EUR", wire)
	wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)

	// The receipt goes back signed by STATE and verifies at the post.
	r := &cable.DeliveryReceipt{CableID: "1946MOSCOW00511", Origin: "MOSCOW", Station: "STATE",
		ReceivedAt: time.Date(1946, 2, 22, 20, 52, 0, 0, time.UTC), ControlNumber: "8963"}
	sig, err := centre.ks.Sign("STATE", r.SignedBytes())
	if err != nil {
		t.Fatal(err)
	}
	got, signed, gotSig, err := cable.ParseReceipt(cable.MarshalReceipt(r, sig))
	if err != nil {
		t.Fatalf("ParseReceipt: %v", err)
	}
	if err := post.ks.Verify(got.Station, signed, gotSig); err != nil {
		t.Fatalf("post verifies receipt: %v", err)
	}
	// A receipt with another control number does not.
	r.ControlNumber = "8964"
	err = post.ks.Verify("STATE", r.SignedBytes(), sig)
	wantRefused(t, err, seal.ErrBadSignature, cable.EFORBIDDEN)
	// EUR's signatures mean nothing at the post, which trusts only STATE.
	eurSig, err := centre.ks.Sign("EUR", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	err = post.ks.Verify("EUR", []byte("x"), eurSig)
	wantRefused(t, err, seal.ErrUnknownStation, cable.EFORBIDDEN)
}

func TestKeyringsOpenRefusals(t *testing.T) {
	// The post hosts MOSCOW and WAR; the centre STATE; LONDON is a third
	// node the centre trusts.
	post, centre, london := newNode(t, "MOSCOW", "WAR"), newNode(t, "STATE"), newNode(t, "LONDON")
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	trustAcross(t, centre, "STATE", post, "MOSCOW")
	trustAcross(t, centre, "STATE", london, "LONDON")
	text := []byte("SECRET\n1. (S) TEXT.\n")
	good := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00511", text, "STATE")
	head, body, _ := bytes.Cut(good, []byte("\n\n"))
	rewrap := func(head string, ct []byte) []byte {
		return append([]byte(head+"\n\n"), ct...)
	}
	env := string(head)

	impostor := newNode(t, "MOSCOW")
	trustAcross(t, impostor, "MOSCOW", centre, "STATE")
	forged := mustSealWire(t, impostor.ks, "MOSCOW", "1946MOSCOW00511", text, "STATE")

	flipLast := bytes.Clone(body)
	flipLast[len(flipLast)-1] ^= 1
	flipHeader := bytes.Clone(body)
	flipHeader[bytes.Index(flipHeader, []byte("\n---"))+6] ^= 1

	cases := []struct {
		name    string
		station string
		wire    []byte
		want    error
	}{
		{"ciphertext byte flipped", "STATE", rewrap(env, flipLast), seal.ErrAltered},
		{"age header byte flipped", "STATE", rewrap(env, flipHeader), seal.ErrAltered},
		{"truncated", "STATE", good[:len(good)-1], seal.ErrAltered},
		{"envelope byte flipped", "STATE", append([]byte("cable-sealed-v2"), good[len("cable-sealed-v1"):]...), seal.ErrAltered},
		{"envelope generation", "STATE", rewrap(strings.Replace(env, "generation: 1", "generation: 2", 1), body), seal.ErrEnvelopeMismatch},
		{"envelope relabelled", "STATE", rewrap(strings.Replace(env, "00511", "00999", 1), body), seal.ErrCableIDMismatch},
		{"envelope recipients", "STATE", rewrap(strings.Replace(env, "recipients: STATE", "recipients: LONDON STATE", 1), body), seal.ErrEnvelopeMismatch},
		{"origin swapped to a trusted station", "STATE", rewrap(strings.NewReplacer("MOSCOW", "LONDON").Replace(env), body), seal.ErrEnvelopeMismatch},
		{"origin swapped to an unknown station", "STATE", rewrap(strings.NewReplacer("MOSCOW", "PARIS").Replace(env), body), seal.ErrUnknownStation},
		{"forged by an impostor", "STATE", forged, seal.ErrBadSignature},
		{"station not hosted", "LONDON", good, seal.ErrNotHosted},
		{"wrong recipient", "WAR", good, seal.ErrNotAddressed},
		{"garbage", "STATE", []byte("hello"), seal.ErrAltered},
		{"empty", "STATE", nil, seal.ErrAltered},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := centre
			if c.station == "WAR" {
				at = post
			}
			o, err := at.ks.Open(c.station, c.wire)
			if o != nil {
				t.Fatalf("opened: %+v", o)
			}
			wantRefused(t, err, c.want, cable.EFORBIDDEN)
		})
	}
	// A cable for WAR, hosted at the post, does not open at STATE.
	forWar := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00512", text, "WAR")
	_, err := centre.ks.Open("STATE", forWar)
	wantRefused(t, err, seal.ErrNotAddressed, cable.EFORBIDDEN)
	mustOpenWire(t, post.ks, "WAR", forWar, "1946MOSCOW00512", "MOSCOW", text)
	// After all that the genuine cable still opens.
	mustOpenWire(t, centre.ks, "STATE", good, "1946MOSCOW00511", "MOSCOW", text)
}

func TestKeyringsSignVerifyRefusals(t *testing.T) {
	post, centre := newNode(t, "MOSCOW"), newNode(t, "STATE")
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	msg := []byte("cable-receipt-v1\nid: 1946MOSCOW00511\ncontrol: 8963\n")
	sig, err := centre.ks.Sign("STATE", msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := post.ks.Verify("STATE", msg, sig); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The signature covers a prefix naming its purpose: it is not a bare
	// Ed25519 signature of msg, so it cannot be passed off as a seal's.
	pub := centre.keyring(t, "STATE").Public()
	if ed25519.Verify(pub.SigningKey, msg, sig[4:]) {
		t.Fatal("Sign made a bare signature of msg")
	}

	flipped := bytes.Clone(sig)
	flipped[10] ^= 1
	gen2 := bytes.Clone(sig)
	binary.BigEndian.PutUint32(gen2, 2)
	gen0 := bytes.Clone(sig)
	binary.BigEndian.PutUint32(gen0, 0)
	for _, c := range []struct {
		name    string
		station string
		msg     []byte
		sig     []byte
		want    error
	}{
		{"message changed", "STATE", append(bytes.Clone(msg), 'x'), sig, seal.ErrBadSignature},
		{"signature byte flipped", "STATE", msg, flipped, seal.ErrBadSignature},
		{"bare ed25519 signature", "STATE", msg, sig[4:], seal.ErrBadSignature},
		{"empty", "STATE", msg, nil, seal.ErrBadSignature},
		{"too long", "STATE", msg, append(bytes.Clone(sig), 0), seal.ErrBadSignature},
		{"generation 0", "STATE", msg, gen0, seal.ErrBadSignature},
		{"untrusted generation", "STATE", msg, gen2, seal.ErrUntrustedGeneration},
		{"claimed by another station", "MOSCOW", msg, sig, seal.ErrBadSignature},
		{"unknown station", "LONDON", msg, sig, seal.ErrUnknownStation},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantRefused(t, post.ks.Verify(c.station, c.msg, c.sig), c.want, cable.EFORBIDDEN)
		})
	}
	_, err = post.ks.Sign("STATE", msg)
	wantRefused(t, err, seal.ErrNotHosted, cable.EFORBIDDEN)
}

// TestKeyringsRotationInFlight rotates both stations' keys with the
// command line's calls while the nodes run: nothing sealed or signed
// before a rotation is lost.
func TestKeyringsRotationInFlight(t *testing.T) {
	post, centre := newNode(t, "MOSCOW"), newNode(t, "STATE")
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	trustAcross(t, centre, "STATE", post, "MOSCOW")

	// In flight: a cable sealed to STATE generation 1, a receipt signed
	// by STATE generation 1, a cable signed by MOSCOW generation 1.
	old := []byte("SEALED BEFORE ANY ROTATION\n")
	c1 := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00511", old, "STATE")
	receipt := []byte("cable-receipt-v1\nid: 1946MOSCOW00500\n")
	sig1, err := centre.ks.Sign("STATE", receipt)
	if err != nil {
		t.Fatal(err)
	}

	// STATE rotates; the centre reloads; the post does not know yet.
	if _, err := centre.keyring(t, "STATE").Rotate(); err != nil {
		t.Fatal(err)
	}
	centre.reload(t)
	mustOpenWire(t, centre.ks, "STATE", c1, "1946MOSCOW00511", "MOSCOW", old)
	sig2, err := centre.ks.Sign("STATE", receipt)
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(sig2) != 2 {
		t.Fatalf("signature after rotation names generation %d", binary.BigEndian.Uint32(sig2))
	}
	for _, s := range [][]byte{sig1, sig2} { // a station checks its own, old and new
		if err := centre.ks.Verify("STATE", receipt, s); err != nil {
			t.Fatalf("centre verifies own signature generation %d: %v", binary.BigEndian.Uint32(s), err)
		}
	}
	if err := post.ks.Verify("STATE", receipt, sig1); err != nil {
		t.Fatalf("post verifies generation 1: %v", err)
	}
	wantRefused(t, post.ks.Verify("STATE", receipt, sig2), seal.ErrUntrustedGeneration, cable.EFORBIDDEN)
	// Until the post trusts generation 2 it keeps sealing to generation 1,
	// which the centre still opens.
	c2 := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00512", old, "STATE")
	mustOpenWire(t, centre.ks, "STATE", c2, "1946MOSCOW00512", "MOSCOW", old)

	// The post's operator trusts STATE generation 2.
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	for _, s := range [][]byte{sig1, sig2} {
		if err := post.ks.Verify("STATE", receipt, s); err != nil {
			t.Fatalf("post verifies STATE generation %d after trusting both: %v", binary.BigEndian.Uint32(s), err)
		}
	}
	newer := []byte("SEALED TO STATE GENERATION 2\n")
	c3 := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00513", newer, "STATE")
	mustOpenWire(t, centre.ks, "STATE", c3, "1946MOSCOW00513", "MOSCOW", newer)

	// MOSCOW rotates with c4 in flight under generation 1.
	c4 := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00514", old, "STATE")
	if _, err := post.keyring(t, "MOSCOW").Rotate(); err != nil {
		t.Fatal(err)
	}
	post.reload(t)
	c5 := mustSealWire(t, post.ks, "MOSCOW", "1946MOSCOW00515", newer, "STATE")
	mustOpenWire(t, centre.ks, "STATE", c4, "1946MOSCOW00514", "MOSCOW", old)
	_, err = centre.ks.Open("STATE", c5)
	wantRefused(t, err, seal.ErrUntrustedGeneration, cable.EFORBIDDEN)
	trustAcross(t, centre, "STATE", post, "MOSCOW")
	mustOpenWire(t, centre.ks, "STATE", c5, "1946MOSCOW00515", "MOSCOW", newer)
	// Every cable sent still opens.
	for i, c := range [][]byte{c1, c2, c4} {
		if _, err := centre.ks.Open("STATE", c); err != nil {
			t.Fatalf("cable %d after both rotations: %v", i, err)
		}
	}
}

// TestKeyringsReloadKeepsKeysOnError: a reload that cannot read the keys
// refuses and leaves the node working with the keys it had.
func TestKeyringsReloadKeepsKeysOnError(t *testing.T) {
	n := newNode(t, "MOSCOW", "STATE")
	key := filepath.Join(n.keysDir(), "STATE", "identity-0001.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.ks.Reload(); cable.ErrorCode(err) != cable.EFORBIDDEN {
		t.Fatalf("Reload with a 0644 private key = %v, want EFORBIDDEN", err)
	}
	text := []byte("STILL WORKING\n")
	mustOpenWire(t, n.ks, "STATE", mustSealWire(t, n.ks, "MOSCOW", "1946MOSCOW00511", text, "STATE"), "1946MOSCOW00511", "MOSCOW", text)
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(n.keysDir(), "MOSCOW")); err != nil {
		t.Fatal(err)
	}
	err := n.ks.Reload()
	if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "cable station init --data "+n.data+" --station MOSCOW") {
		t.Fatalf("Reload with keys gone = %v", err)
	}
	mustOpenWire(t, n.ks, "STATE", mustSealWire(t, n.ks, "MOSCOW", "1946MOSCOW00512", text, "STATE"), "1946MOSCOW00512", "MOSCOW", text)
}

// TestKeyringsConcurrentReload seals, opens, signs and verifies from many
// goroutines while operators trust and rotate on disk and the nodes
// reload; run under -race.
func TestKeyringsConcurrentReload(t *testing.T) {
	post, centre := newNode(t, "MOSCOW"), newNode(t, "STATE")
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	trustAcross(t, centre, "STATE", post, "MOSCOW")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				text := fmt.Appendf(nil, "CABLE %d %d\n", g, i)
				id := fmt.Sprintf("1946MOSCOW%05d", g*100+i+1)
				wire, err := post.ks.Seal("MOSCOW", id, text, []string{"STATE"})
				if err != nil {
					errs <- err
					return
				}
				o, err := centre.ks.Open("STATE", wire)
				if err != nil || !bytes.Equal(o.Text, text) {
					errs <- fmt.Errorf("open %s: %v", id, err)
					return
				}
				sig, err := centre.ks.Sign("STATE", text)
				if err != nil {
					errs <- err
					return
				}
				if err := centre.ks.Verify("STATE", text, sig); err != nil {
					errs <- fmt.Errorf("verify %s: %w", id, err)
					return
				}
			}
		})
	}
	// STATE rotates and the centre reloads while cables sealed to
	// generation 1 are in flight; the post learns generation 2 later.
	if _, err := centre.keyring(t, "STATE").Rotate(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		centre.reload(t)
	}
	trustAcross(t, post, "MOSCOW", centre, "STATE")
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKeyringsErrorsWrapSentinels(t *testing.T) {
	n := newNode(t, "STATE")
	_, err := n.ks.Open("STATE", []byte("cable-sealed-v1\n\n"))
	var ce *cable.Error
	if !errors.As(err, &ce) || ce.Code != cable.EFORBIDDEN || !strings.Contains(err.Error(), "open at STATE") {
		t.Fatalf("err = %v", err)
	}
}
