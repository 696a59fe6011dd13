package tei

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

// FuzzTEI checks that no input makes Parse panic or hang, that a failure
// is EINVALID, and that what it imports numbers its paragraphs and
// marshals to JSON.
func FuzzTEI(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "invented-volume.xml")); err == nil {
		f.Add(b)
	}
	if p := excerptPath(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"<TEI/>",
		volumeHead + goodDoc("g1", 1) + volumeTail,
		volumeHead + `<div type="document" xml:id="x"><head>h<note>n</note></head><list><label>1.</label><item><p>a<pb break="no"/>b</p></item></list></div>` + volumeTail,
		volumeHead + `<div type="document" xml:id="x" frus:doc-dateTime-min="1949-02-02T07:00:00-05:00"><head>The Consul General at Batavia to the Secretary of State</head><p>1. a &amp; b</p></div><div type="document"` + volumeTail,
		volumeHead + `<div type="document" xml:id="x"><head>a</head><table><row><cell>1</cell><cell>2</cell></row></table></div>` + volumeTail,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := Parse(bytes.NewReader(src))
		if err != nil {
			if cable.ErrorCode(err) != cable.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		total := 0
		for _, n := range v.Counts {
			total += n
		}
		if total != len(v.Documents) {
			t.Fatalf("counts %v for %d documents", v.Counts, len(v.Documents))
		}
		for _, d := range v.Documents {
			for i, p := range d.Paragraphs {
				if p.Number != i+1 {
					t.Fatalf("%s: paragraph %d numbered %d", d.SourceID, i+1, p.Number)
				}
			}
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

func excerptPath() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "testdata", "frus", "frus1949v07p1-d152-d154.xml")
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

// benchVolume is a generated volume of 2,000 documents, about 2 MB.
func benchVolume(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := writeVolume(&buf, 2000, 0); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkTEIVolume imports a generated volume, streaming.
func BenchmarkTEIVolume(b *testing.B) {
	src := benchVolume(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := Parse(bytes.NewReader(src))
		if err != nil || len(v.Documents) != 2000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkTEIVolumeBaseline reads the same bytes with a bare
// encoding/xml RawToken loop (the engine under Parse) and nothing else.
func BenchmarkTEIVolumeBaseline(b *testing.B) {
	src := benchVolume(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(src))
		n := 0
		for {
			_, err := d.RawToken()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n == 0 {
			b.Fatal("no tokens")
		}
	}
}

// BenchmarkTEIVolumeBaselineToken is the same with Token, which also
// checks nesting and resolves namespaces, as most encoding/xml readers do.
func BenchmarkTEIVolumeBaselineToken(b *testing.B) {
	src := benchVolume(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(src))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkTEIExcerpt imports the real three-document excerpt.
func BenchmarkTEIExcerpt(b *testing.B) {
	src, err := os.ReadFile(sharedFile(b, "testdata", "frus", "frus1949v07p1-d152-d154.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(strings.NewReader(string(src))); err != nil {
			b.Fatal(err)
		}
	}
}
