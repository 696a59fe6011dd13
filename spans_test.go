package cable

import (
	"reflect"
	"strings"
	"testing"
)

func paragraphs(texts ...string) *Cable {
	c := &Cable{ID: "2026MOSCOW00001", Subject: "spans"}
	for i, t := range texts {
		c.Paragraphs = append(c.Paragraphs, Paragraph{Number: i + 1, Classification: Secret, Text: t})
	}
	return c
}

func TestParagraphSpans(t *testing.T) {
	text := []byte("SUBJECT: WHEAT\n\n1. (S) Wheat is short.\n\n2. (S) Bread too.\n\n3. (S) Wheat is short.\nBT\n")
	for _, tc := range []struct {
		name  string
		c     *Cable
		spans string
	}{
		{"in order", paragraphs("Wheat is short.", "Bread too."), "23+15,47+10"},
		// The same words twice: each paragraph finds its own.
		{"repeated", paragraphs("Wheat is short.", "Bread too.", "Wheat is short."), "23+15,47+10,66+15"},
		// Not in the text (a transcript that does not follow the text
		// form), or empty: kept in the JSON.
		{"not in the text", paragraphs("Wheat is short.", "Oats are plenty.", "Bread too."), "23+15,-,47+10"},
		{"empty", paragraphs("", "Bread too."), "-,47+10"},
		// Found before the last one: still the same bytes.
		{"out of order", paragraphs("Bread too.", "WHEAT"), "47+10,9+5"},
		{"none", paragraphs(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut, spans := CutParagraphs(tc.c, text)
			if spans != tc.spans {
				t.Errorf("spans %q, want %q", spans, tc.spans)
			}
			for i, p := range cut.Paragraphs {
				if inJSON := p.Text != ""; inJSON != (strings.Split(spans, ",")[i] == "-" && tc.c.Paragraphs[i].Text != "") {
					t.Errorf("paragraph %d kept in the JSON: %q (spans %q)", i+1, p.Text, spans)
				}
			}
			if len(tc.c.Paragraphs) > 0 && &cut.Paragraphs[0] == &tc.c.Paragraphs[0] {
				t.Error("CutParagraphs changed the cable it was given")
			}
			back := *cut
			back.Paragraphs = append([]Paragraph(nil), cut.Paragraphs...)
			if err := PasteParagraphs(&back, text, spans); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Paragraphs, tc.c.Paragraphs) {
				t.Errorf("pasted %+v, want %+v", back.Paragraphs, tc.c.Paragraphs)
			}
		})
	}
}

func TestParagraphSpansDamaged(t *testing.T) {
	text := []byte("1. (S) Wheat.\n")
	for _, spans := range []string{"7+6,7+6", "7+60", "70+1", "-1+2", "7+-1", "7", "a+b", "7+6+1", ",", "99999999999999999999+1"} {
		c := paragraphs("")
		if err := PasteParagraphs(c, text, spans); err == nil {
			t.Errorf("spans %q pasted: %+v", spans, c.Paragraphs)
		}
	}
	c := paragraphs("Wheat.")
	if err := PasteParagraphs(c, text, "7+6"); err == nil {
		t.Error("a span over a paragraph kept in the JSON was pasted")
	}
}

// FuzzParagraphSpans checks that the spans of any paragraphs over any text
// put back exactly the paragraphs, and that any spans read from a row are
// pasted or refused, never a panic or a text from outside the row's.
func FuzzParagraphSpans(f *testing.F) {
	f.Add("SUBJECT: X\n\n1. (S) One.\n\n2. (S) Two.\n", "One.", "Two.", "23+4,-")
	f.Add("", "", "x", "")
	f.Add("aaaa", "aa", "aa", "0+2,2+2")
	f.Fuzz(func(t *testing.T, text, p1, p2, spans string) {
		c := paragraphs(p1, p2)
		cut, got := CutParagraphs(c, []byte(text))
		back := *cut
		back.Paragraphs = append([]Paragraph(nil), cut.Paragraphs...)
		if err := PasteParagraphs(&back, []byte(text), got); err != nil {
			t.Fatalf("own spans %q refused: %v", got, err)
		}
		if !reflect.DeepEqual(back.Paragraphs, c.Paragraphs) {
			t.Fatalf("spans %q put back %+v, want %+v", got, back.Paragraphs, c.Paragraphs)
		}
		d := paragraphs("", "")
		if err := PasteParagraphs(d, []byte(text), spans); err == nil {
			for _, p := range d.Paragraphs {
				if !strings.Contains(text, p.Text) {
					t.Fatalf("spans %q pasted %q, not in the text", spans, p.Text)
				}
			}
		}
	})
}
