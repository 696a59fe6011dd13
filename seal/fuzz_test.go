package seal_test

import (
	"bytes"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

func FuzzParsePublicIdentity(f *testing.F) {
	moscow := station(f, "MOSCOW")
	f.Add(moscow.Export())
	f.Add([]byte("cable-public-identity-v1\nstation: MOSCOW\ngeneration: 1\n"))
	f.Add([]byte("# comment\n\ncable-public-identity-v1\nstation: MOSCOW\nstation: MOSCOW\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := seal.ParsePublicIdentity(b)
		if err != nil {
			return
		}
		q, err := seal.ParsePublicIdentity(p.Marshal())
		if err != nil {
			t.Fatalf("reparse of accepted identity: %v", err)
		}
		if !q.Equal(*p) {
			t.Fatalf("round trip changed identity: %+v != %+v", q, p)
		}
	})
}

func FuzzUnmarshalSealed(f *testing.F) {
	moscow, state := station(f, "MOSCOW"), station(f, "STATE")
	trust(f, moscow, state)
	f.Add(mustSeal(f, moscow, []byte("TEXT\n"), "1946MOSCOW00511", "STATE").Marshal())
	f.Add([]byte("cable-sealed-v1\nid: 1946MOSCOW00511\norigin: MOSCOW\ngeneration: 1\nrecipients: STATE\nsize: 1\n\nx"))
	f.Add([]byte("cable-sealed-v1\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := seal.UnmarshalSealed(b)
		if err != nil {
			return
		}
		s2, err := seal.UnmarshalSealed(s.Marshal())
		if err != nil {
			t.Fatalf("reparse of accepted envelope: %v", err)
		}
		if s2.CableID != s.CableID || s2.Origin != s.Origin || s2.Generation != s.Generation ||
			s2.Size != s.Size || !bytes.Equal(s2.Ciphertext, s.Ciphertext) {
			t.Fatalf("round trip changed envelope: %+v != %+v", s2, s)
		}
	})
}

// FuzzOpen feeds random wire bytes, and random ciphertext under a valid
// envelope, to a receiver: it must refuse them all without panicking.
func FuzzOpen(f *testing.F) {
	moscow, state := station(f, "MOSCOW"), station(f, "STATE")
	trust(f, moscow, state)
	trust(f, state, moscow)
	good := mustSeal(f, moscow, []byte("TEXT\n"), "1946MOSCOW00511", "STATE")
	f.Add(good.Marshal())
	f.Add(good.Ciphertext)
	f.Add([]byte("age-encryption.org/v1\n-> X25519 AAAA\n--- AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := seal.UnmarshalSealed(b); err == nil {
			// Only MOSCOW's genuine seal may open (perhaps re-spelt, e.g.
			// with comment lines); nothing else can carry its signature.
			if text, err := state.Open(s); err == nil && string(text) != "TEXT\n" {
				t.Fatalf("random wire bytes opened: %q", text)
			}
		}
		s := *good
		s.Ciphertext, s.Size = b, len(b)
		if text, err := state.Open(&s); err == nil && string(text) != "TEXT\n" {
			t.Fatalf("random ciphertext opened: %q", text)
		}
	})
}

// FuzzKeyringsOpen feeds arbitrary wire bytes to a node's Open: it must
// never panic, refuse everything with EFORBIDDEN, and open only the one
// genuine cable (perhaps re-spelt), with its signed identifier and origin.
func FuzzKeyringsOpen(f *testing.F) {
	post, centre := newNode(f, "MOSCOW"), newNode(f, "STATE")
	trustAcross(f, post, "MOSCOW", centre, "STATE")
	trustAcross(f, centre, "STATE", post, "MOSCOW")
	good := mustSealWire(f, post.ks, "MOSCOW", "1946MOSCOW00511", []byte("TEXT\n"), "STATE")
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("cable-sealed-v1\nid: 1946MOSCOW00511\norigin: MOSCOW\ngeneration: 1\nrecipients: STATE\nsize: 1\n\nx"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := centre.ks.Open("STATE", b)
		if err != nil {
			if code := cable.ErrorCode(err); code != cable.EFORBIDDEN {
				t.Fatalf("refusal code %s: %v", code, err)
			}
			return
		}
		if o.CableID != "1946MOSCOW00511" || o.Origin != "MOSCOW" || string(o.Text) != "TEXT\n" {
			t.Fatalf("arbitrary bytes opened: %+v", o)
		}
	})
}

// FuzzKeyringsVerify feeds arbitrary messages and signatures to Verify: it
// must never panic, refuse with EFORBIDDEN, and accept only the genuine
// signature of the genuine message.
func FuzzKeyringsVerify(f *testing.F) {
	post, centre := newNode(f, "MOSCOW"), newNode(f, "STATE")
	trustAcross(f, post, "MOSCOW", centre, "STATE")
	msg := []byte("cable-receipt-v1\nid: 1946MOSCOW00511\n")
	sig, err := centre.ks.Sign("STATE", msg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("STATE", msg, sig)
	f.Add("STATE", msg, sig[4:])
	f.Add("MOSCOW", msg, sig)
	f.Add("LONDON", []byte{}, []byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, station string, m, s []byte) {
		err := post.ks.Verify(station, m, s)
		if err != nil {
			if code := cable.ErrorCode(err); code != cable.EFORBIDDEN {
				t.Fatalf("refusal code %s: %v", code, err)
			}
			return
		}
		if station != "STATE" || !bytes.Equal(m, msg) || !bytes.Equal(s, sig) {
			t.Fatalf("Verify accepted %q %q %x", station, m, s)
		}
	})
}
