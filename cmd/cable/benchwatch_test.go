package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The measured part's profile and trace are written, whole, when the part
// ends; nothing is written without names, and ending twice is harmless.
func TestMeasuredPart(t *testing.T) {
	dir := t.TempDir()
	w := &measuredPart{cpuProfile: filepath.Join(dir, "cpu.prof"), trace: filepath.Join(dir, "run.trace")}
	stop, err := w.start()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for i := range 1 << 20 {
		sum += i % 7
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	for _, f := range []string{w.cpuProfile, w.trace} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v, %v", f, fi, err)
		}
	}
	// A profile can be taken again after the part ended.
	if stop, err := w.start(); err != nil {
		t.Fatalf("start again: %v", err)
	} else if err := stop(); err != nil {
		t.Fatal(err)
	}

	var none *measuredPart
	stop, err = none.start()
	if err != nil || stop() != nil {
		t.Fatalf("nil measured part: %v", err)
	}
	bad := &measuredPart{cpuProfile: filepath.Join(dir, "no", "such", "dir", "cpu.prof")}
	if _, err := bad.start(); err == nil {
		t.Error("a profile in a missing directory started")
	}
	_ = sum
}
