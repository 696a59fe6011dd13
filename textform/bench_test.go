package textform_test

import (
	"encoding/json"
	"testing"

	cable "github.com/cable-archive/cable"
)

// benchCable is the golden cable grown to about 4 KB of text.
func benchCable(tb testing.TB) *cable.Cable {
	c := goldenCable()
	base := append([]cable.Paragraph(nil), c.Paragraphs...)
	for len(c.Paragraphs) < 23 {
		p := base[len(c.Paragraphs)%len(base)]
		p.Number = len(c.Paragraphs) + 1
		c.Paragraphs = append(c.Paragraphs, p)
	}
	if err := cable.Validate(c, cable.ValidateOptions{Directory: testDirectory(tb)}); err != nil {
		tb.Fatal(err)
	}
	return c
}

func BenchmarkParse(b *testing.B) {
	f := testForm(b)
	text, err := f.Render(benchCable(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Parse(text, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	f := testForm(b)
	c := benchCable(b)
	text, err := f.Render(c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Render(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineJSONUnmarshal reads the same cable from its JSON form
// with encoding/json: the raw engine of the system's other cable format.
func BenchmarkBaselineJSONUnmarshal(b *testing.B) {
	data, err := json.Marshal(benchCable(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var c cable.Cable
		if err := json.Unmarshal(data, &c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineJSONMarshal writes the same cable as JSON.
func BenchmarkBaselineJSONMarshal(b *testing.B) {
	c := benchCable(b)
	data, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(c); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchCableSize keeps the benchmark honest about its input: a cable
// of about 4 KB in the text form.
func TestBenchCableSize(t *testing.T) {
	text, err := testForm(t).Render(benchCable(t))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(text); n < 3500 || n > 4600 {
		t.Fatalf("bench cable is %d bytes, want about 4 KB", n)
	}
}
