package seal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cable-archive/cable/seal"
)

// TestTrustRefusesAForgedFingerprintLine: docs/keys.md step 3 has the
// receiving operator read the file's "# Fingerprint:" line aloud. That line
// was a comment ParsePublicIdentity ignored, so a file swapped in transit
// could carry the genuine station's fingerprint over the attacker's key. It
// is now checked against the key, and so is the line naming the station.
func TestTrustRefusesAForgedFingerprintLine(t *testing.T) {
	genuine, attacker, state := station(t, "MOSCOW"), station(t, "MOSCOW"), station(t, "STATE")
	good, bad := genuine.Public().Fingerprint(), attacker.Public().Fingerprint()
	forged := strings.Replace(string(attacker.Export()), "# Fingerprint: "+bad, "# Fingerprint: "+good, 1)
	if !strings.Contains(forged, "# Fingerprint: "+good) {
		t.Fatal("test setup: no fingerprint line")
	}
	p, err := state.Trust([]byte(forged))
	if err == nil {
		t.Errorf("trusted a file whose '# Fingerprint:' line reads %s (the genuine MOSCOW key) but whose key is %s",
			good, p.Fingerprint())
	} else if !errors.Is(err, seal.ErrCommentMismatch) {
		t.Errorf("refused with %v, want ErrCommentMismatch", err)
	}
	renamed := strings.Replace(string(attacker.Export()), "station MOSCOW, key generation 1", "station MOSCOW, key generation 2", 1)
	if _, err := state.Trust([]byte(renamed)); !errors.Is(err, seal.ErrCommentMismatch) {
		t.Errorf("a file whose title names generation 2 over a generation-1 key: %v, want ErrCommentMismatch", err)
	}
	// The genuine file, its comments as exported, is trusted.
	if _, err := state.Trust(genuine.Export()); err != nil {
		t.Errorf("the genuine file: %v", err)
	}
}

// TestRelabelledUnderNewGenerationRefused: docs/keys.md says "rewriting an
// envelope never makes a receiving centre hold a cable". A relay that
// rewrote the cable identifier of a cable under a generation not trusted
// yet got ErrUntrustedGeneration (held for an hour), not a refusal.
func TestRelabelledUnderNewGenerationRefused(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	if _, err := moscow.Rotate(); err != nil {
		t.Fatal(err)
	}
	s := mustSeal(t, moscow, []byte("UNDER GENERATION 2\n"), "1946MOSCOW00512", "STATE")
	s.CableID = "1946MOSCOW00777" // relabelled by the relay
	_, err := state.Open(s)
	if errors.Is(err, seal.ErrUntrustedGeneration) {
		t.Errorf("relabelled envelope (signed 00512, envelope 00777) reported as %v: the centre holds it", err)
	}
}

// TestStolenGenerationRetired: MOSCOW's generation 1 is stolen; MOSCOW
// rotates and STATE trusts generation 2. A cable under generation 1 still
// opens for SupersededGrace after generation 2 was made (it may have been
// in flight), then no more: the thief's forgeries stop working. Before, a
// replaced generation verified for ever.
func TestStolenGenerationRetired(t *testing.T) {
	moscow, state := station(t, "MOSCOW"), station(t, "STATE")
	trust(t, moscow, state)
	trust(t, state, moscow)
	stolenDir := filepath.Join(t.TempDir(), "stolen")
	if err := os.MkdirAll(stolenDir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(moscow.Dir(), "identity-0001.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stolenDir, "identity-0001.key"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	thief, err := seal.Open(stolenDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := thief.Trust(state.Export()); err != nil {
		t.Fatal(err)
	}
	if _, err := moscow.Rotate(); err != nil {
		t.Fatal(err)
	}
	trust(t, state, moscow)
	forged := mustSeal(t, thief, []byte("FORGED AFTER ROTATION\n"), "1946MOSCOW09999", "STATE")
	if _, err := state.Open(forged); err != nil {
		t.Errorf("within the grace, a cable under generation 1 (in flight when MOSCOW rotated): %v", err)
	}
	made := time.Now()
	state.Now = func() time.Time { return made.Add(seal.SupersededGrace + time.Hour) }
	if _, err := state.Open(forged); !errors.Is(err, seal.ErrRetiredGeneration) {
		t.Errorf("a cable under generation 1 after the grace: %v, want ErrRetiredGeneration", err)
	}
	// Generation 2 is not affected.
	genuine := mustSeal(t, moscow, []byte("GENUINE\n"), "1946MOSCOW09998", "STATE")
	if _, err := state.Open(genuine); err != nil {
		t.Errorf("a cable under generation 2: %v", err)
	}
}
