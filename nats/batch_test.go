package nats

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// wireMsgs builds the messages Send would publish for ts.
func wireMsgs(t testing.TB, ts []*cable.Transmission) []*natsgo.Msg {
	t.Helper()
	out := make([]*natsgo.Msg, len(ts))
	for i, tr := range ts {
		sum := cable.SHA256Hex(tr.Text)
		h := encodeHeader(tr, sum, DefaultStream, tr.Origin, []string{tr.Origin})
		out[i] = &natsgo.Msg{Subject: "cable." + tr.Origin + ".fwd." + tr.Destination + "." + tr.Precedence.Prosign(), Header: h, Data: tr.Text}
	}
	return out
}

func TestPackRoundTrip(t *testing.T) {
	ts := append(many(300, 1, "STATE", cable.Routine), many(3, 1000, "STATE", cable.Flash)...)
	ts = append(ts, many(1, 2000, "LONDON", cable.Routine)...)
	msgs := wireMsgs(t, ts)
	msgs = append(msgs, msgs[5]) // the same transmission twice

	packs := pack(msgs, 1<<20, nil)
	// 300 ROUTINE to STATE: 256 and 44; 3 FLASH: one batch; LONDON: alone.
	var sizes []int
	seen := map[int]int{}
	for _, p := range packs {
		sizes = append(sizes, len(p.of))
		for _, i := range p.of {
			seen[i]++
		}
		if len(p.of) == 1 {
			if p.msg != msgs[p.of[0]] {
				t.Errorf("a batch of one is not the message itself")
			}
			continue
		}
		es, err := decodeBatch(p.msg.Header, p.msg.Data)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got := p.msg.Header.Get(jetstream.ExpectedStreamHeader); got != DefaultStream {
			t.Errorf("batch expects stream %q, want %q as its transmissions do", got, DefaultStream)
		}
		n := 0
		for _, i := range p.of {
			if i == len(msgs)-1 {
				continue // the repeat travels as the first
			}
			e := es[n]
			n++
			if !bytes.Equal(e.data, msgs[i].Data) {
				t.Errorf("transmission %d: text differs", i)
			}
			for k, vs := range msgs[i].Header {
				if fmt.Sprint(e.header[k]) != fmt.Sprint(vs) {
					t.Errorf("transmission %d: header %s = %v, want %v", i, k, e.header[k], vs)
				}
			}
			if p.msg.Subject != msgs[i].Subject {
				t.Errorf("transmission %d on %s in a batch on %s", i, msgs[i].Subject, p.msg.Subject)
			}
		}
		if n != len(es) {
			t.Errorf("batch holds %d, carries %d", len(es), n)
		}
	}
	if fmt.Sprint(sizes) != "[257 44 3 1]" {
		t.Errorf("batch sizes %v, want [257 44 3 1] (the repeat with its first)", sizes)
	}
	for i := range msgs {
		if seen[i] != 1 {
			t.Errorf("message %d in %d batches", i, seen[i])
		}
	}

	// Transmissions that expect different streams: the batch expects none.
	mixed := wireMsgs(t, many(2, 3000, "STATE", cable.Routine))
	mixed[1].Header.Set(jetstream.ExpectedStreamHeader, "OTHER")
	if ps := pack(mixed, 1<<20, nil); len(ps) != 1 || ps[0].msg.Header.Get(jetstream.ExpectedStreamHeader) != "" {
		t.Errorf("a batch of transmissions expecting two streams: %+v", ps)
	}

	// The same messages pack the same: a batch sent again has the same id.
	again := pack(msgs, 1<<20, nil)
	if again[0].msg.Header.Get(jetstream.MsgIDHeader) != packs[0].msg.Header.Get(jetstream.MsgIDHeader) {
		t.Error("the same batch packed twice has two message ids")
	}

	// Byte and count limits.
	for _, p := range pack(msgs[:300], 10<<10, nil) {
		if len(p.msg.Data) > 10<<10 {
			t.Errorf("batch of %d bytes over a limit of 10 KiB", len(p.msg.Data))
		}
	}
	if ps := pack(msgs[:300], 1<<20, func(string) int { return 7 }); len(ps) != 43 || len(ps[0].of) != 7 {
		t.Errorf("limit 7: %d batches, first of %d", len(ps), len(ps[0].of))
	}
}

