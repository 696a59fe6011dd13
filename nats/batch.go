package nats

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Batches.
//
// JetStream syncs each message it stores (SyncAlways) and each it removes
// from a work queue one by one: it has no group commit. A hop that takes
// custody of a thousand cables as a thousand messages pays for two thousand
// fsyncs. So transmissions on the same subject that travel together (a
// Send, a forwarder's batch) go as one message, a batch, that each hop
// stores, syncs and removes once. Each transmission in it keeps its own
// envelope; the hop that takes a batch from its stream reads it back into
// its transmissions, and the batch leaves custody only once every one of
// them has (see entry).
//
// A batch is a message with the header Cable-Batch (the number of
// transmissions in it) and the body:
//
//	"CBATCH1\n"
//	uvarint count
//	count times:
//	  uvarint header count, then for each header:
//	    uvarint name length, name, uvarint value count,
//	    then for each value: uvarint value length, value
//	  uvarint text length, text
//
// Nothing may follow the last transmission.

// HeaderBatch marks a message carrying a batch of transmissions, and
// counts them.
const HeaderBatch = "Cable-Batch"

const (
	batchMagic = "CBATCH1\n"
	// maxBatch is the most transmissions packed into one batch.
	maxBatch = 256
	// maxBatchEntries is the most a batch read off the wire may hold.
	maxBatchEntries = 4096
	// batchRoom is what a batch leaves of MaxPayload for its own headers.
	batchRoom = 1 << 10
)

// batchEntry is one transmission read from a batch.
type batchEntry struct {
	header natsgo.Header
	data   []byte
}

// appendEntry appends the encoding of one transmission to b.
func appendEntry(b []byte, e batchEntry) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.header)))
	for k, vs := range e.header {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.data)))
	return append(b, e.data...)
}

// uvarintLen is the length of x's uvarint encoding.
func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// entrySize is the length of appendEntry's encoding of e.
func entrySize(e batchEntry) int {
	n := uvarintLen(len(e.header))
	for k, vs := range e.header {
		n += uvarintLen(len(k)) + len(k) + uvarintLen(len(vs))
		for _, v := range vs {
			n += uvarintLen(len(v)) + len(v)
		}
	}
	return n + uvarintLen(len(e.data)) + len(e.data)
}

// batchOverhead is the body of a batch less its entries, at most.
const batchOverhead = len(batchMagic) + binary.MaxVarintLen64

// encodeBatch returns the body of a batch of entries, written once into
// a buffer of the right size.
func encodeBatch(entries []batchEntry) []byte {
	n := batchOverhead
	for _, e := range entries {
		n += entrySize(e)
	}
	b := make([]byte, 0, n)
	b = append(b, batchMagic...)
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = appendEntry(b, e)
	}
	return b
}

// batchReader reads a batch's body, keeping the first error. Where it
// is (the transmission, the header whose values it reads) is kept apart
// from the field's name and joined into a message only on an error: a
// batch is read at every hop.
type batchReader struct {
	b   []byte
	off int
	err error
	// entry is the transmission being read, from 1; 0 before the first.
	entry int
	// header is the header whose values are being read.
	header string
}

// where names field of the transmission being read: "batch: count",
// "batch: transmission 3: text".
func (r *batchReader) where(field string) string {
	if field == headerValue {
		field = "header " + strconv.Quote(r.header)
	}
	if r.entry == 0 {
		return "batch: " + field
	}
	return "batch: transmission " + strconv.Itoa(r.entry) + ": " + field
}

// headerValue is the field of a value of r.header.
const headerValue = "header value"

// uvarint reads a number of at most limit, named field in an error.
func (r *batchReader) uvarint(field string, limit uint64) uint64 {
	return r.number(field, "", limit)
}

// number reads a number of at most limit; field and suffix name it in an
// error.
func (r *batchReader) number(field, suffix string, limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.err = fmt.Errorf("%s%s: bad or truncated number at byte %d", r.where(field), suffix, r.off)
		return 0
	}
	if v > limit {
		r.err = fmt.Errorf("%s%s: %d at byte %d is more than %d", r.where(field), suffix, v, r.off, limit)
		return 0
	}
	r.off += n
	return v
}

// bytes reads a length, then that many bytes: field names them, and their
// length is field + " length".
func (r *batchReader) bytes(field string) []byte {
	n := r.number(field, " length", uint64(len(r.b)))
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%s: %d bytes at byte %d, only %d left", r.where(field), n, r.off, len(r.b)-r.off)
		return nil
	}
	v := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return v
}

