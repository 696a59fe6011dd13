package seal_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"

	"filippo.io/age"
)

// BenchmarkSeal measures Seal+Open of a 4 KB text (a Keyring's, and a
// node's Keyrings' through the wire form) and Keyrings Sign+Verify of a
// receipt beside the raw engines underneath, in the same run: bare Ed25519
// sign+verify with age encrypt+decrypt of the same bytes, bare Ed25519
// sign+verify of the receipt, and a bare SHA-256. The age baseline makes a
// fresh X25519 key agreement for every file; ours shares one across the
// cables of a session (session.go), so in a loop of cables to one station
// it is the faster.
func BenchmarkSeal(b *testing.B) {
	text := make([]byte, 4096)
	rand.Read(text)
	receipt := []byte("cable-receipt-v1\nid: 1946MOSCOW00511\norigin: MOSCOW\nstation: STATE\nreceived: 1946-02-22T20:52:00Z\ncontrol: 8963\n")
	opsPerSec := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	}

	b.Run("seal+open/4KB", func(b *testing.B) {
		moscow, state := station(b, "MOSCOW"), station(b, "STATE")
		trust(b, moscow, state)
		trust(b, state, moscow)
		b.SetBytes(int64(len(text)))
		b.ResetTimer()
		for b.Loop() {
			s, err := moscow.Seal(text, "1946MOSCOW00511", []string{"STATE"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := state.Open(s); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSec(b)
	})

	b.Run("keyrings-seal+open/4KB", func(b *testing.B) {
		post, centre := newNode(b, "MOSCOW"), newNode(b, "STATE")
		trustAcross(b, post, "MOSCOW", centre, "STATE")
		trustAcross(b, centre, "STATE", post, "MOSCOW")
		b.SetBytes(int64(len(text)))
		b.ResetTimer()
		for b.Loop() {
			wire, err := post.ks.Seal("MOSCOW", "1946MOSCOW00511", text, []string{"STATE"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := centre.ks.Open("STATE", wire); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSec(b)
	})

	b.Run("keyrings-sign+verify/receipt", func(b *testing.B) {
		post, centre := newNode(b, "MOSCOW"), newNode(b, "STATE")
		trustAcross(b, post, "MOSCOW", centre, "STATE")
		b.SetBytes(int64(len(receipt)))
		b.ResetTimer()
		for b.Loop() {
			sig, err := centre.ks.Sign("STATE", receipt)
			if err != nil {
				b.Fatal(err)
			}
			if err := post.ks.Verify("STATE", receipt, sig); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSec(b)
	})

	b.Run("baseline-ed25519/receipt", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(nil)
		b.SetBytes(int64(len(receipt)))
		b.ResetTimer()
		for b.Loop() {
			if !ed25519.Verify(pub, receipt, ed25519.Sign(priv, receipt)) {
				b.Fatal("verify failed")
			}
		}
		opsPerSec(b)
	})

	b.Run("baseline-ed25519+age/4KB", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(nil)
		id, _ := age.GenerateX25519Identity()
		rcpt := id.Recipient()
		b.SetBytes(int64(len(text)))
		b.ResetTimer()
		for b.Loop() {
			sig := ed25519.Sign(priv, text)
			var ct bytes.Buffer
			w, err := age.Encrypt(&ct, rcpt)
			if err != nil {
				b.Fatal(err)
			}
			w.Write(text)
			w.Write(sig)
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			r, err := age.Decrypt(&ct, id)
			if err != nil {
				b.Fatal(err)
			}
			plain, err := io.ReadAll(r)
			if err != nil {
				b.Fatal(err)
			}
			if !ed25519.Verify(pub, plain[:len(text)], plain[len(text):]) {
				b.Fatal("verify failed")
			}
		}
		opsPerSec(b)
	})

	b.Run("baseline-sha256/4KB", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			sha256.Sum256(text)
		}
		opsPerSec(b)
	})
}
