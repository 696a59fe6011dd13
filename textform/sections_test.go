package textform_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/textform"
	"pgregory.net/rapid"
)

// sectionWords are the words of generated long text, some beyond ASCII.
var sectionWords = strings.Fields(`THE SOVIET GOVERNMENT WILL NOT ACCEPT ANY PROPOSAL WHICH LEAVES
its security to the good will of others; talks resume on March 8. DÉTENTE Gorbačëv
“quoted” straße 日本 ½ §4 -- 50% NO. O'BRIEN (NOTAL) U.S.-SOVIET REF: TAGS: BT 1. (S)`)

// longText writes about n bytes of normalized paragraph text in one of
// three shapes: "lines" (lines of about 65 bytes), "line" (one line of
// words), "word" (one word of multi-byte letters, cut only between bytes).
func longText(rng *rand.Rand, n int, shape string) string {
	var b strings.Builder
	b.Grow(n + 80)
	switch shape {
	case "word":
		for b.Len() < n {
			b.WriteString("日本É")
		}
		return b.String()
	case "line":
		for b.Len() < n {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(sectionWords[rng.IntN(len(sectionWords))])
		}
		return b.String()
	}
	col := 0
	for b.Len() < n {
		w := sectionWords[rng.IntN(len(sectionWords))]
		switch {
		case b.Len() == 0:
		case col+1+len(w) > 65:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// sizedCable is the golden cable with about n bytes of paragraph text in
// the given shape ("lines" is cut into paragraphs, at most 5,000 of them).
func sizedCable(t testing.TB, n int, shape string) *cable.Cable {
	t.Helper()
	c := goldenCable()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	c.Paragraphs = nil
	if n < 2 {
		c.Paragraphs = []cable.Paragraph{{Number: 1, Classification: cable.Secret, Text: "X"}}
	} else {
		per := n
		if shape == "lines" {
			per = max(1500, n/5000)
		}
		for left := n; left > 0; left -= per {
			c.Paragraphs = append(c.Paragraphs, cable.Paragraph{
				Number:         len(c.Paragraphs) + 1,
				Classification: cable.Classification(1 + len(c.Paragraphs)%int(cable.Secret)),
				Text:           longText(rng, min(per, left), shape),
			})
		}
	}
	cable.Normalize(c)
	if err := cable.Validate(c, cable.ValidateOptions{Directory: testDirectory(t)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// fataler is what checkSections needs of a *testing.T or *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// checkSections cuts c at limit and feeds the sections, shuffled and with
// duplicates, to a Reassembler: it must give back Render(c) once, at the
// last new section. It returns the number of sections, or the error of Cut.
func checkSections(t fataler, f *textform.Form, c *cable.Cable, limit int, seed uint64) (int, error) {
	t.Helper()
	text, err := f.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := f.Cut(c, limit)
	if err != nil {
		return 0, err
	}
	if len(text) <= limit {
		if len(parts) != 1 || !bytes.Equal(parts[0], text) {
			t.Fatalf("a cable of %d bytes at limit %d: %d parts, want the rendering whole", len(text), limit, len(parts))
		}
	} else if len(parts) < 2 || len(parts) > textform.MaxSections {
		t.Fatalf("a cable of %d bytes at limit %d: %d parts", len(text), limit, len(parts))
	}
	for i, p := range parts {
		if len(p) > limit {
			t.Fatalf("section %d of %d is %d bytes, over the limit of %d", i+1, len(parts), len(p), limit)
		}
		m, err := f.ParseMessage(p, false)
		if err != nil {
			t.Fatalf("section %d of %d does not parse: %v\n%s", i+1, len(parts), err, p)
		}
		want := [2]int{i + 1, len(parts)}
		if len(parts) == 1 {
			want = [2]int{0, 0}
		}
		if got := [2]int{m.Section, m.Sections}; got != want {
			t.Fatalf("section %d of %d parses as %d of %d", i+1, len(parts), got[0], got[1])
		}
		if m.Cable.ID != c.ID || m.Cable.Classification != c.Classification || !reflect.DeepEqual(m.Cable.Captions, c.Captions) {
			t.Fatalf("section %d of %d parses as %s %v %v, want %s %v %v", i+1, len(parts),
				m.Cable.ID, m.Cable.Classification, m.Cable.Captions, c.ID, c.Classification, c.Captions)
		}
	}

	rng := rand.New(rand.NewPCG(seed, 1))
	order := rng.Perm(len(parts))
	for _, i := range rng.Perm(len(parts))[:len(parts)/2] {
		order = append(order, i) // a duplicate, sent again later
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	r := textform.NewReassembler(f, 0)
	seen := map[int]bool{}
	var whole []byte
	for _, i := range order {
		out, done, err := r.Add(parts[i])
		if err != nil {
			t.Fatalf("add section %d of %d: %v", i+1, len(parts), err)
		}
		seen[i] = true
		last := len(seen) == len(parts) && whole == nil
		if done != last {
			t.Fatalf("add section %d of %d: done %v after %d of %d distinct sections", i+1, len(parts), done, len(seen), len(parts))
		}
		if done {
			whole = out
			if r.Pending() != 0 {
				t.Fatalf("%d bytes pending after the cable is whole", r.Pending())
			}
		}
	}
	if !bytes.Equal(whole, text) {
		t.Fatalf("reassembled text differs from the rendering (%d bytes, want %d)", len(whole), len(text))
	}
	back, err := f.Parse(whole, false)
	if err != nil {
		t.Fatalf("reassembled text does not parse: %v", err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("reassembled cable differs:\n%s", diffCables(c, back))
	}
	return len(parts), nil
}

func TestCutReassemble(t *testing.T) {
	f := testForm(t)
	limits := []int{1 << 10, 64 << 10, 1 << 20}
	sizes := []int{1, 200, 5 << 10, 100 << 10, 1 << 20, 10 << 20, 50_000_000}
	for _, n := range sizes {
		for _, shape := range []string{"lines", "line", "word"} {
			if n >= 10<<20 && shape != "lines" || n < 2 && shape != "lines" {
				continue
			}
			t.Run(fmt.Sprintf("%d/%s", n, shape), func(t *testing.T) {
				if n > 1<<20 && testing.Short() {
					t.Skip("large cable: run without -short")
				}
				c := sizedCable(t, n, shape)
				text, err := f.Render(c)
				if err != nil {
					t.Fatal(err)
				}
				for _, limit := range limits {
					// A limit that would need more than 99 sections is
					// tried only where the refusal is quick.
					if len(text) > 99*limit && len(text) > 2<<20 && limit != 1<<10 {
						continue
					}
					sections, err := checkSections(t, f, c, limit, uint64(n+limit))
					switch {
					case err == nil && len(text) > 99*limit:
						t.Fatalf("limit %d: %d bytes cut into %d sections", limit, len(text), sections)
					case err != nil && len(text) <= 60*limit:
						t.Fatalf("limit %d: %d bytes not cut: %v", limit, len(text), err)
					case err != nil && (cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "more than 99 sections")):
						t.Fatalf("limit %d: want too many sections, got %v", limit, err)
					}
					t.Logf("%d bytes at limit %d: %d sections, err %v", len(text), limit, sections, err)
				}
			})
		}
	}
}

// TestCutShape checks where Cut cuts: the heading and caption lines in
// every section, the header in the first, the signature in the last,
// paragraphs whole where they fit, a continued paragraph marked.
func TestCutShape(t *testing.T) {
	f := testForm(t)
	c := goldenCable()
	c.Paragraphs[1].Text = longText(rand.New(rand.NewPCG(1, 2)), 2500, "lines")
	text, err := f.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := f.Cut(c, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := len(parts)
	if n < 4 {
		t.Fatalf("%d sections for %d bytes at 1000", n, len(text))
	}
	for i, p := range parts {
		s := string(p)
		banner := fmt.Sprintf("S E C R E T SECTION %02d OF %02d MOSCOW 00417\nEXDIS\nNOFORN\n", i+1, n)
		if !strings.HasPrefix(s, "O 041625Z MAR 10\nFM AMEMBASSY MOSCOW\nTO SECSTATE WASHDC\nINFO AMEMBASSY LONDON\n") ||
			!strings.Contains(s, "BT\n"+banner) || !strings.HasSuffix(s, "\nBT\n") {
			t.Fatalf("section %d lacks the heading:\n%s", i+1, s)
		}
		if strings.Contains(s, "SUBJECT:") != (i == 0) || strings.Contains(s, "CLASSIFIED BY:") != (i == 0) {
			t.Fatalf("section %d: header lines belong in section 1 only:\n%s", i+1, s)
		}
		if strings.Contains(s, "\nHARTWELL\n") != (i == n-1) {
			t.Fatalf("section %d: the signature belongs in the last section only:\n%s", i+1, s)
		}
		body := s[strings.Index(s, banner)+len(banner):]
		if i > 0 && !strings.HasPrefix(body, "\n") && !strings.HasPrefix(body, "2. (S) CONTINUED: ") {
			t.Fatalf("section %d begins neither a paragraph nor paragraph 2 continued:\n%s", i+1, s)
		}
	}
	// Paragraph 1 fits whole in section 1; paragraph 3 is not cut.
	if !strings.Contains(string(parts[0]), "END SUMMARY.\n") || strings.Count(string(bytes.Join(parts, nil)), "3. (U) TALKS RESUME") != 1 {
		t.Fatalf("short paragraphs were cut:\n%s", bytes.Join(parts, []byte("=====\n")))
	}
}

// TestCutInsideLines checks cuts at word and byte boundaries: no section
// splits a UTF-8 sequence, and the mid-line continuation comes back.
func TestCutInsideLines(t *testing.T) {
	f := testForm(t)
	for _, shape := range []string{"line", "word"} {
		c := sizedCable(t, 20_000, shape)
		parts, err := f.Cut(c, 1500)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range parts {
			if !utf8Valid(p) {
				t.Fatalf("%s: section %d splits a UTF-8 sequence", shape, i+1)
			}
			if i > 0 && !bytes.Contains(p, []byte("\n1. (U) CONTINUED MID-LINE: ")) {
				t.Fatalf("%s: section %d is not a mid-line continuation:\n%.400s", shape, i+1, p)
			}
			if shape == "line" && i < len(parts)-1 && !bytes.HasSuffix(p, []byte(" \nBT\n")) {
				t.Fatalf("line: section %d is not cut after a space:\n%s", i+1, p[len(p)-100:])
			}
		}
		if _, err := checkSections(t, f, c, 1500, 3); err != nil {
			t.Fatal(err)
		}
	}
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

func TestCutErrors(t *testing.T) {
	f := testForm(t)
	c := sizedCable(t, 5000, "lines")

	// The minimum Cut names is the real minimum.
	_, err := f.Cut(c, 300)
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("limit 300: got %v, want EINVALID", err)
	}
	m := regexp.MustCompile(`needs at least (\d+) bytes`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("limit 300: the error names no minimum: %v", err)
	}
	least, _ := strconv.Atoi(m[1])
	if _, err := f.Cut(c, least-1); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("limit %d, one under the minimum: got %v", least-1, err)
	}
	if _, err := checkSections(t, f, c, least, 5); err != nil {
		t.Fatalf("limit %d, the minimum named: %v", least, err)
	}

	// More than 99 sections.
	big := sizedCable(t, 200_000, "lines")
	_, err = f.Cut(big, 1024)
	if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "more than 99 sections") || !strings.Contains(err.Error(), "2010MOSCOW00417") {
		t.Fatalf("200 KB at 1 KiB: got %v, want too many sections naming the cable and its size", err)
	}

	// A draft has no identifier to reassemble by.
	d := goldenDraft()
	d.Paragraphs[0].Text = longText(rand.New(rand.NewPCG(3, 3)), 3000, "lines")
	if _, err := f.Cut(d, 1024); cable.ErrorCode(err) != cable.EINVALID {
		t.Fatalf("draft: got %v, want EINVALID", err)
	}
	if parts, err := f.Cut(goldenDraft(), 1<<16); err != nil || len(parts) != 1 {
		t.Fatalf("a draft that fits: %d parts, %v", len(parts), err)
	}
}

func TestReassemblerErrors(t *testing.T) {
	f := testForm(t)
	c := sizedCable(t, 8000, "lines")
	parts, err := f.Cut(c, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 4 {
		t.Fatalf("%d sections", len(parts))
	}

	t.Run("conflicting duplicate", func(t *testing.T) {
		r := textform.NewReassembler(f, 0)
		if _, _, err := r.Add(parts[1]); err != nil {
			t.Fatal(err)
		}
		if _, done, err := r.Add(parts[1]); err != nil || done {
			t.Fatalf("an identical duplicate: done %v, %v", done, err)
		}
		pending := r.Pending()
		altered := bytes.Replace(parts[1], []byte("THE"), []byte("THY"), 1)
		if bytes.Equal(altered, parts[1]) {
			t.Fatal("nothing altered")
		}
		if _, _, err := r.Add(altered); cable.ErrorCode(err) != cable.ECONFLICT || !strings.Contains(err.Error(), "section 2 of") {
			t.Fatalf("an altered duplicate: got %v, want ECONFLICT naming the section", err)
		}
		if r.Pending() != pending {
			t.Fatalf("pending %d after a refused section, want %d", r.Pending(), pending)
		}
	})

	t.Run("section counts disagree", func(t *testing.T) {
		other, err := f.Cut(c, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(other) == len(parts) {
			t.Fatalf("both cuts have %d sections", len(parts))
		}
		r := textform.NewReassembler(f, 0)
		if _, _, err := r.Add(parts[0]); err != nil {
			t.Fatal(err)
		}
		_, _, err = r.Add(other[1])
		if cable.ErrorCode(err) != cable.ECONFLICT || !strings.Contains(err.Error(), fmt.Sprintf("say %d sections", len(parts))) {
			t.Fatalf("got %v, want ECONFLICT naming the count held", err)
		}
	})

	t.Run("heading differs", func(t *testing.T) {
		r := textform.NewReassembler(f, 0)
		if _, _, err := r.Add(parts[0]); err != nil {
			t.Fatal(err)
		}
		flash := bytes.Replace(parts[1], []byte("O 041625Z"), []byte("Z 041625Z"), 1)
		if _, _, err := r.Add(flash); cable.ErrorCode(err) != cable.ECONFLICT {
			t.Fatalf("got %v, want ECONFLICT", err)
		}
	})

	t.Run("cap on pending bytes", func(t *testing.T) {
		r := textform.NewReassembler(f, len(parts[0])+len(parts[1]))
		for _, p := range parts[:2] {
			if _, _, err := r.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		held := r.Pending()
		if held == 0 || held > len(parts[0])+len(parts[1]) {
			t.Fatalf("pending %d", held)
		}
		_, _, err := r.Add(parts[2])
		if cable.ErrorCode(err) != cable.ECONFLICT || !strings.Contains(err.Error(), "over the cap") {
			t.Fatalf("got %v, want ECONFLICT over the cap", err)
		}
		if r.Pending() != held {
			t.Fatalf("pending %d, want %d", r.Pending(), held)
		}
		if !r.Forget(c.ID) || r.Pending() != 0 || r.Forget(c.ID) {
			t.Fatalf("forget: pending %d", r.Pending())
		}
	})

	t.Run("not a section", func(t *testing.T) {
		r := textform.NewReassembler(f, 0)
		for name, p := range map[string][]byte{
			"garbage":       []byte("NNNN\x00 hello"),
			"extra line":    bytes.Replace(parts[1], []byte("NOFORN\n"), []byte("NOFORN\n\n"), 1),
			"no closing BT": parts[1][:len(parts[1])-3],
		} {
			if _, _, err := r.Add(p); cable.ErrorCode(err) != cable.EINVALID {
				t.Errorf("%s: got %v, want EINVALID", name, err)
			}
		}
		if r.Pending() != 0 {
			t.Fatalf("pending %d", r.Pending())
		}
	})

	t.Run("whole cable", func(t *testing.T) {
		r := textform.NewReassembler(f, 0)
		text, err := f.Render(goldenCable())
		if err != nil {
			t.Fatal(err)
		}
		out, done, err := r.Add(text)
		if err != nil || !done || !bytes.Equal(out, text) {
			t.Fatalf("a whole cable: done %v, %v", done, err)
		}
	})

	t.Run("many cables at once", func(t *testing.T) {
		r := textform.NewReassembler(f, 0)
		var all [][]byte
		want := map[string][]byte{}
		for i := range 5 {
			c := sizedCable(t, 3000+i*1000, "lines")
			c.Serial = 100 + i
			c.ID = cable.Identifier(c.DTG.Year(), c.Station, c.Serial)
			ps, err := f.Cut(c, 1500)
			if err != nil {
				t.Fatal(err)
			}
			text, _ := f.Render(c)
			want[c.ID] = text
			all = append(all, ps...)
		}
		rng := rand.New(rand.NewPCG(9, 9))
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, p := range all {
			out, done, err := r.Add(p)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				back, err := f.Parse(out, false)
				if err != nil || !bytes.Equal(out, want[back.ID]) {
					t.Fatalf("cable %v differs (%v)", back, err)
				}
				delete(want, back.ID)
			}
		}
		if len(want) != 0 || r.Pending() != 0 {
			t.Fatalf("%d cables not whole, %d bytes pending", len(want), r.Pending())
		}
	})
}

// TestCutProperty cuts generated cables (the generator of TestRoundTrip,
// sometimes with a long paragraph) at random limits.
func TestCutProperty(t *testing.T) {
	dir := testDirectory(t)
	f := textform.New(dir)
	rapid.Check(t, func(t *rapid.T) {
		c, _ := genCable(t, dir, false)
		if rapid.Bool().Draw(t, "long paragraph") {
			shape := rapid.SampledFrom([]string{"lines", "line", "word"}).Draw(t, "shape")
			n := rapid.IntRange(100, 6000).Draw(t, "long size")
			rng := rand.New(rand.NewPCG(uint64(n), 0))
			c.Paragraphs = append(c.Paragraphs, cable.Paragraph{
				Number: len(c.Paragraphs) + 1, Classification: c.Classification, Text: longText(rng, n, shape),
			})
		}
		limit := rapid.IntRange(300, 8000).Draw(t, "limit")
		_, err := checkSections(t, f, c, limit, rapid.Uint64().Draw(t, "seed"))
		if err != nil {
			ps := cable.ErrorProblems(err)
			if cable.ErrorCode(err) != cable.EINVALID || len(ps) != 1 || ps[0].Field != "limit" {
				t.Fatalf("limit %d: %v", limit, err)
			}
		}
	})
}

// FuzzReassemble feeds three texts to a Reassembler: it never panics,
// fails only with EINVALID or ECONFLICT, and gives back whole texts only.
func FuzzReassemble(f *testing.F) {
	form := testForm(f)
	c := goldenCable()
	c.Paragraphs[1].Text = longText(rand.New(rand.NewPCG(1, 2)), 1200, "line")
	parts, err := form.Cut(c, 700)
	if err != nil {
		f.Fatal(err)
	}
	for i := range parts {
		f.Add(parts[i], parts[(i+1)%len(parts)], parts[(i+2)%len(parts)])
	}
	f.Add(parts[0], parts[0], []byte("garbage"))
	f.Add(readTestdata(f, "released.txt"), []byte{}, []byte("BT\n"))
	f.Fuzz(func(t *testing.T, a, b, d []byte) {
		r := textform.NewReassembler(form, 1<<16)
		for _, p := range [][]byte{a, b, d} {
			out, done, err := r.Add(p)
			if err != nil {
				if code := cable.ErrorCode(err); code != cable.EINVALID && code != cable.ECONFLICT {
					t.Fatalf("code %s: %v", code, err)
				}
				continue
			}
			if done && !bytes.HasSuffix(out, []byte("BT\n")) {
				t.Fatalf("a whole text without closing BT:\n%s", out)
			}
			if !done && out != nil {
				t.Fatal("a text before the cable is whole")
			}
			if n := r.Pending(); n < 0 || n > 1<<16 {
				t.Fatalf("pending %d", n)
			}
		}
	})
}

// BenchmarkCutReassemble cuts a 1 MB cable into sections of 64 KiB and
// puts them back together.
func BenchmarkCutReassemble(b *testing.B) {
	f := testForm(b)
	c := sizedCable(b, 1_000_000, "lines")
	text, err := f.Render(c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		parts, err := f.Cut(c, 64<<10)
		if err != nil {
			b.Fatal(err)
		}
		r := textform.NewReassembler(f, 0)
		var whole []byte
		for _, p := range parts {
			if whole, _, err = r.Add(p); err != nil {
				b.Fatal(err)
			}
		}
		if len(whole) != len(text) {
			b.Fatalf("%d bytes back, want %d", len(whole), len(text))
		}
	}
}

// BenchmarkBaselineSplitJoin is the raw engine under Cut and Reassemble:
// the same text cut at its paragraph boundaries with bytes.Split and put
// back with bytes.Join.
func BenchmarkBaselineSplitJoin(b *testing.B) {
	text, err := testForm(b).Render(sizedCable(b, 1_000_000, "lines"))
	if err != nil {
		b.Fatal(err)
	}
	sep := []byte("\n\n")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if back := bytes.Join(bytes.Split(text, sep), sep); len(back) != len(text) {
			b.Fatal("length differs")
		}
	}
}

// TestJoin puts a cable cut in sections back together from its parts in
// any order, with repeats, and names the sections missing.
func TestJoin(t *testing.T) {
	f := testForm(t)
	c := sizedCable(t, 20<<10, "lines")
	text, err := f.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := f.Cut(c, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 5 {
		t.Fatalf("want at least 5 sections, got %d", len(parts))
	}
	shuffled := append([][]byte{parts[2]}, parts...)
	slices.Reverse(shuffled)
	got, err := f.Join(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, text) {
		t.Fatal("joined text differs from the rendered cable")
	}
	if whole, err := f.Join([][]byte{text}); err != nil || !bytes.Equal(whole, text) {
		t.Fatalf("a whole cable joins to itself: %v", err)
	}
	_, err = f.Join([][]byte{parts[0], parts[3]})
	if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(err.Error(), "sections 2, 3, 5") {
		t.Fatalf("missing sections: %v", err)
	}
	other := sizedCable(t, 20<<10, "lines")
	other.Serial++
	other.ID = cable.Identifier(other.DTG.Year(), other.Station, other.Serial)
	otherParts, err := f.Cut(other, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Join(append(slices.Clone(parts), otherParts[0])); cable.ErrorCode(err) != cable.ECONFLICT {
		t.Fatalf("a part of another cable: %v", err)
	}
}