// decodeBatch reads the transmissions of a batch. The texts share data's
// memory. It refuses a body that is not exactly a batch: bad magic,
// truncated or overlong lengths, bytes after the last transmission, a
// count that disagrees with the header, a batch inside a batch.
func decodeBatch(h natsgo.Header, data []byte) ([]batchEntry, error) {
	want, err := strconv.Atoi(h.Get(HeaderBatch))
	if err != nil || want < 1 || want > maxBatchEntries {
		return nil, fmt.Errorf("batch: %s %q is not a count from 1 to %d", HeaderBatch, h.Get(HeaderBatch), maxBatchEntries)
	}
	if len(data) < len(batchMagic) || string(data[:len(batchMagic)]) != batchMagic {
		return nil, errors.New("batch: the body does not begin as a batch")
	}
	r := &batchReader{b: data, off: len(batchMagic)}
	n := r.uvarint("count", maxBatchEntries)
	if r.err == nil && int(n) != want {
		return nil, fmt.Errorf("batch: the body holds %d transmissions, the header says %d", n, want)
	}
	entries := make([]batchEntry, 0, n)
	for i := 0; r.err == nil && i < int(n); i++ {
		r.entry = i + 1
		keys := r.uvarint("header count", 64)
		hdr := make(natsgo.Header, keys)
		for k := 0; r.err == nil && k < int(keys); k++ {
			name := string(r.bytes("header name"))
			count := r.uvarint("value count", 64)
			r.header = name
			for v := 0; r.err == nil && v < int(count); v++ {
				hdr[name] = append(hdr[name], string(r.bytes(headerValue)))
			}
		}
		data := r.bytes("text")
		if r.err == nil && hdr.Get(HeaderBatch) != "" {
			r.err = fmt.Errorf("batch: transmission %d is itself a batch", r.entry)
		}
		entries = append(entries, batchEntry{header: hdr, data: data})
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(data) {
		return nil, fmt.Errorf("batch: %d bytes after the last transmission", len(data)-r.off)
	}
	return entries, nil
}

// packed is a message to publish and the indexes of the messages it
// carries.
type packed struct {
	msg *natsgo.Msg
	of  []int
}

// pack groups msgs by subject, in order of first appearance, into batches
// of at most maxCount(subject) (and maxBatch) transmissions and maxBytes
// bytes of body. A group of one is the message itself, untouched, and so is
// a message too large to share a batch. Messages with the same message id
// (the same transmission given twice) go once, in the first one's batch.
func pack(msgs []*natsgo.Msg, maxBytes int, maxCount func(subject string) int) []packed {
	var order []string
	groups := map[string][]int{}
	first := map[string]int{}
	dups := map[int][]int{}
	for i, m := range msgs {
		if id := m.Header.Get(jetstream.MsgIDHeader); id != "" {
			if j, ok := first[id]; ok {
				dups[j] = append(dups[j], i)
				continue
			}
			first[id] = i
		}
		if _, ok := groups[m.Subject]; !ok {
			order = append(order, m.Subject)
		}
		groups[m.Subject] = append(groups[m.Subject], i)
	}
	var out []packed
	for _, subject := range order {
		limit := maxBatch
		if maxCount != nil {
			limit = max(1, min(limit, maxCount(subject)))
		}
		var of []int
		size := batchOverhead
		flush := func() {
			switch len(of) {
			case 0:
			case 1:
				out = append(out, packed{msg: msgs[of[0]], of: of})
			default:
				ids := sha256.New()
				entries := make([]batchEntry, len(of))
				stream := msgs[of[0]].Header.Get(jetstream.ExpectedStreamHeader)
				for j, i := range of {
					ids.Write([]byte(msgs[i].Header.Get(jetstream.MsgIDHeader)))
					ids.Write([]byte{'\n'})
					entries[j] = batchEntry{header: msgs[i].Header, data: msgs[i].Data}
					if msgs[i].Header.Get(jetstream.ExpectedStreamHeader) != stream {
						stream = ""
					}
				}
				h := natsgo.Header{}
				h.Set(HeaderBatch, strconv.Itoa(len(of)))
				h.Set(jetstream.MsgIDHeader, "batch."+hex.EncodeToString(ids.Sum(nil))[:40])
				// The stream its transmissions expect, checked by the
				// server as for a message of one.
				if stream != "" {
					h.Set(jetstream.ExpectedStreamHeader, stream)
				}
				out = append(out, packed{msg: &natsgo.Msg{Subject: subject, Header: h, Data: encodeBatch(entries)}, of: of})
			}
			of, size = nil, batchOverhead
		}
		for _, i := range groups[subject] {
			n := entrySize(batchEntry{header: msgs[i].Header, data: msgs[i].Data})
			if len(of) > 0 && (len(of) == limit || size+n > maxBytes) {
				flush()
			}
			of, size = append(of, i), size+n
		}
		flush()
	}
	if len(dups) > 0 {
		for k := range out {
			for _, i := range out[k].of {
				out[k].of = append(out[k].of, dups[i]...)
			}
		}
	}
	return out
}

// batchMsg is a batch message taken from a stream: it leaves custody once
// each of its transmissions has been settled.
type batchMsg struct {
	m          jetstream.Msg
	size       int // its transmissions
	mu         sync.Mutex
	left       int
	nak        bool
	delay      time.Duration
	progressAt time.Time
	// every bounds how often the batch is told it is in progress: each
	// of its transmissions asks.
	every time.Duration
}

// entry is one transmission of a batch, handled like a message of its own.
// Acknowledging it settles it; the batch is acknowledged when the last of
// its transmissions is, or handed back (and all of it delivered again, to
// be stored once at the end) if any was handed back.
type entry struct {
	b       *batchMsg
	index   int // its place in the batch
	header  natsgo.Header
	data    []byte
	settled bool // under b.mu
}

var _ jetstream.Msg = (*entry)(nil)

// expand returns m's transmissions as messages: m itself unless it is a
// batch. A batch that cannot be read is returned as it is, for the
// envelope check to refuse. A batch is told it is in progress at most
// once every progressEvery.
func expand(m jetstream.Msg, progressEvery time.Duration) ([]jetstream.Msg, error) {
	if m.Headers().Get(HeaderBatch) == "" {
		return []jetstream.Msg{m}, nil
	}
	es, err := decodeBatch(m.Headers(), m.Data())
	if err != nil {
		return []jetstream.Msg{m}, err
	}
	b := &batchMsg{m: m, size: len(es), left: len(es), every: progressEvery}
	out := make([]jetstream.Msg, len(es))
	for i, e := range es {
		out[i] = &entry{b: b, index: i, header: e.header, data: e.data}
	}
	return out, nil
}

// settle marks e settled, handed back after delay if nak, and returns
// whether it was the batch's last.
func (e *entry) settle(nak bool, delay time.Duration) (last, nakBatch bool, batchDelay time.Duration) {
	b := e.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.settled {
		return false, false, 0
	}
	e.settled = true
	b.left--
	if nak {
		b.nak = true
		b.delay = max(b.delay, delay)
	}
	return b.left == 0, b.nak, b.delay
}

// started reports whether any transmission of b has been settled.
func (b *batchMsg) started() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.left < b.size
}

