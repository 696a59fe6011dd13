package seal_test

import (
	"bytes"
	"testing"

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
