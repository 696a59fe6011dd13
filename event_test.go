package cable_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"regexp"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"pgregory.net/rapid"
)

func baseEvent() *cable.Event {
	return &cable.Event{
		Seq:      7,
		At:       time.Date(1946, 2, 22, 20, 52, 0, 123456000, time.UTC),
		Kind:     cable.EventReceived,
		CableID:  "1946MOSCOW00511",
		Station:  "STATE",
		Actor:    "message-centre",
		Detail:   map[string]any{"control_number": "8963", "bytes": 73256, "offices": []any{"EUR", "S"}, "sealed": true},
		PrevHash: cable.SHA256Hex([]byte("previous")),
	}
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestComputeHash(t *testing.T) {
	e := baseEvent()
	h := e.ComputeHash()
	if !hexHash.MatchString(h) {
		t.Fatalf("hash %q is not hex SHA-256", h)
	}
	if e.ComputeHash() != h {
		t.Fatal("ComputeHash is not deterministic")
	}
	// The hash does not cover the Hash field itself.
	e.Hash = "anything"
	if e.ComputeHash() != h {
		t.Fatal("the hash covers its own field")
	}

	// Changing any field changes the hash.
	for name, change := range map[string]func(e *cable.Event){
		"seq":           func(e *cable.Event) { e.Seq++ },
		"at":            func(e *cable.Event) { e.At = e.At.Add(time.Microsecond) },
		"kind":          func(e *cable.Event) { e.Kind = cable.EventRead },
		"cable":         func(e *cable.Event) { e.CableID = "1946MOSCOW00512" },
		"station":       func(e *cable.Event) { e.Station = "MOSCOW" },
		"actor":         func(e *cable.Event) { e.Actor = "gkennan" },
		"prev hash":     func(e *cable.Event) { e.PrevHash = cable.GenesisHash },
		"detail value":  func(e *cable.Event) { e.Detail["control_number"] = "8964" },
		"detail number": func(e *cable.Event) { e.Detail["bytes"] = 73257 },
		"detail type":   func(e *cable.Event) { e.Detail["bytes"] = "73256" },
		"detail key":    func(e *cable.Event) { e.Detail["extra"] = nil },
		"detail list":   func(e *cable.Event) { e.Detail["offices"] = []any{"S", "EUR"} },
		"no detail":     func(e *cable.Event) { e.Detail = nil },
		"empty field moved": func(e *cable.Event) {
			// Field boundaries are kept: moving text between fields shows.
			e.Station, e.Actor = "STATEmessage-centre", ""
		},
	} {
		e := baseEvent()
		change(e)
		if e.ComputeHash() == h {
			t.Errorf("changing %s leaves the hash", name)
		}
	}

	// What the hash does not see: time below the microsecond and the zone.
	e = baseEvent()
	e.At = e.At.Add(999 * time.Nanosecond)
	if e.ComputeHash() != h {
		t.Error("nanoseconds change the hash")
	}
	e = baseEvent()
	e.At = e.At.In(time.FixedZone("MSK", 3*3600))
	if e.ComputeHash() != h {
		t.Error("the time zone changes the hash")
	}
}

func TestComputeHashDetailKeyOrder(t *testing.T) {
	var a, b map[string]any
	if err := json.Unmarshal([]byte(`{"z":1,"a":{"y":[1,2],"b":"x"},"m":null}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"m":null,"a":{"b":"x","y":[1,2]},"z":1}`), &b); err != nil {
		t.Fatal(err)
	}
	ea, eb := baseEvent(), baseEvent()
	ea.Detail, eb.Detail = a, b
	if ea.ComputeHash() != eb.ComputeHash() {
		t.Fatal("the order of detail keys changes the hash")
	}
}

// TestComputeHashJSONRoundTrip checks that an event read back from its
// JSON form has the hash it had when it was written, as a store that
// keeps events as JSON relies on.
// details are event details of every kind of value a caller may put in.
func details() map[string]map[string]any {
	return map[string]map[string]any{
		"numbers": {"int": 42, "int64": int64(-7), "uint8": uint8(200), "float": 2.5, "whole float": 3.0, "zero": 0,
			"small": 1e-7, "big": 1e21, "max exact": int64(1) << 53},
		"strings":         {"html": "<a href=\"x\">&</a>", "unicode": "Москва", "line": "a\u2028b", "empty": ""},
		"nested":          {"list": []int{3, 1, 2}, "map": map[string]int{"b": 2, "a": 1}, "null": nil, "bool": false},
		"struct":          {"receipt": cable.Receipt{Station: "STATE", At: time.Date(1946, 2, 22, 20, 52, 0, 0, time.UTC), ControlNumber: "8963"}},
		"struct pointer":  {"distribution": &cable.Distribution{Action: "EUR", Info: []string{"S"}}, "time": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
		"typed strings":   {"classification": cable.Secret, "precedence": cable.Flash, "caption": cable.NODIS},
		"raw JSON":        {"raw": json.RawMessage(`{ "z" : 1, "a" : [ 2 ] }`)},
		"empty detail":    {},
		"invalid unicode": {"bytes": "\xff\xfe"},
	}
}

func TestComputeHashJSONRoundTrip(t *testing.T) {
	for name, detail := range details() {
		t.Run(name, func(t *testing.T) {
			e := baseEvent()
			e.Detail = detail
			e.Hash = e.ComputeHash()
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var back cable.Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.ComputeHash(); got != e.Hash {
				t.Fatalf("hash after JSON round trip = %s, want %s\nJSON: %s", got, e.Hash, b)
			}
			// A store that decodes numbers exactly gets the same hash too.
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var exact cable.Event
			if err := dec.Decode(&exact); err != nil {
				t.Fatal(err)
			}
			if got := exact.ComputeHash(); got != e.Hash {
				t.Fatalf("hash after JSON round trip with UseNumber = %s, want %s", got, e.Hash)
			}
		})
	}
}

// TestChain checks that an event chained as a store does it has the hash
// ComputeHash gives, before and after its detail is stored as JSON and
// read back.
func TestChain(t *testing.T) {
	check := func(t *testing.T, detail map[string]any) {
		e := baseEvent()
		e.Detail = detail
		prev := e.PrevHash
		e.PrevHash, e.Hash = "", ""
		stored, err := e.Chain(prev)
		if err != nil {
			t.Fatalf("Chain: %v", err)
		}
		if e.PrevHash != prev || e.Hash != e.ComputeHash() {
			t.Fatalf("chained: prev %s (want %s), hash %s, ComputeHash %s", e.PrevHash, prev, e.Hash, e.ComputeHash())
		}
		back := *e
		back.Detail = nil
		if detail == nil {
			if stored != nil {
				t.Fatalf("no detail stored as %q", stored)
			}
		} else {
			if back.Detail, err = cable.DecodeEventDetail(stored); err != nil {
				t.Fatalf("stored detail %q: %v", stored, err)
			}
		}
		if got := back.ComputeHash(); got != e.Hash {
			t.Fatalf("read back from %s: hash %s, want %s", stored, got, e.Hash)
		}
		// The detail given hashes as the one read back.
		orig := *e
		orig.Detail = detail
		if got := orig.ComputeHash(); got != e.Hash {
			t.Fatalf("the detail as given hashes to %s, chained %s", got, e.Hash)
		}
	}
	for name, detail := range details() {
		t.Run(name, func(t *testing.T) { check(t, detail) })
	}
	t.Run("no detail", func(t *testing.T) { check(t, nil) })
	t.Run("past exact floats", func(t *testing.T) { check(t, map[string]any{"n": int64(1)<<53 + 1, "u": uint64(1) << 63}) })
	t.Run("any JSON values", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			check(t, rapid.MapOf(rapid.String(), jsonValue(2)).Draw(rt, "detail"))
		})
	})
	t.Run("not JSON", func(t *testing.T) {
		e := baseEvent()
		e.Detail = map[string]any{"ch": make(chan int)}
		before := *e
		if _, err := e.Chain(cable.GenesisHash); cable.ErrorCode(err) != cable.EINVALID {
			t.Fatalf("Chain = %v, want EINVALID", err)
		}
		if e.Hash != before.Hash || e.PrevHash != before.PrevHash {
			t.Fatal("a refused event was changed")
		}
	})
}