// done settles e as handled. If it was the last of its batch, the batch
// is settled with ack, or handed back if any of its transmissions was.
func (e *entry) done(ack func() error) error {
	last, nak, delay := e.settle(false, 0)
	switch {
	case !last:
		return nil
	case nak:
		return e.b.handBack(delay)
	}
	return ack()
}

// handBack hands the whole batch back for redelivery after delay. Like
// puller.nak it always names a delay, so that the server keeps the
// hand-back across a restart.
func (b *batchMsg) handBack(delay time.Duration) error {
	return b.m.NakWithDelay(max(delay, time.Millisecond))
}

// settled returns, for an acknowledgement of msgs, the messages the
// server is to hear about: each plain message, and each batch whose last
// transmission this is. A batch with a transmission handed back is handed
// back here instead.
func settled(msgs []jetstream.Msg) ([]jetstream.Msg, error) {
	var out []jetstream.Msg
	var errs []error
	for _, m := range msgs {
		e, ok := m.(*entry)
		if !ok {
			out = append(out, m)
			continue
		}
		errs = append(errs, e.done(func() error {
			out = append(out, e.b.m)
			return nil
		}))
	}
	return out, errors.Join(errs...)
}

// Metadata is the batch's: its sequence, its delivery count, the
// server's count of messages pending behind it.
func (e *entry) Metadata() (*jetstream.MsgMetadata, error) { return e.b.m.Metadata() }

// Data is the transmission's text.
func (e *entry) Data() []byte { return e.data }

// Headers is the transmission's own envelope.
func (e *entry) Headers() natsgo.Header { return e.header }

// Subject is the batch's, which all its transmissions share.
func (e *entry) Subject() string { return e.b.m.Subject() }

// Reply is the batch's acknowledgement subject.
func (e *entry) Reply() string { return e.b.m.Reply() }

// Ack settles the transmission; the last one acknowledges the batch (or
// hands it back, if another was handed back).
func (e *entry) Ack() error { return e.done(e.b.m.Ack) }

// DoubleAck is Ack, waiting for the server's confirmation when it
// settles the batch.
func (e *entry) DoubleAck(ctx context.Context) error {
	return e.done(func() error { return e.b.m.DoubleAck(ctx) })
}

// Nak hands the transmission back at once: the batch comes back whole
// once every transmission in it is settled.
func (e *entry) Nak() error { return e.NakWithDelay(0) }

// NakWithDelay hands the transmission back after delay; the batch comes
// back after the longest delay asked of it.
func (e *entry) NakWithDelay(delay time.Duration) error {
	if last, _, d := e.settle(true, delay); last {
		return e.b.handBack(d)
	}
	return nil
}

// InProgress keeps the batch from being delivered again, telling the
// server at most once every b.every however many transmissions ask.
func (e *entry) InProgress() error {
	b := e.b
	b.mu.Lock()
	now := time.Now()
	due := b.left > 0 && now.Sub(b.progressAt) >= b.every
	if due {
		b.progressAt = now
	}
	b.mu.Unlock()
	if !due {
		return nil
	}
	return b.m.InProgress()
}

// Term settles a transmission that will never be handled: as far as its
// batch is concerned, it is done with.
func (e *entry) Term() error { return e.Ack() }

// TermWithReason is Term.
func (e *entry) TermWithReason(string) error { return e.Ack() }
