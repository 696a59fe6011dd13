// Package storetest is the conformance suite of the records store: every
// implementation of cable.Records runs Run against a real database, so
// that all of them keep the same rules.
//
// The suite treats the text of a cable as opaque bytes made by Render, a
// trivial deterministic text form of its own; it does not need the real
// one. A store whose Verify is to be tested against tampering implements
// Tamperer. Verify's problems must name the cable by its identifier and
// an event as "event <seq>".
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// Tamperer is implemented by stores that let tests of Verify damage
// their records behind their back.
type Tamperer interface {
	// TamperText overwrites the stored text of the cable with id.
	TamperText(id string, text []byte) error
	// TamperEvent overwrites the kind of the event with seq.
	TamperEvent(seq int64, kind string) error
	// TamperEventDetail overwrites the stored detail (JSON) of the event
	// with seq.
	TamperEventDetail(seq int64, detail string) error
}

// Render is the suite's text form: a plain, deterministic rendering of
// every field, one per line.
func Render(c *cable.Cable) ([]byte, error) {
	if c == nil {
		return nil, errors.New("storetest: no cable")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", c.Precedence, cable.FormatDTG(c.DTG))
	fmt.Fprintf(&b, "FM %s\n", c.Station)
	for _, a := range c.To {
		fmt.Fprintf(&b, "%s %s\n", map[cable.Role]string{cable.RoleAction: "TO", cable.RoleInfo: "INFO"}[a.Role], a.Station)
	}
	fmt.Fprintf(&b, "%s %s\n", c.Classification, c.ID)
	for _, k := range c.Captions {
		fmt.Fprintf(&b, "%s\n", k)
	}
	for _, h := range c.Handling {
		fmt.Fprintf(&b, "%s\n", h)
	}
	fmt.Fprintf(&b, "TAGS: %s\nSUBJECT: %s\n", strings.Join(c.Tags, ", "), c.Subject)
	for _, r := range c.References {
		fmt.Fprintf(&b, "REF: %s\n", r.Text)
	}
	for _, p := range c.Paragraphs {
		fmt.Fprintf(&b, "\n%d. (%s) %s\n", p.Number, p.Classification.PortionMark(), p.Text)
	}
	fmt.Fprintf(&b, "\n%s\n", c.Signature)
	return b.Bytes(), nil
}

// Cable returns a cable of station dated dtg with the subject and one
// paragraph of text, addressed for action to STATE (or to MOSCOW when
// station is STATE), ROUTINE and CONFIDENTIAL, tagged PREL.
func Cable(station string, dtg time.Time, subject, text string) *cable.Cable {
	to := "STATE"
	if station == "STATE" {
		to = "MOSCOW"
	}
	return &cable.Cable{
		Station:        station,
		DTG:            dtg,
		Precedence:     cable.Routine,
		Classification: cable.Confidential,
		To:             []cable.Addressee{{Station: to, Role: cable.RoleAction}},
		Tags:           []string{"PREL"},
		Subject:        subject,
		Paragraphs:     []cable.Paragraph{{Number: 1, Classification: cable.Confidential, Text: text}},
		Signature:      "KENNAN",
		Authority: &cable.Authority{ClassifiedBy: "GEORGE F. KENNAN, CHARGE", Reason: "1.4 (B) AND (D)",
			DeclassifyOn: cable.DeclassifyOn{Date: dtg.AddDate(25, 0, 0).Truncate(24 * time.Hour)}},
	}
}

// words is the vocabulary of generated text.
var words = strings.Fields(`the soviet government policy party economic
	foreign trade grain harvest delegation minister conference ambassador
	embassy report treaty agreement military security council proposal
	official press question meeting statement position regional situation`)

// Text returns about n bytes of deterministic prose; seed varies it.
func Text(n, seed int) string {
	var b strings.Builder
	x := uint32(seed)*2654435761 + 1
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[x%uint32(len(words))])
	}
	return b.String()
}

// BenchCable returns the i-th cable of a benchmark: MOSCOW to STATE,
// with about 4 KB of text in four paragraphs.
func BenchCable(i int) *cable.Cable {
	c := Cable("MOSCOW", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute),
		fmt.Sprintf("Benchmark cable %d", i), Text(1000, i))
	for n := 2; n <= 4; n++ {
		c.Paragraphs = append(c.Paragraphs, cable.Paragraph{Number: n, Classification: cable.Confidential, Text: Text(1000, i*4+n)})
	}
	return c
}

// Release releases the cables in one batch with Render, failing the test
// on error, and returns the requests with their records.
func Release(tb testing.TB, r cable.Records, cs ...*cable.Cable) []*cable.ReleaseRequest {
	tb.Helper()
	reqs := make([]*cable.ReleaseRequest, len(cs))
	for i, c := range cs {
		reqs[i] = &cable.ReleaseRequest{Cable: c, Render: Render, Actor: "drafter"}
	}
	if err := r.Release(context.Background(), reqs); err != nil {
		tb.Fatalf("Release: %v", err)
	}
	return reqs
}

// ReleaseConcurrently releases goroutines*each single-cable batches on
// station MOSCOW in 2026, the goroutines spread over stores (several
// handles on the same database, as several processes would hold), and
// checks that the serials given are exactly 1..goroutines*each.
func ReleaseConcurrently(t *testing.T, stores []cable.Records, goroutines, each int) {
	t.Helper()
	ctx := context.Background()
	dtg := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	serials := make(chan int, goroutines*each)
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func(r cable.Records) {
			defer wg.Done()
			for i := range each {
				c := Cable("MOSCOW", dtg, fmt.Sprintf("goroutine %d cable %d", g, i), Text(200, g*each+i))
				req := &cable.ReleaseRequest{Cable: c, Render: Render, Actor: "drafter"}
				if err := r.Release(ctx, []*cable.ReleaseRequest{req}); err != nil {
					errs <- err
					return
				}
				serials <- c.Serial
			}
		}(stores[g%len(stores)])
	}
	wg.Wait()
	close(serials)
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Release: %v", err)
	}
	n := goroutines * each
	seen := make([]bool, n+1)
	for s := range serials {
		if s < 1 || s > n {
			t.Fatalf("serial %d given, want 1..%d", s, n)
		}
		if seen[s] {
			t.Fatalf("serial %d given twice", s)
		}
		seen[s] = true
	}
	for s := 1; s <= n; s++ {
		if !seen[s] {
			t.Fatalf("serial %d never given", s)
		}
		id := cable.Identifier(2026, "MOSCOW", s)
		rec, err := stores[0].Cable(ctx, id)
		if err != nil {
			t.Fatalf("Cable(%s): %v", id, err)
		}
		if rec.Cable.Serial != s || cable.SHA256Hex(rec.Text) != rec.SHA256 {
			t.Fatalf("Cable(%s): serial %d, hash intact %v", id, rec.Cable.Serial, cable.SHA256Hex(rec.Text) == rec.SHA256)
		}
	}
	rep, err := stores[0].Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Cables != n || rep.Events != n {
		t.Fatalf("Verify after concurrent releases: %+v", rep)
	}
}

// wantCode fails the test unless err carries the error code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := cable.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
