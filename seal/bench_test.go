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

// BenchmarkSeal measures Seal+Open of a 4 KB text beside the raw engines
// underneath, in the same run: bare Ed25519 sign+verify with age
// encrypt+decrypt of the same bytes, and a bare SHA-256.
func BenchmarkSeal(b *testing.B) {
	text := make([]byte, 4096)
	rand.Read(text)
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
