package cable_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

func TestParseRoutes(t *testing.T) {
	dir, err := cable.ParseDirectory([]byte(directoryFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := cable.ParseRoutes([]byte("# Moscow's routes\nSTATE via WAR  # the war department's relay\n\n* via war\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	for dest, want := range map[string]string{"STATE": "WAR", "MOSCOW": "WAR", "WAR": "WAR"} {
		if got := r.NextHop(dest); got != want {
			t.Errorf("NextHop(%s) = %s, want %s", dest, got, want)
		}
	}
	if got := r.Lines(); !slices.Equal(got, []string{"STATE via WAR", "* via WAR"}) {
		t.Errorf("Lines = %q", got)
	}
	direct, err := cable.ParseRoutes([]byte("MOSCOW via WAR\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if direct.NextHop("STATE") != "STATE" || direct.NextHop("MOSCOW") != "WAR" {
		t.Errorf("without a default route a destination is direct: %s %s", direct.NextHop("STATE"), direct.NextHop("MOSCOW"))
	}
	var none *cable.Routes
	if none.NextHop("STATE") != "STATE" {
		t.Error("nil routes are direct")
	}

	_, err = cable.ParseRoutes([]byte("STATE WAR\nROME via WAR\nSTATE via ATLANTIS\nWAR via WAR\nSTATE via MOSCOW\n* via WAR\n* via STATE\nSTATE via WAR\n"), dir)
	want := []string{
		"line 1", `want "DEST via HOP"`,
		"line 2", "destination ROME is not in the station directory",
		"line 3", "next hop ATLANTIS",
		"line 4", "WAR routed via itself",
		"line 7", "a second default route",
		"line 8", "a second route for STATE",
	}
	msg := cable.ErrorMessage(err) + "\n" + problemsText(err)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("problems %q lack %q", msg, w)
		}
	}
	if cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("code %s", cable.ErrorCode(err))
	}
}

func problemsText(err error) string {
	var b strings.Builder
	for _, p := range cable.ErrorProblems(err) {
		b.WriteString(p.Field + ": " + p.Message + "\n")
	}
	return b.String()
}

func TestObjectives(t *testing.T) {
	want := map[cable.Precedence]time.Duration{cable.Flash: 10 * time.Minute, cable.Immediate: 30 * time.Minute,
		cable.Priority: 3 * time.Hour, cable.Routine: 6 * time.Hour}
	for p, d := range want {
		if p.Objective() != d {
			t.Errorf("%s objective %s, want %s", p, p.Objective(), d)
		}
	}
	q := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s := cable.TransmissionState{Destination: "STATE", State: cable.TransmissionSent, QueuedAt: q, Hop: "WAR"}
	if s.Overdue(cable.Flash, q.Add(9*time.Minute)) || !s.Overdue(cable.Flash, q.Add(11*time.Minute)) {
		t.Error("FLASH is overdue after 10 minutes, not before")
	}
	if got := s.Describe(cable.Flash, q.Add(11*time.Minute)); got != "overdue, in transit at WAR" {
		t.Errorf("Describe = %q", got)
	}
	at := q.Add(20 * time.Minute)
	s.State, s.ReceivedAt, s.ControlNumber = cable.TransmissionReceived, &at, "8963"
	if got := s.Describe(cable.Flash, q.Add(time.Hour)); got != "received 2026-11-26 10:20Z, control 8963" {
		t.Errorf("Describe = %q", got)
	}
	if got := (cable.TransmissionState{State: cable.TransmissionQueued, QueuedAt: q}).Describe(cable.Routine, q); got != "queued" {
		t.Errorf("Describe = %q", got)
	}
}

func TestReceiptRoundTrip(t *testing.T) {
	r := &cable.DeliveryReceipt{CableID: "1946MOSCOW00511", Origin: "MOSCOW", Station: "STATE",
		ReceivedAt: time.Date(1946, 2, 22, 20, 52, 0, 0, time.UTC), ControlNumber: "8963"}
	b := cable.MarshalReceipt(r, []byte("signature bytes"))
	got, signed, sig, err := cable.ParseReceipt(b)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *r || !bytes.Equal(signed, r.SignedBytes()) || string(sig) != "signature bytes" {
		t.Errorf("round trip: %+v %q %q", got, signed, sig)
	}
	_, _, _, err = cable.ParseReceipt([]byte("cable-receipt-v1\nid: 1946MOSCOW00511\norigin: moscow\nreceived: yesterday\nwho: me\nsignature: !!\n"))
	msg := problemsText(err)
	for _, w := range []string{"signature: not base64", "received: not an RFC 3339", "unknown line", "station: missing", "control: missing", "origin:"} {
		if !strings.Contains(msg, w) {
			t.Errorf("problems %q lack %q", msg, w)
		}
	}
}

func TestParseReceipts(t *testing.T) {
	at := time.Date(1946, 2, 22, 20, 52, 0, 0, time.UTC)
	var rs []*cable.DeliveryReceipt
	var singles []byte
	for i, id := range []string{"1946MOSCOW00511", "1946MOSCOW00512", "1946MOSCOW00513"} {
		r := &cable.DeliveryReceipt{CableID: id, Origin: "MOSCOW", Station: "STATE", ReceivedAt: at, ControlNumber: strconv.Itoa(8963 + i)}
		rs = append(rs, r)
		singles = append(singles, cable.MarshalReceipt(r, []byte{byte(i), 1, 2})...)
	}

	t.Run("bundle", func(t *testing.T) {
		signed := cable.ReceiptsSignedBytes("STATE", "MOSCOW", rs)
		bundle := cable.MarshalReceipts(signed, []byte{9, 1, 2})
		srs, err := cable.ParseReceipts(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if len(srs) != 1 || len(srs[0].Receipts) != 3 || srs[0].Receipts[2].CableID != "1946MOSCOW00513" ||
			srs[0].Receipts[1].ControlNumber != "8964" || !bytes.Equal(srs[0].Signature, []byte{9, 1, 2}) {
			t.Fatalf("bundle read as %+v", srs)
		}
		if !bytes.Equal(srs[0].Signed, signed) {
			t.Error("signed bytes of the bundle")
		}
		broken := bytes.Replace(bundle, []byte("id: 1946MOSCOW00513"), []byte("id: nonsense"), 1)
		broken = bytes.Replace(broken, []byte("count: 3"), []byte("count: 4"), 1)
		broken = bytes.Replace(broken, []byte("station: STATE\nreceived"), []byte("station: WAR\nreceived"), 1)
		_, err = cable.ParseReceipts(broken)
		msg := problemsText(err)
		for _, w := range []string{"receipts[2].id", "count: says 4 receipts, the bundle holds 3", "receipts[0].station: from WAR to MOSCOW in a bundle from STATE to MOSCOW"} {
			if !strings.Contains(msg, w) {
				t.Errorf("problems %q lack %q", msg, w)
			}
		}
		for name, c := range map[string]struct {
			b    []byte
			want string
		}{
			"no signature":                {signed, "not a cable-receipts-v1 ending in a signature line"},
			"no origin":                   {bytes.Replace(bundle, []byte("origin: MOSCOW\ncount"), []byte("count"), 1), "origin: missing"},
			"a time not in UTC":           {bytes.Replace(bundle, []byte("received: 1946-02-22T20:52:00Z"), []byte("received: 1946-02-22T21:52:00+01:00"), 1), "not in the form a station writes them"},
			"fields reordered":            {bytes.Replace(bundle, []byte("origin: MOSCOW\nstation: STATE\n"), []byte("station: STATE\norigin: MOSCOW\n"), 1), "not in the form a station writes them"},
			"signature not strict base64": {append(bytes.Clone(signed), "signature: CQEC\r\n"...), "signature: not base64"},
			"an empty control number":     {bytes.Replace(bundle, []byte("control: 8963"), []byte("control: "), 1), "receipts[0].control: empty"},
			"the zero time":               {bytes.Replace(bundle, []byte("received: 1946-02-22T20:52:00Z"), []byte("received: 0001-01-01T00:00:00Z"), 1), "receipts[0].received: the zero time"},
		} {
			_, err := cable.ParseReceipts(c.b)
			if cable.ErrorCode(err) != cable.EINVALID || !strings.Contains(problemsText(err), c.want) {
				t.Errorf("%s: %v, want a problem saying %q", name, err, c.want)
			}
		}
		// Hostile input is refused with a bounded list of problems.
		junk := append([]byte("cable-receipts-v1\nstation: STATE\norigin: MOSCOW\ncount: 1\n"), bytes.Repeat([]byte("cable-receipt-v1\nx\n"), 50000)...)
		junk = append(junk, "signature: AQID\n"...)
		_, err = cable.ParseReceipts(junk)
		if ps := cable.ErrorProblems(err); len(ps) == 0 || len(ps) > 25 {
			t.Errorf("a bundle of 50,000 bad receipts: %d problems, want a few", len(ps))
		}
	})

	t.Run("each signed", func(t *testing.T) {
		srs, err := cable.ParseReceipts(singles)
		if err != nil {
			t.Fatal(err)
		}
		if len(srs) != 3 || srs[2].Receipts[0].CableID != "1946MOSCOW00513" || srs[1].Receipts[0].ControlNumber != "8964" || srs[2].Signature[0] != 2 {
			t.Fatalf("receipts read as %+v", srs)
		}
		if !bytes.Equal(srs[1].Signed, rs[1].SignedBytes()) {
			t.Error("signed bytes of the second receipt")
		}
		broken := bytes.Replace(singles, []byte("station: STATE\ncontrol"), []byte("station: state\ncontrol"), 1)
		broken = bytes.Replace(broken, []byte("id: 1946MOSCOW00513"), []byte("id: nonsense"), 1)
		_, err = cable.ParseReceipts(broken)
		msg := problemsText(err)
		if !strings.Contains(msg, "receipts[2].id") {
			t.Errorf("problems %q do not name the third receipt's id", msg)
		}
	})

	if _, err := cable.ParseReceipts(nil); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("empty bundle: %v", err)
	}
}
