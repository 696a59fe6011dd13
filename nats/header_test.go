package nats

import (
	"bytes"
	"slices"
	"testing"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
)

func TestHeaderRoundTrip(t *testing.T) {
	want := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Immediate, []byte("TEXT\n"))
	want.Kind, want.Section, want.Sections = cable.KindCable, 2, 5
	h := encodeHeader(want, want.SHA256, "CABLES", "STATE", []string{"MOSCOW", "WAR"})
	if got := h.Get("Nats-Msg-Id"); got != "1946MOSCOW00511.cable.STATE.2.STATE" {
		t.Errorf("message id %q", got)
	}
	got, err := decodeTransmission(h, want.Text, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameTransmission(t, got, want)
	if got.Kind != cable.KindCable || got.Section != 2 || got.Sections != 5 || !slices.Equal(got.Route, []string{"MOSCOW", "WAR"}) {
		t.Errorf("kind %q section %d of %d route %v", got.Kind, got.Section, got.Sections, got.Route)
	}
	if _, err := decodeTransmission(h, want.Text, len(want.Text)-1); err == nil {
		t.Error("text longer than the limit accepted")
	}

	h.Set(HeaderPrecedence, "URGENT")
	h.Set(HeaderQueuedAt, "yesterday")
	h.Del(HeaderOrigin)
	_, err = decodeTransmission(h, []byte("OTHER\n"), 0)
	// precedence, queued-at, origin, route not from the origin, hash
	if cable.ErrorCode(err) != cable.EINVALID || len(cable.ErrorProblems(err)) != 5 {
		t.Errorf("decode of a bad envelope = %v, want five problems", err)
	}
}

func TestHeaderSectionsAndRoute(t *testing.T) {
	base := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Routine, []byte("TEXT\n"))
	for _, c := range []struct {
		name, section, sections, route, kind string
		field                                string
	}{
		{"section above sections", "6", "5", "MOSCOW", "cable", HeaderSection},
		{"sections above 99", "1", "100", "MOSCOW", "cable", HeaderSections},
		{"section zero", "0", "5", "MOSCOW", "cable", HeaderSection},
		{"section alone", "1", "", "MOSCOW", "cable", HeaderSections},
		{"garbled sections", "1", "x", "MOSCOW", "cable", HeaderSections},
		{"no route", "", "", "", "cable", HeaderRoute},
		{"route twice through", "", "", "MOSCOW WAR MOSCOW", "cable", HeaderRoute},
		{"route too long", "", "", "MOSCOW AA BB CC DD EE FF GG HH", "cable", HeaderRoute},
		{"route not from origin", "", "", "WAR", "cable", HeaderRoute},
		{"unknown kind", "", "", "MOSCOW", "telegram", HeaderKind},
	} {
		h := encodeHeader(base, base.SHA256, "CABLES", "STATE", []string{"MOSCOW"})
		h.Set(HeaderKind, c.kind)
		h.Set(HeaderRoute, c.route)
		if c.section != "" {
			h.Set(HeaderSection, c.section)
		}
		if c.sections != "" {
			h.Set(HeaderSections, c.sections)
		}
		_, err := decodeTransmission(h, base.Text, 0)
		ps := cable.ErrorProblems(err)
		if len(ps) != 1 || ps[0].Field != c.field {
			t.Errorf("%s: %v, want one problem in %s", c.name, err, c.field)
		}
	}
}

// FuzzDecodeTransmission feeds arbitrary envelopes to the decoder: it
// never panics, and whatever it accepts encodes back to the same thing.
func FuzzDecodeTransmission(f *testing.F) {
	text := []byte("UNCLASSIFIED\n1. (U) TEXT.\n")
	f.Add("1946MOSCOW00511", "cable", "MOSCOW", "STATE", "IMMEDIATE", cable.SHA256Hex(text), "1946-02-22T21:00:00Z", "", "", "MOSCOW", text)
	f.Add("1946MOSCOW00511", "receipt", "MOSCOW", "STATE", "Z", cable.SHA256Hex(text), "1946-02-22T21:00:00.123456789+03:00", "2", "5", "MOSCOW WAR", text)
	f.Add("", "", "", "", "", "", "", "", "", "", []byte{})
	f.Add("x/y", "cable", "moscow", "STATE.>", "FLASH", "ZZ", "2026-13-01T00:00:00Z", "99", "100", "MOSCOW  WAR", []byte("\x00"))
	f.Fuzz(func(t *testing.T, id, kind, origin, dest, prec, sum, queued, section, sections, route string, body []byte) {
		h := natsgo.Header{}
		h.Set(HeaderCableID, id)
		h.Set(HeaderKind, kind)
		h.Set(HeaderOrigin, origin)
		h.Set(HeaderDestination, dest)
		h.Set(HeaderPrecedence, prec)
		h.Set(HeaderSHA256, sum)
		h.Set(HeaderQueuedAt, queued)
		if section != "" {
			h.Set(HeaderSection, section)
		}
		if sections != "" {
			h.Set(HeaderSections, sections)
		}
		h.Set(HeaderRoute, route)
		tr, err := decodeTransmission(h, body, 1<<20)
		if err != nil {
			if tr == nil {
				t.Fatal("no partial transmission with the error")
			}
			if cable.ErrorCode(err) != cable.EINVALID {
				t.Fatalf("error code %q: %v", cable.ErrorCode(err), err)
			}
			return
		}
		var ps cable.Problems
		if checkTransmission(tr, "t", &ps); len(ps) > 0 {
			t.Fatalf("decoded transmission fails the send check: %v", ps)
		}
		again, err := decodeTransmission(encodeHeader(tr, tr.SHA256, "CABLES", tr.Destination, tr.Route), tr.Text, 1<<20)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.CableID != tr.CableID || again.Kind != tr.Kind || again.Origin != tr.Origin || again.Destination != tr.Destination ||
			again.Precedence != tr.Precedence || again.SHA256 != tr.SHA256 || !again.QueuedAt.Equal(tr.QueuedAt) ||
			again.Section != tr.Section || again.Sections != tr.Sections || !slices.Equal(again.Route, tr.Route) ||
			!bytes.Equal(again.Text, tr.Text) {
			t.Fatalf("round trip changed %+v into %+v", tr, again)
		}
	})
}