func TestDecodeBatchRefuses(t *testing.T) {
	good := pack(wireMsgs(t, many(3, 1, "STATE", cable.Routine)), 1<<20, nil)[0].msg
	body := good.Data
	header := func(n string) natsgo.Header { return natsgo.Header{HeaderBatch: []string{n}} }
	nested := natsgo.Header{HeaderBatch: []string{"1"}}
	nestedBody := encodeBatch([]batchEntry{{header: natsgo.Header{HeaderBatch: []string{"2"}}, data: []byte("x")}})
	cases := []struct {
		name string
		h    natsgo.Header
		body []byte
		want string
	}{
		{"count not a number", header("three"), body, "is not a count"},
		{"count zero", header("0"), body, "is not a count"},
		{"count too large", header(strconv.Itoa(maxBatchEntries + 1)), body, "is not a count"},
		{"count disagrees", header("2"), body, "holds 3 transmissions, the header says 2"},
		{"not a batch", header("3"), []byte("UNCLASSIFIED\n"), "does not begin as a batch"},
		{"truncated", header("3"), body[:len(body)-10], "transmission 3"},
		{"trailing bytes", header("3"), append(bytes.Clone(body), 'x'), "1 bytes after the last"},
		{"bad length", header("1"), append([]byte(batchMagic), 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "bad or truncated number"},
		{"batch in a batch", nested, nestedBody, "is itself a batch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeBatch(c.h, c.body); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("decodeBatch = %v, want an error with %q", err, c.want)
			}
			// A batch that cannot be read reaches the envelope check whole
			// and is refused there, naming why.
			if _, err := decodeTransmission(c.h, c.body, DefaultMaxPayload); err == nil || !strings.Contains(err.Error(), "unreadable batch") {
				t.Errorf("decodeTransmission = %v, want unreadable batch", err)
			}
		})
	}
}

// FuzzDecodeBatch feeds arbitrary bodies to the batch reader: it never
// panics, and what it accepts encodes back to the same bytes.
func FuzzDecodeBatch(f *testing.F) {
	good := pack(wireMsgs(f, many(3, 1, "STATE", cable.Routine)), 1<<20, nil)[0].msg
	f.Add("3", good.Data)
	f.Add("1", encodeBatch([]batchEntry{{header: natsgo.Header{"A": {"1", "2"}}}}))
	f.Add("2", []byte(batchMagic+"\x02\x00\x00\x00\x00"))
	f.Add("1", []byte("CBATCH1\n\x01\x01\x01"))
	f.Fuzz(func(t *testing.T, count string, body []byte) {
		h := natsgo.Header{HeaderBatch: []string{count}}
		es, err := decodeBatch(h, body)
		if err != nil {
			return
		}
		if len(es) < 1 || len(es) > maxBatchEntries {
			t.Fatalf("accepted %d transmissions", len(es))
		}
		// Headers are a map, so compare decoded forms, not bytes.
		again := encodeBatch(es)
		size := len(batchMagic) + uvarintLen(len(es))
		for _, e := range es {
			size += entrySize(e)
		}
		if len(again) != size {
			t.Fatalf("re-encoded batch is %d bytes, entrySize says %d", len(again), size)
		}
		back, err := decodeBatch(h, again)
		if err != nil {
			t.Fatalf("re-encoded batch refused: %v", err)
		}
		for i := range es {
			if !bytes.Equal(back[i].data, es[i].data) || fmt.Sprint(back[i].header) != fmt.Sprint(es[i].header) {
				t.Fatalf("transmission %d changed on re-encoding", i)
			}
		}
	})
}

// fakeMsg records how a batch message was settled.
type fakeMsg struct {
	jetstream.Msg
	acks, naks, progress int
	delay                time.Duration
}

func (m *fakeMsg) Ack() error                         { m.acks++; return nil }
func (m *fakeMsg) DoubleAck(context.Context) error    { m.acks++; return nil }
func (m *fakeMsg) NakWithDelay(d time.Duration) error { m.naks++; m.delay = d; return nil }
func (m *fakeMsg) InProgress() error                  { m.progress++; return nil }
func (m *fakeMsg) Subject() string                    { return "cable.STATE.in.R" }
func (m *fakeMsg) Headers() natsgo.Header             { return natsgo.Header{HeaderBatch: []string{"3"}} }

