package nats

import (
	"bytes"
	"testing"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
)

func TestHeaderRoundTrip(t *testing.T) {
	want := transmission("1946MOSCOW00511", "MOSCOW", "STATE", cable.Immediate, []byte("TEXT\n"))
	h := encodeHeader(want, want.SHA256, "CABLES")
	if got := h.Get("Nats-Msg-Id"); got != "1946MOSCOW00511/STATE" {
		t.Errorf("message id %q", got)
	}
	got, err := decodeTransmission(h, want.Text)
	if err != nil {
		t.Fatal(err)
	}
	sameTransmission(t, got, want)

	h.Set(HeaderPrecedence, "URGENT")
	h.Set(HeaderQueuedAt, "yesterday")
	h.Del(HeaderOrigin)
	_, err = decodeTransmission(h, []byte("OTHER\n"))
	if cable.ErrorCode(err) != cable.EINVALID || len(cable.ErrorProblems(err)) != 4 {
		t.Errorf("decode of a bad envelope = %v, want four problems (precedence, queued-at, origin, hash)", err)
	}
}

// FuzzDecodeTransmission feeds arbitrary envelopes to the decoder: it
// never panics, and whatever it accepts encodes back to the same thing.
func FuzzDecodeTransmission(f *testing.F) {
	text := []byte("UNCLASSIFIED\n1. (U) TEXT.\n")
	f.Add("1946MOSCOW00511", "MOSCOW", "STATE", "IMMEDIATE", cable.SHA256Hex(text), "1946-02-22T21:00:00Z", text)
	f.Add("1946MOSCOW00511", "MOSCOW", "STATE", "Z", cable.SHA256Hex(text), "1946-02-22T21:00:00.123456789+03:00", text)
	f.Add("", "", "", "", "", "", []byte{})
	f.Add("x/y", "moscow", "STATE.>", "FLASH", "ZZ", "2026-13-01T00:00:00Z", []byte("\x00"))
	f.Fuzz(func(t *testing.T, id, origin, dest, prec, sum, queued string, body []byte) {
		h := natsgo.Header{}
		h.Set(HeaderCableID, id)
		h.Set(HeaderOrigin, origin)
		h.Set(HeaderDestination, dest)
		h.Set(HeaderPrecedence, prec)
		h.Set(HeaderSHA256, sum)
		h.Set(HeaderQueuedAt, queued)
		tr, err := decodeTransmission(h, body)
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
		again, err := decodeTransmission(encodeHeader(tr, tr.SHA256, "CABLES"), tr.Text)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.CableID != tr.CableID || again.Origin != tr.Origin || again.Destination != tr.Destination ||
			again.Precedence != tr.Precedence || again.SHA256 != tr.SHA256 || !again.QueuedAt.Equal(tr.QueuedAt) ||
			!bytes.Equal(again.Text, tr.Text) {
			t.Fatalf("round trip changed %+v into %+v", tr, again)
		}
	})
}
