package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

// TestStationKeys follows the operators' procedure between two nodes:
// init at each, export, trust at the other, rotate; then a cable sealed
// at MOSCOW opens at STATE and not at LONDON, which trusts nobody.
func TestStationKeys(t *testing.T) {
	moscow, state, london := t.TempDir(), t.TempDir(), t.TempDir()
	for _, n := range []struct{ data, code string }{{moscow, "MOSCOW"}, {state, "STATE"}, {london, "LONDON"}} {
		out, errOut, err := runCLI(t, "", "station", "init", "--data", n.data, "--station", n.code)
		if err != nil || !strings.Contains(out, "fingerprint") {
			t.Fatalf("init %s: %v %s %s", n.code, err, out, errOut)
		}
	}
	if _, _, err := runCLI(t, "", "station", "init", "--data", moscow, "--station", "MOSCOW"); cable.ErrorCode(err) != cable.ECONFLICT {
		t.Fatalf("second init: %v", err)
	}
	exported, _, err := runCLI(t, "", "station", "export", "--data", moscow, "--station", "MOSCOW")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, exported, "station", "trust", "--data", state, "--station", "STATE", "-")
	if err != nil || !strings.Contains(out, "STATE now trusts MOSCOW generation 1") {
		t.Fatalf("trust: %v %s %s", err, out, errOut)
	}
	// A tampered export is refused.
	tampered := strings.Replace(exported, "station: MOSCOW", "station: ANKARA", 1)
	if _, _, err := runCLI(t, tampered, "station", "trust", "--data", state, "--station", "STATE", "-"); err == nil {
		t.Fatal("a tampered identity was trusted")
	}
	// Rotation at MOSCOW, trusted at STATE.
	if out, _, err := runCLI(t, "", "station", "rotate", "--data", moscow, "--station", "MOSCOW"); err != nil || !strings.Contains(out, "generation 2") {
		t.Fatalf("rotate: %v %s", err, out)
	}
	exported2, _, _ := runCLI(t, "", "station", "export", "--data", moscow, "--station", "MOSCOW")
	if _, _, err := runCLI(t, exported2, "station", "trust", "--data", state, "--station", "STATE", "-"); err != nil {
		t.Fatal(err)
	}

	// MOSCOW needs STATE's identity to encrypt to it.
	stateID, _, _ := runCLI(t, "", "station", "export", "--data", state, "--station", "STATE")
	if _, _, err := runCLI(t, stateID, "station", "trust", "--data", moscow, "--station", "MOSCOW", "-"); err != nil {
		t.Fatal(err)
	}
	km, err := seal.Open(keysDir(moscow, "MOSCOW"))
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("S E C R E T MOSCOW 00001\n")
	sealed, err := km.Seal(text, "2026MOSCOW00001", []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := seal.Open(keysDir(state, "STATE"))
	if got, err := ks.Open(sealed); err != nil || string(got) != string(text) {
		t.Fatalf("open at STATE: %v", err)
	}
	kl, _ := seal.Open(keysDir(london, "LONDON"))
	if _, err := kl.Open(sealed); err == nil {
		t.Fatal("LONDON opened a cable not addressed to it")
	}
	if fi, err := os.Stat(filepath.Join(moscow, "keys")); err != nil || !fi.IsDir() {
		t.Fatalf("keys directory: %v", err)
	}
	// Every problem at once.
	_, _, err = runCLI(t, "", "station", "trust", "--data", state, "--station", "nowhere")
	if ps := cable.ErrorProblems(err); len(ps) != 2 {
		t.Fatalf("bad trust request: %v", err)
	}
}