func TestBatchSettlement(t *testing.T) {
	body := pack(wireMsgs(t, many(3, 1, "STATE", cable.Routine)), 1<<20, nil)[0].msg.Data
	open := func() (*fakeMsg, []jetstream.Msg) {
		m := &fakeMsg{}
		es, err := decodeBatch(m.Headers(), body)
		if err != nil {
			t.Fatal(err)
		}
		b := &batchMsg{m: m, left: len(es), every: time.Hour}
		out := make([]jetstream.Msg, len(es))
		for i, e := range es {
			out[i] = &entry{b: b, header: e.header, data: e.data}
		}
		return m, out
	}

	// Acknowledged only when the last transmission is, once.
	m, es := open()
	_ = es[0].Ack()
	_ = es[0].Ack()
	_ = es[2].Ack()
	if m.acks != 0 {
		t.Fatalf("batch acknowledged with a transmission unsettled")
	}
	_ = es[1].DoubleAck(context.Background())
	if m.acks != 1 || m.naks != 0 {
		t.Fatalf("acks %d naks %d, want 1 and 0", m.acks, m.naks)
	}

	// One handed back: the whole batch comes back, after the longest delay.
	m, es = open()
	_ = es[0].NakWithDelay(time.Second)
	_ = es[1].Ack()
	if m.naks != 0 {
		t.Fatal("batch handed back early")
	}
	_ = es[2].NakWithDelay(2 * time.Second)
	if m.acks != 0 || m.naks != 1 || m.delay != 2*time.Second {
		t.Fatalf("acks %d naks %d delay %v, want a hand-back after 2s", m.acks, m.naks, m.delay)
	}

	// settled: the server hears of a batch once its last is acknowledged.
	m, es = open()
	plain := &fakeMsg{}
	out, err := settled([]jetstream.Msg{es[0], plain, es[1]})
	if err != nil || len(out) != 1 || out[0] != plain {
		t.Fatalf("settled = %v, %v; want the plain message only", out, err)
	}
	out, _ = settled([]jetstream.Msg{es[2]})
	if len(out) != 1 || out[0] != m {
		t.Fatalf("settled = %v, want the batch", out)
	}

	// In progress: asked by every transmission, passed on at most once in
	// the interval.
	m, es = open()
	for _, e := range es {
		_ = e.InProgress()
	}
	if m.progress != 1 {
		t.Errorf("batch told in progress %d times, want 1", m.progress)
	}
}

// TestSendBatches: transmissions on one subject are stored as one
// message, and each arrives whole, once.
func TestSendBatches(t *testing.T) {
	tr := openTest(t, Options{})
	ctx := context.Background()
	ts := many(600, 1, "STATE", cable.Routine)
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if n, m := streamMsgs(t, tr), streamTransmissions(t, tr); n != 3 || m != 600 {
		t.Fatalf("stream holds %d messages, %d transmissions; want 3 and 600", n, m)
	}
	var c collector
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "every cable", func() bool { return c.received() == 600 })
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c.once(t, ts)
	for _, b := range c.snapshot() {
		if len(b.ids) > DefaultReceiveBatch {
			t.Errorf("handler got %d at once, more than %d", len(b.ids), DefaultReceiveBatch)
		}
	}
}

// TestBatchHandedBack: a handler that refuses part of a batch sees the
// whole batch again; every transmission arrives and the stream empties.
func TestBatchHandedBack(t *testing.T) {
	tr := openTest(t, Options{RetryDelay: 50 * time.Millisecond})
	ctx := context.Background()
	ts := many(200, 1, "STATE", cable.Routine)
	if err := tr.Send(ctx, ts); err != nil {
		t.Fatal(err)
	}
	c := collector{fail: func(call int, _ []*cable.Transmission) error {
		if call == 1 {
			return fmt.Errorf("disk full")
		}
		return nil
	}}
	stop := receive(t, tr, "STATE", c.handle)
	waitFor(t, "acks", func() bool { return streamMsgs(t, tr) == 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range ts {
		if c.got[key(x)] == nil {
			t.Errorf("%s never handed over", key(x))
		}
	}
	// The first 64 were stored before the refusal and come back with the
	// rest of their batch; the records store keeps them once.
	if c.count <= len(ts) {
		t.Errorf("%d handed over, want more than %d: the refused batch comes back whole", c.count, len(ts))
	}
}

// BenchmarkDecodeBatch reads a batch of 64 transmissions of 4 KB, as each
// hop does; the baseline copies the same bytes once.
func BenchmarkDecodeBatch(b *testing.B) {
	msg := benchBatch(b)
	b.SetBytes(int64(len(msg.Data)))
	for b.Loop() {
		if _, err := decodeBatch(msg.Header, msg.Data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatchBaselineCopy(b *testing.B) {
	msg := benchBatch(b)
	b.SetBytes(int64(len(msg.Data)))
	for b.Loop() {
		_ = bytes.Clone(msg.Data)
	}
}

func benchBatch(b *testing.B) *natsgo.Msg {
	ts := many(64, 1, "STATE", cable.Routine)
	for _, t := range ts {
		text := append(bytes.Repeat([]byte("1. (U) FOUR KILOBYTES OF TEXT.\n"), 4096/31), t.Text...)
		*t = *transmission(t.CableID, t.Origin, t.Destination, t.Precedence, text)
	}
	ps := pack(wireMsgs(b, ts), 1<<20, nil)
	if len(ps) != 1 || len(ps[0].of) != 64 {
		b.Fatalf("packed into %d messages", len(ps))
	}
	return ps[0].msg
}
