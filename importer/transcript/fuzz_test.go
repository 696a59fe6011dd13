package transcript

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	cable "github.com/cable-archive/cable"
)

// FuzzTranscript checks that no input makes Parse panic, that a failure is
// always an EINVALID naming its problems, and that a success is a cable
// with numbered paragraphs that marshals to JSON.
func FuzzTranscript(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	if p := seedPath(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"DEPARTMENT OF STATE\nINCOMING TELEGRAM\n",
		"Secretary of State, Washington.\n\n1, January 1, 1 a.m.\n\nText.\n",
		"DEPARTMENT OF STATE\nINCOMING TELEGRAM\n\n1\n\nMoscow via War\n\nDated February 29, 1948\n\nRec'd midnight\n\nSecretary of State,\nWashington.\n\n1, February 29, midnight\n\na\n\n~~SECRET~~\n-2- #1 x\n\na b\n\nKENNAN\n",
		"-2- #1, March 3, 9 a.m. from Tokyo\n~~~~SECRET~~~~\nDECLASSIFIED\nBy\nE.O. 1\n(*)",
		"TELEGRAM SENT\nAMEMBASSY,\n\n7\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		r, err := Parse(src)
		if err != nil {
			if cable.ErrorCode(err) != cable.EINVALID || len(cable.ErrorProblems(err)) == 0 {
				t.Fatalf("error %v is not EINVALID with problems", err)
			}
			return
		}
		if r == nil || r.Cable == nil {
			t.Fatal("nil result without an error")
		}
		if r.Pages < 1 || len(r.Cable.Paragraphs) == 0 {
			t.Fatalf("pages %d, %d paragraphs", r.Pages, len(r.Cable.Paragraphs))
		}
		for i, p := range r.Cable.Paragraphs {
			if p.Number != i+1 {
				t.Fatalf("paragraph %d numbered %d", i+1, p.Number)
			}
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

// seedPath finds the seed without skipping, for the fuzz corpus and the
// benchmarks' setup.
func seedPath() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "seeds", "000_e3225f346bbef510.txt")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BenchmarkTranscriptSeed rebuilds the Long Telegram from the seed.
func BenchmarkTranscriptSeed(b *testing.B) {
	src := readSeed(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranscriptSeedBaseline reads the same bytes line by line with
// bufio.Scanner and nothing else: the floor under BenchmarkTranscriptSeed.
func BenchmarkTranscriptSeedBaseline(b *testing.B) {
	src := readSeed(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(src))
		n := 0
		for sc.Scan() {
			n += len(sc.Bytes())
		}
		if n == 0 {
			b.Fatal("no lines")
		}
	}
}
