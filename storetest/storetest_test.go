package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

func TestRenderIsDeterministicAndShowsEveryField(t *testing.T) {
	c := Cable("MOSCOW", time.Date(1946, 2, 22, 21, 0, 0, 0, time.UTC), "Soviet outlook", "Answer to Dept's 284.")
	c.ID, c.Serial = "1946MOSCOW00511", 511
	c.Captions = []cable.Caption{cable.EXDIS}
	c.References = []cable.Reference{{Text: "STATE 284"}}
	a, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(c.Clone())
	if !bytes.Equal(a, b) {
		t.Fatalf("two renderings differ:\n%s\n%s", a, b)
	}
	for _, want := range []string{"ROUTINE 222100Z FEB 46", "FM MOSCOW", "TO STATE", "CONFIDENTIAL 1946MOSCOW00511", "EXDIS",
		"SUBJECT: Soviet outlook", "REF: STATE 284", "1. (C) Answer to Dept's 284.", "KENNAN"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("rendering lacks %q:\n%s", want, a)
		}
	}
	c.Subject = "Changed"
	if b, _ := Render(c); bytes.Equal(a, b) {
		t.Error("rendering ignores the subject")
	}
	if _, err := Render(nil); err == nil {
		t.Error("Render(nil) gave no error")
	}
}

func TestSuiteCablesAreValid(t *testing.T) {
	for i, c := range []*cable.Cable{Cable("MOSCOW", time.Date(2026, 2, 22, 18, 0, 0, 0, time.UTC), "subject", "text"), BenchCable(7)} {
		c.Serial = 1
		if err := cable.Validate(c, cable.ValidateOptions{At: c.DTG}); err != nil {
			t.Errorf("cable %d: %v", i, err)
		}
	}
}

func TestBenchCableIsAbout4KB(t *testing.T) {
	text, err := Render(BenchCable(3))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(text); n < 3900 || n > 4600 {
		t.Errorf("benchmark cable renders to %d bytes, want about 4096", n)
	}
	if strings.Count(Text(1000, 1), " ") < 100 || Text(1000, 1) == Text(1000, 2) || Text(1000, 1) != Text(1000, 1) {
		t.Error("Text is not varied, deterministic prose")
	}
}