// jsonValue draws what a caller may put in a detail, nested depth deep.
func jsonValue(depth int) *rapid.Generator[any] {
	leaves := []*rapid.Generator[any]{
		rapid.Just[any](nil),
		rapid.Bool().AsAny(),
		rapid.String().AsAny(),
		rapid.Int64().AsAny(),
		rapid.Float64().Filter(func(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }).AsAny(),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }).AsAny(), // invalid UTF-8 too
	}
	if depth == 0 {
		return rapid.OneOf(leaves...)
	}
	return rapid.OneOf(append(leaves,
		rapid.SliceOfN(jsonValue(depth-1), 0, 4).AsAny(),
		rapid.MapOfN(rapid.String(), jsonValue(depth-1), 0, 4).AsAny(),
	)...)
}

// TestComputeHashLargeIntegers documents the limit of a plain JSON round
// trip: integers beyond 2^53 survive only when the store decodes numbers
// exactly (json.Decoder.UseNumber).
func TestComputeHashLargeIntegers(t *testing.T) {
	e := baseEvent()
	e.Detail = map[string]any{"n": int64(1)<<53 + 1}
	e.Hash = e.ComputeHash()
	b, _ := json.Marshal(e)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var exact cable.Event
	if err := dec.Decode(&exact); err != nil {
		t.Fatal(err)
	}
	if exact.ComputeHash() != e.Hash {
		t.Fatal("UseNumber round trip of a large integer changes the hash")
	}
}

// TestEventChain builds a log the way a store does and checks that
// changing any event breaks its own hash and the link to the next.
func TestEventChain(t *testing.T) {
	var log []*cable.Event
	prev := cable.GenesisHash
	for i := range 5 {
		e := &cable.Event{Seq: int64(i + 1), At: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC), Kind: cable.EventRead,
			CableID: "2026MOSCOW00001", Actor: "reader", Detail: map[string]any{"i": i}}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		prev = e.Hash
		log = append(log, e)
	}
	verify := func() int {
		prev := cable.GenesisHash
		for i, e := range log {
			if e.PrevHash != prev || e.ComputeHash() != e.Hash {
				return i
			}
			prev = e.Hash
		}
		return -1
	}
	if bad := verify(); bad != -1 {
		t.Fatalf("fresh log breaks at %d", bad)
	}
	log[2].Actor = "intruder"
	if bad := verify(); bad != 2 {
		t.Fatalf("tampered event 2: log breaks at %d", bad)
	}
	// Rehashing the tampered event does not help: the next link breaks.
	log[2].Hash = log[2].ComputeHash()
	if bad := verify(); bad != 3 {
		t.Fatalf("rehashed event 2: log breaks at %d", bad)
	}
	if len(cable.GenesisHash) != 64 || !hexHash.MatchString(cable.GenesisHash) {
		t.Fatal("GenesisHash is not 64 hex zeros")
	}
}

func TestComputeHashPanicsOnNonJSON(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a channel in Detail did not panic")
		}
	}()
	e := baseEvent()
	e.Detail = map[string]any{"ch": make(chan int)}
	e.ComputeHash()
}

func TestSHA256Hex(t *testing.T) {
	if got := cable.SHA256Hex([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("SHA256Hex(abc) = %s", got)
	}
	if got := cable.SHA256Hex(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("SHA256Hex(nil) = %s", got)
	}
}

// directHash is the documented content of the hash written out: the hex
// SHA-256 of PrevHash and the JSON of seq, at, kind, cable_id, station,
// actor and detail.
func directHash(e *cable.Event) string {
	j, err := json.Marshal(struct {
		Seq     int64          `json:"seq"`
		At      string         `json:"at"`
		Kind    string         `json:"kind"`
		CableID string         `json:"cable_id"`
		Station string         `json:"station"`
		Actor   string         `json:"actor"`
		Detail  map[string]any `json:"detail"`
	}{e.Seq, e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), e.Kind, e.CableID, e.Station, e.Actor, e.Detail})
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(j)
	return hex.EncodeToString(h.Sum(nil))
}

// TestComputeHashFormat pins the hashed content for an event whose detail
// is plain JSON values, so that another implementation (a verifier in SQL,
// an outside auditor) can recompute it.
func TestComputeHashFormat(t *testing.T) {
	e := baseEvent()
	if got, want := e.ComputeHash(), directHash(e); got != want {
		t.Fatalf("ComputeHash = %s, documented content hashes to %s", got, want)
	}
	e.Detail = nil
	if got, want := e.ComputeHash(), directHash(e); got != want {
		t.Fatalf("without detail: ComputeHash = %s, documented content hashes to %s", got, want)
	}
}

// BenchmarkComputeHash measures ComputeHash on a typical event; the
// baseline is the raw work underneath: one json.Marshal of the same
// content and one SHA-256.
func BenchmarkComputeHash(b *testing.B) {
	e := baseEvent()
	for b.Loop() {
		_ = e.ComputeHash()
	}
}

// BenchmarkChain measures what a store does to append a typical event:
// detail to JSON and back, and the hash. Its baselines are the same
// steps done as before Chain (the detail read back, then ComputeHash) and
// the raw Marshal and SHA-256.
func BenchmarkChain(b *testing.B) {
	e := baseEvent()
	detail, prev := e.Detail, e.PrevHash
	for b.Loop() {
		e.Detail = detail
		if _, err := e.Chain(prev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChainBaselineReadBackThenComputeHash(b *testing.B) {
	e := baseEvent()
	detail, prev := e.Detail, e.PrevHash
	for b.Loop() {
		raw, err := json.Marshal(detail)
		if err != nil {
			b.Fatal(err)
		}
		if e.Detail, err = cable.DecodeEventDetail(raw); err != nil {
			b.Fatal(err)
		}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
	}
}

func BenchmarkComputeHashBaselineMarshalSHA256(b *testing.B) {
	e := baseEvent()
	for b.Loop() {
		_ = directHash(e)
	}
}

func TestRecordDeliveryFor(t *testing.T) {
	r := &cable.Record{Deliveries: []cable.Delivery{
		{Station: "STATE", Receipt: cable.Receipt{ControlNumber: "8963"}},
		{Station: "LONDON", Receipt: cable.Receipt{ControlNumber: "12"}},
	}}
	d := r.DeliveryFor("LONDON")
	if d == nil || d.Receipt.ControlNumber != "12" {
		t.Fatalf("DeliveryFor(LONDON) = %+v", d)
	}
	d.Distribution.Action = "EUR"
	if r.Deliveries[1].Distribution.Action != "EUR" {
		t.Fatal("DeliveryFor returns a copy, not the record's delivery")
	}
	if r.DeliveryFor("PARIS") != nil {
		t.Fatal("DeliveryFor of a station without receipt is not nil")
	}
}
