package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
)

// Run runs the conformance suite. open returns a new, empty store for
// each subtest; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) cable.Records) {
	s := &suite{open: open}
	tests := []struct {
		name string
		fn   func(*testing.T, cable.Records)
	}{
		{"Release/Serials", s.releaseSerials},
		{"Release/Record", s.releaseRecord},
		{"Release/Batch", s.releaseBatch},
		{"Release/Concurrent", s.releaseConcurrent},
		{"Release/RenderErrorRollsBack", s.releaseRenderError},
		{"Release/Invalid", s.releaseInvalid},
		{"Receive/StoredOnce", s.receiveOnce},
		{"Receive/ControlNumbers", s.receiveControlNumbers},
		{"Receive/Conflict", s.receiveConflict},
		{"Receive/TwiceInOneBatch", s.receiveTwiceInOneBatch},
		{"Receive/OwnRelease", s.receiveOwnRelease},
		{"Receive/Invalid", s.receiveInvalid},
		{"Receive/Historical", s.receiveHistorical},
		{"Receive/TextByteForByte", s.receiveTextByteForByte},
		{"Cable/NotFound", s.cableNotFound},
		{"FindCables/Bounds", s.findBounds},
		{"FindCables/Inbox", s.findInbox},
		{"FindCables/Sent", s.findSent},
		{"FindCables/Search", s.findSearch},
		{"FindCables/Filters", s.findFilters},
		{"FindCables/LongTelegram", s.longTelegram},
		{"References", s.references},
		{"Transmissions", s.transmissions},
		{"Transmissions/Hop", s.transmitHop},
		{"Transmissions/RecordHops", s.recordHops},
		{"Transmissions/Delivered", s.markDelivered},
		{"Transmissions/Overdue", s.overdue},
		{"Transmissions/EventsWithMarks", s.eventsWithMarks},
		{"Receive/OwnReleaseControlNumber", s.receiveOwnControlNumber},
		{"Events/Chain", s.eventsChain},
		{"Events/Concurrent", s.eventsConcurrent},
		{"Verify", s.verify},
		{"Users", s.users},
		{"Tokens", s.tokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t)
			t.Cleanup(func() {
				if err := r.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, r)
		})
	}
}

type suite struct {
	open func(t *testing.T) cable.Records
}

var (
	ctx  = context.Background()
	feb  = time.Date(2026, 2, 22, 18, 0, 0, 0, time.UTC)
	utc  = time.UTC
	day  = 24 * time.Hour
	none = cable.Unclassified - 1
)

func date(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, utc) }

// all bounds a list by nothing: TOP SECRET and every caption.
func all(f cable.CableFilter) cable.CableFilter {
	f.MaxClassification = cable.TopSecret
	f.CaptionMask = cable.CaptionMask(cable.AllCaptions())
	return f
}

func ids(ss []*cable.Summary) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// find lists with f and checks the count against the page.
func find(t *testing.T, r cable.Records, f cable.CableFilter) ([]*cable.Summary, int) {
	t.Helper()
	ss, n, err := r.FindCables(ctx, f)
	if err != nil {
		t.Fatalf("FindCables(%+v): %v", f, err)
	}
	if n < len(ss) {
		t.Fatalf("FindCables(%+v): count %d below %d listed", f, n, len(ss))
	}
	return ss, n
}

func wantIDs(t *testing.T, what string, ss []*cable.Summary, n int, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := ids(ss); !slices.Equal(got, want) || n != len(want) {
		t.Fatalf("%s: got %v (count %d), want %v (count %d)", what, got, n, want, len(want))
	}
}

// foreign returns a cable released elsewhere, with its identifier, as it
// arrives over the transport.
func foreign(station string, serial int, dtg time.Time, subject, text string) *cable.Cable {
	c := Cable(station, dtg, subject, text)
	c.Serial = serial
	c.ID = cable.Identifier(dtg.Year(), station, serial)
	return c
}

func arrival(t *testing.T, c *cable.Cable, station string, at time.Time, action string, info ...string) *cable.Arrival {
	t.Helper()
	text, err := Render(c)
	must(t, err)
	return &cable.Arrival{Station: station, Cable: c, Text: text, SHA256: cable.SHA256Hex(text), At: at,
		Distribution: cable.Distribution{Action: action, Info: info}, Origin: cable.OriginReceived}
}

func receive(t *testing.T, r cable.Records, as ...*cable.Arrival) {
	t.Helper()
	if err := r.Receive(ctx, as); err != nil {
		t.Fatalf("Receive: %v", err)
	}
}

func record(t *testing.T, r cable.Records, id string) *cable.Record {
	t.Helper()
	rec, err := r.Cable(ctx, id)
	if err != nil {
		t.Fatalf("Cable(%s): %v", id, err)
	}
	return rec
}

func events(t *testing.T, r cable.Records, f cable.EventFilter) []*cable.Event {
	t.Helper()
	es, err := r.Events(ctx, f)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return es
}

func (s *suite) releaseSerials(t *testing.T, r cable.Records) {
	// One station's serials run 1, 2, 3 through a year, apart from other
	// stations' and from the year before; the year is that of the DTG in
	// UTC.
	m1 := Cable("MOSCOW", feb, "one", "first")
	l1 := Cable("LONDON", feb, "one", "first")
	m2 := Cable("MOSCOW", feb.Add(time.Hour), "two", "second")
	m25 := Cable("MOSCOW", date(2025, 12, 31, 23, 59), "last year", "old")
	// 01:00 on 1 January 2027 in Moscow is still 2026 in UTC.
	m3 := Cable("MOSCOW", time.Date(2027, 1, 1, 1, 0, 0, 0, time.FixedZone("MSK", 3*3600)), "three", "third")
	for _, c := range []*cable.Cable{m1, l1, m2, m25, m3} {
		Release(t, r, c)
	}
	for c, want := range map[*cable.Cable]string{m1: "2026MOSCOW00001", m2: "2026MOSCOW00002", m3: "2026MOSCOW00003",
		l1: "2026LONDON00001", m25: "2025MOSCOW00001"} {
		if c.ID != want {
			t.Errorf("%s released as %s (serial %d), want %s", c.Subject, c.ID, c.Serial, want)
		}
		if rec := record(t, r, want); rec.Cable.Subject != c.Subject || rec.Cable.Serial != c.Serial {
			t.Errorf("Cable(%s) holds %q serial %d", want, rec.Cable.Subject, rec.Cable.Serial)
		}
	}
}

func (s *suite) releaseRecord(t *testing.T, r cable.Records) {
	c := Cable("MOSCOW", feb, "Soviet outlook", "The Kremlin's view of world affairs.")
	c.To = []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}, {Station: "STATE", Role: cable.RoleInfo}}
	c.Captions = []cable.Caption{cable.EXDIS}
	c.Handling = []cable.Handling{cable.NoParaphraseNecessary}
	c.Tags = []string{"PREL", "UR"}
	before := time.Now().Add(-time.Second)
	req := Release(t, r, c)[0]
	rec := req.Record
	if rec == nil {
		t.Fatal("Release set no Record")
	}
	text, _ := Render(c)
	if string(rec.Text) != string(text) || rec.SHA256 != cable.SHA256Hex(text) {
		t.Errorf("Record text %q hash %s, want the rendering %q", rec.Text, rec.SHA256, text)
	}
	if rec.Origin != cable.OriginReleased || rec.StoredAt.Before(before) || rec.StoredAt.After(time.Now().Add(time.Second)) {
		t.Errorf("Record origin %q stored at %v", rec.Origin, rec.StoredAt)
	}
	if rec.Cable.ID != "2026MOSCOW00001" || rec.Cable.Serial != 1 {
		t.Errorf("Record cable %s serial %d", rec.Cable.ID, rec.Cable.Serial)
	}
	if len(rec.Transmissions) != 2 || rec.Transmissions[0].Destination != "STATE" || rec.Transmissions[1].Destination != "LONDON" {
		t.Fatalf("transmissions %+v, want one queued to STATE and one to LONDON", rec.Transmissions)
	}
	for _, ts := range rec.Transmissions {
		if ts.State != cable.TransmissionQueued || ts.QueuedAt.IsZero() || ts.SentAt != nil || ts.ReceivedAt != nil {
			t.Errorf("transmission %+v, want queued", ts)
		}
	}

	got := record(t, r, c.ID)
	wantJSON, _ := json.Marshal(c)
	gotJSON, _ := json.Marshal(got.Cable)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("Cable(%s).Cable =\n%s\nwant\n%s", c.ID, gotJSON, wantJSON)
	}
	if string(got.Text) != string(text) || got.SHA256 != rec.SHA256 || got.Origin != cable.OriginReleased || !got.StoredAt.Equal(rec.StoredAt) {
		t.Errorf("Cable(%s) = text %q hash %s origin %s stored %v; released %v", c.ID, got.Text, got.SHA256, got.Origin, got.StoredAt, rec.StoredAt)
	}
	if !reflect.DeepEqual(got.Transmissions, rec.Transmissions) {
		t.Errorf("Cable(%s).Transmissions = %+v, want %+v", c.ID, got.Transmissions, rec.Transmissions)
	}
	if len(got.Deliveries) != 0 || len(got.AnsweredBy) != 0 {
		t.Errorf("Cable(%s): deliveries %v answered by %v, want none", c.ID, got.Deliveries, got.AnsweredBy)
	}

	es := events(t, r, cable.EventFilter{})
	if len(es) != 1 || es[0].Kind != cable.EventReleased || es[0].CableID != c.ID || es[0].Actor != "drafter" ||
		es[0].Station != "MOSCOW" || es[0].Seq != 1 || es[0].PrevHash != cable.GenesisHash {
		t.Fatalf("events after release: %+v", es)
	}
}

func (s *suite) releaseBatch(t *testing.T, r cable.Records) {
	var cs []*cable.Cable
	for i, st := range []string{"MOSCOW", "LONDON", "MOSCOW", "PARIS", "MOSCOW", "LONDON"} {
		cs = append(cs, Cable(st, feb, fmt.Sprintf("batch %d", i), "text"))
	}
	reqs := Release(t, r, cs...)
	want := []int{1, 1, 2, 1, 3, 2}
	for i, c := range cs {
		if c.Serial != want[i] || reqs[i].Record == nil || reqs[i].Record.Cable.ID != c.ID {
			t.Errorf("batch %d: %s serial %d, want %d", i, c.ID, c.Serial, want[i])
		}
	}
	if es := events(t, r, cable.EventFilter{Kind: cable.EventReleased}); len(es) != len(cs) {
		t.Errorf("%d released events, want %d", len(es), len(cs))
	}
	_, n := find(t, r, all(cable.CableFilter{}))
	if n != len(cs) {
		t.Errorf("%d cables held, want %d", n, len(cs))
	}
}

func (s *suite) releaseConcurrent(t *testing.T, r cable.Records) {
	ReleaseConcurrently(t, []cable.Records{r}, 8, 40)
}

func (s *suite) releaseRenderError(t *testing.T, r cable.Records) {
	Release(t, r, Cable("MOSCOW", feb, "kept", "text"))
	ok := Cable("MOSCOW", feb, "would be second", "text")
	bad := Cable("MOSCOW", feb, "cannot render", "text")
	boom := errors.New("render failed")
	reqs := []*cable.ReleaseRequest{
		{Cable: ok, Render: Render, Actor: "drafter"},
		{Cable: bad, Render: func(*cable.Cable) ([]byte, error) { return nil, boom }, Actor: "drafter"},
	}
	err := r.Release(ctx, reqs)
	if !errors.Is(err, boom) {
		t.Fatalf("Release with a failing Render: %v, want it to carry the render error", err)
	}
	if ok.Serial != 0 || ok.ID != "" || bad.Serial != 0 || bad.ID != "" || reqs[0].Record != nil {
		t.Errorf("after a failed release the cables hold serials %d, %d (ids %q, %q) and record %v", ok.Serial, bad.Serial, ok.ID, bad.ID, reqs[0].Record)
	}
	_, err = r.Cable(ctx, "2026MOSCOW00002")
	wantCode(t, err, cable.ENOTFOUND)
	if es := events(t, r, cable.EventFilter{}); len(es) != 1 {
		t.Errorf("%d events after the failed release, want 1", len(es))
	}
	if ps, err := r.PendingTransmissions(ctx, 0); err != nil || len(ps) != 1 {
		t.Errorf("PendingTransmissions: %d, %v; want the one of the first release", len(ps), err)
	}
	// No serial was consumed.
	next := Cable("MOSCOW", feb, "second", "text")
	Release(t, r, next)
	if next.Serial != 2 {
		t.Errorf("release after the failed one got serial %d, want 2", next.Serial)
	}
}

func (s *suite) releaseInvalid(t *testing.T, r cable.Records) {
	noRender := Cable("MOSCOW", feb, "x", "x")
	badStation := Cable("moscow", feb, "x", "x")
	noDTG := Cable("MOSCOW", time.Time{}, "x", "x")
	err := r.Release(ctx, []*cable.ReleaseRequest{
		{Cable: nil, Render: Render},
		{Cable: noRender},
		{Cable: badStation, Render: Render},
		{Cable: noDTG, Render: Render},
	})
	wantCode(t, err, cable.EINVALID)
	ps := cable.ErrorProblems(err)
	for _, want := range []string{"reqs[0]", "reqs[1]", "reqs[2]", "reqs[3]"} {
		found := false
		for _, p := range ps {
			found = found || strings.HasPrefix(p.Field, want)
		}
		if !found {
			t.Errorf("problems %v name nothing of %s", ps, want)
		}
	}
	if _, n := find(t, r, all(cable.CableFilter{})); n != 0 {
		t.Errorf("%d cables held after an invalid release", n)
	}
}

func (s *suite) receiveOnce(t *testing.T, r cable.Records) {
	c := foreign("LONDON", 7, feb, "Views of the Foreign Office", "The Foreign Office takes a grave view.")
	at := feb.Add(3*time.Hour + 52*time.Minute + 123456789*time.Nanosecond)
	a := arrival(t, c, "STATE", at, "EUR", "S", "SPA")
	receive(t, r, a)
	want := cable.Receipt{Station: "STATE", At: at.Truncate(time.Microsecond), ControlNumber: "1"}
	if a.Duplicate || !reflect.DeepEqual(a.Receipt, want) {
		t.Fatalf("first arrival: duplicate %v receipt %+v, want %+v", a.Duplicate, a.Receipt, want)
	}
	rec := record(t, r, c.ID)
	if rec.Origin != cable.OriginReceived || string(rec.Text) != string(a.Text) || rec.SHA256 != a.SHA256 {
		t.Errorf("received record: origin %s, text %q", rec.Origin, rec.Text)
	}
	wantDelivery := []cable.Delivery{{Station: "STATE", Receipt: want, Distribution: cable.Distribution{Action: "EUR", Info: []string{"S", "SPA"}}}}
	if !reflect.DeepEqual(rec.Deliveries, wantDelivery) {
		t.Errorf("deliveries %+v, want %+v", rec.Deliveries, wantDelivery)
	}
	if len(rec.Transmissions) != 0 {
		t.Errorf("a received cable has transmissions from this node: %+v", rec.Transmissions)
	}

	// The same cable again, redelivered later: stored once.
	again := arrival(t, c.Clone(), "STATE", at.Add(time.Hour), "NEA")
	receive(t, r, again)
	if !again.Duplicate || !reflect.DeepEqual(again.Receipt, want) {
		t.Fatalf("second arrival: duplicate %v receipt %+v, want the held %+v", again.Duplicate, again.Receipt, want)
	}
	if rec := record(t, r, c.ID); !reflect.DeepEqual(rec.Deliveries, wantDelivery) {
		t.Errorf("deliveries after the duplicate: %+v", rec.Deliveries)
	}
	for _, kind := range []string{cable.EventReceived, cable.EventDistributed} {
		if es := events(t, r, cable.EventFilter{CableID: c.ID, Kind: kind}); len(es) != 1 || es[0].Station != "STATE" {
			t.Errorf("%d %s events for %s, want 1 at STATE", len(es), kind, c.ID)
		}
	}
	if _, n := find(t, r, all(cable.CableFilter{Station: "STATE", Office: "NEA"})); n != 0 {
		t.Errorf("the duplicate's distribution reached NEA")
	}
	if _, n := find(t, r, all(cable.CableFilter{Station: "STATE", Office: "EUR"})); n != 1 {
		t.Errorf("EUR inbox holds %d, want 1", n)
	}

	// Another station of this node receives it too: one more delivery,
	// the text still stored once.
	b := arrival(t, c.Clone(), "WAR", at.Add(-time.Hour), "G2")
	receive(t, r, b)
	if b.Duplicate || b.Receipt.ControlNumber != "1" {
		t.Errorf("arrival at WAR: duplicate %v control number %q", b.Duplicate, b.Receipt.ControlNumber)
	}
	rec = record(t, r, c.ID)
	if len(rec.Deliveries) != 2 || rec.Deliveries[0].Station != "STATE" || rec.Deliveries[1].Station != "WAR" {
		t.Errorf("deliveries %+v, want STATE then WAR", rec.Deliveries)
	}
	if _, n := find(t, r, all(cable.CableFilter{})); n != 1 {
		t.Errorf("%d cables held, want 1", n)
	}
}

func (s *suite) receiveControlNumbers(t *testing.T, r cable.Records) {
	at := date(2026, 3, 1, 10, 0)
	var cs []*cable.Cable
	for i := range 6 {
		cs = append(cs, foreign("MOSCOW", i+1, feb, fmt.Sprintf("cable %d", i), "text"))
	}
	a0, a1 := arrival(t, cs[0], "STATE", at, "EUR"), arrival(t, cs[1], "STATE", at.Add(time.Minute), "EUR")
	receive(t, r, a0, a1)
	a2 := arrival(t, cs[2], "STATE", at.Add(2*time.Minute), "EUR")
	receive(t, r, a2)
	l0 := arrival(t, cs[2], "LONDON", at, "EUR")
	receive(t, r, l0)
	next := arrival(t, cs[3], "STATE", date(2027, 1, 1, 0, 0), "EUR")
	receive(t, r, next)
	dup := arrival(t, cs[0], "STATE", at.Add(time.Hour), "EUR")
	receive(t, r, dup)
	a3 := arrival(t, cs[4], "STATE", at.Add(3*time.Minute), "EUR")
	receive(t, r, a3)
	for a, want := range map[*cable.Arrival]string{a0: "1", a1: "2", a2: "3", l0: "1", next: "1", dup: "1", a3: "4"} {
		if a.Receipt.ControlNumber != want {
			t.Errorf("%s at %s %v: control number %q, want %q", a.Cable.ID, a.Station, a.At, a.Receipt.ControlNumber, want)
		}
	}
}

func (s *suite) receiveConflict(t *testing.T, r cable.Records) {
	c := foreign("MOSCOW", 511, feb, "Long telegram", "Answer to Dept's 284.")
	receive(t, r, arrival(t, c, "STATE", feb.Add(time.Hour), "EUR"))
	forged := c.Clone()
	forged.Paragraphs[0].Text = "Something else entirely."
	other := foreign("MOSCOW", 512, feb, "Second", "text")
	first := arrival(t, other, "STATE", feb.Add(2*time.Hour), "EUR")
	bad := arrival(t, forged, "WAR", feb.Add(2*time.Hour), "G2")
	err := r.Receive(ctx, []*cable.Arrival{first, bad})
	wantCode(t, err, cable.ECONFLICT)
	// The batch wrote nothing.
	_, err = r.Cable(ctx, other.ID)
	wantCode(t, err, cable.ENOTFOUND)
	rec := record(t, r, c.ID)
	if len(rec.Deliveries) != 1 || cable.SHA256Hex(rec.Text) != rec.SHA256 {
		t.Errorf("after the conflict: %d deliveries", len(rec.Deliveries))
	}
	// A redelivery at a station that already holds a receipt is a
	// conflict too when the text differs.
	err = r.Receive(ctx, []*cable.Arrival{arrival(t, forged, "STATE", feb.Add(3*time.Hour), "EUR")})
	wantCode(t, err, cable.ECONFLICT)
	again := arrival(t, other, "STATE", feb.Add(2*time.Hour), "EUR")
	receive(t, r, again)
	if again.Receipt.ControlNumber != "2" {
		t.Errorf("control number after the failed batch %q, want 2", again.Receipt.ControlNumber)
	}
	if es := events(t, r, cable.EventFilter{Kind: cable.EventReceived}); len(es) != 2 {
		t.Errorf("%d received events, want 2", len(es))
	}
}

// receiveTwiceInOneBatch: a transport may hand over the same cable twice
// in one batch (a copy forwarded again after a crash), and a cable for two
// stations of the node arrives at both at once.
func (s *suite) receiveTwiceInOneBatch(t *testing.T, r cable.Records) {
	at := date(2026, 3, 2, 9, 0)
	c := foreign("MOSCOW", 21, feb, "Twice", "The same cable, twice in one batch.")
	other := foreign("MOSCOW", 22, feb, "Once", "Another cable between the copies.")
	a := arrival(t, c, "STATE", at, "EUR", "S")
	o := arrival(t, other, "STATE", at, "EUR")
	copyA := arrival(t, c.Clone(), "STATE", at.Add(time.Second), "NEA")
	atWar := arrival(t, c.Clone(), "WAR", at, "G2")
	receive(t, r, a, o, copyA, atWar)
	if a.Duplicate || o.Duplicate || atWar.Duplicate {
		t.Errorf("first copies marked duplicate: %v %v %v", a.Duplicate, o.Duplicate, atWar.Duplicate)
	}
	if !copyA.Duplicate || copyA.Receipt != a.Receipt {
		t.Errorf("second copy: duplicate %v receipt %+v, want the first's %+v", copyA.Duplicate, copyA.Receipt, a.Receipt)
	}
	if a.Receipt.ControlNumber != "1" || o.Receipt.ControlNumber != "2" || atWar.Receipt.ControlNumber != "1" {
		t.Errorf("control numbers %q %q at STATE, %q at WAR; want 1, 2 and 1",
			a.Receipt.ControlNumber, o.Receipt.ControlNumber, atWar.Receipt.ControlNumber)
	}
	rec := record(t, r, c.ID)
	if len(rec.Deliveries) != 2 || rec.Deliveries[0].Distribution.Action != "EUR" {
		t.Errorf("deliveries %+v, want STATE (EUR) and WAR", rec.Deliveries)
	}
	if es := events(t, r, cable.EventFilter{CableID: c.ID, Kind: cable.EventReceived}); len(es) != 2 {
		t.Errorf("%d received events for %s, want 2 (STATE and WAR)", len(es), c.ID)
	}
	if hits, n := find(t, r, all(cable.CableFilter{Query: "batch"})); n != 1 || hits[0].ID != c.ID {
		t.Errorf("search finds %d cables for a word of %s, want it once", n, c.ID)
	}
	// Two copies with different texts in one batch: nothing is written.
	forged := c.Clone()
	forged.Serial, forged.ID = 23, cable.Identifier(feb.Year(), "MOSCOW", 23)
	altered := forged.Clone()
	altered.Paragraphs[0].Text = "Something else."
	err := r.Receive(ctx, []*cable.Arrival{arrival(t, forged, "STATE", at, "EUR"), arrival(t, altered, "WAR", at, "G2")})
	wantCode(t, err, cable.ECONFLICT)
	_, err = r.Cable(ctx, forged.ID)
	wantCode(t, err, cable.ENOTFOUND)
}

func (s *suite) receiveOwnRelease(t *testing.T, r cable.Records) {
	c := Cable("MOSCOW", feb, "Both stations here", "text")
	c.To = append(c.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo})
	rec := Release(t, r, c)[0].Record
	at := feb.Add(time.Hour)
	a := &cable.Arrival{Station: "STATE", Cable: rec.Cable.Clone(), Text: rec.Text, SHA256: rec.SHA256, At: at,
		Distribution: cable.Distribution{Action: "EUR"}, Origin: cable.OriginReceived}
	receive(t, r, a)
	got := record(t, r, c.ID)
	if got.Origin != cable.OriginReleased {
		t.Errorf("origin %s after receipt at a station of the same node, want released", got.Origin)
	}
	if len(got.Transmissions) != 2 {
		t.Fatalf("transmissions %+v", got.Transmissions)
	}
	st, lo := got.Transmissions[0], got.Transmissions[1]
	if st.Destination != "STATE" || st.State != cable.TransmissionReceived || st.ReceivedAt == nil || !st.ReceivedAt.Equal(at) {
		t.Errorf("transmission to STATE %+v, want received at %v", st, at)
	}
	if lo.Destination != "LONDON" || lo.State != cable.TransmissionQueued || lo.ReceivedAt != nil {
		t.Errorf("transmission to LONDON %+v, want queued", lo)
	}
	if d := got.DeliveryFor("STATE"); d == nil || d.Receipt.ControlNumber != "1" {
		t.Errorf("delivery at STATE %+v", d)
	}
	if ps, err := r.PendingTransmissions(ctx, 10); err != nil || len(ps) != 1 || ps[0].Destination != "LONDON" {
		t.Errorf("pending after receipt: %v, %v", ps, err)
	}
}

// A text is kept byte for byte, whatever its bytes, and the cable's
// paragraphs come back whole, whether the text holds them or not: a store
// may keep each only once.
func (s *suite) receiveTextByteForByte(t *testing.T, r cable.Records) {
	plain := foreign("LONDON", 1, feb, "Plain", "Wheat is short this winter.")
	plain.Paragraphs = append(plain.Paragraphs, cable.Paragraph{Number: 2, Classification: cable.Confidential, Text: "Wheat is short this winter."})
	a := arrival(t, plain, "STATE", feb, "EUR")
	// A text that is not UTF-8 and holds a NUL, as an old teleprinter
	// tape or another system may send, whose paragraphs it does not hold
	// word for word.
	odd := foreign("LONDON", 2, feb, "Odd bytes", "Barley is plentiful.")
	odd.Paragraphs = append(odd.Paragraphs, cable.Paragraph{Number: 2, Classification: cable.Confidential, Text: "Oats are short."})
	b := arrival(t, odd, "STATE", feb, "EUR")
	// The first paragraph is not in the text as it was written; the
	// second is, after bytes that are not UTF-8.
	b.Text = bytes.Replace(b.Text, []byte("Barley is plentiful."), []byte("Barley \xe9t\xe9 is plentiful."), 1)
	b.Text = append(b.Text, "\xff\x00 BARLEY\n"...)
	b.SHA256 = cable.SHA256Hex(b.Text)
	receive(t, r, a, b)
	for _, x := range []*cable.Arrival{a, b} {
		rec := record(t, r, x.Cable.ID)
		if !bytes.Equal(rec.Text, x.Text) || rec.SHA256 != x.SHA256 {
			t.Errorf("%s: text %q (%s), want %q (%s)", x.Cable.ID, rec.Text, rec.SHA256, x.Text, x.SHA256)
		}
		if !reflect.DeepEqual(rec.Cable.Paragraphs, x.Cable.Paragraphs) {
			t.Errorf("%s: paragraphs %+v, want %+v", x.Cable.ID, rec.Cable.Paragraphs, x.Cable.Paragraphs)
		}
	}
	if hits, n := find(t, r, all(cable.CableFilter{Query: "barley"})); n != 1 || hits[0].ID != odd.ID {
		t.Errorf("search for a word of the odd text: %d hits %v", n, ids(hits))
	}
	rep, err := r.Verify(ctx)
	must(t, err)
	if rep.Cables != 2 || len(rep.Problems) != 0 {
		t.Errorf("Verify: %+v", rep)
	}
}

func (s *suite) receiveInvalid(t *testing.T, r cable.Records) {
	c := foreign("MOSCOW", 1, feb, "x", "x")
	badHash := arrival(t, c, "STATE", feb, "EUR")
	badHash.SHA256 = cable.SHA256Hex([]byte("other"))
	noStation := arrival(t, c, "", feb, "EUR")
	noTime := arrival(t, c, "STATE", time.Time{}, "EUR")
	wrongID := arrival(t, c.Clone(), "STATE", feb, "EUR")
	wrongID.Cable.ID = "2026MOSCOW00002"
	noCable := &cable.Arrival{Station: "STATE", Text: []byte("x"), At: feb}
	err := r.Receive(ctx, []*cable.Arrival{badHash, noStation, noTime, wrongID, noCable})
	wantCode(t, err, cable.EINVALID)
	ps := cable.ErrorProblems(err)
	for i := range 5 {
		want := fmt.Sprintf("arrivals[%d]", i)
		found := false
		for _, p := range ps {
			found = found || strings.HasPrefix(p.Field, want)
		}
		if !found {
			t.Errorf("problems %v name nothing of %s", ps, want)
		}
	}
	if _, n := find(t, r, all(cable.CableFilter{})); n != 0 {
		t.Errorf("%d cables held after invalid arrivals", n)
	}
}

func (s *suite) cableNotFound(t *testing.T, r cable.Records) {
	for _, id := range []string{"2026MOSCOW00001", "", "not an id"} {
		rec, err := r.Cable(ctx, id)
		wantCode(t, err, cable.ENOTFOUND)
		if rec != nil {
			t.Errorf("Cable(%q) returned a record with its error", id)
		}
	}
}

func (s *suite) findBounds(t *testing.T, r cable.Records) {
	mk := func(subject, word string, cl cable.Classification, caps ...cable.Caption) *cable.Cable {
		c := Cable("MOSCOW", feb, subject, "Paragraph about "+word+" and the harvest.")
		c.Classification, c.Paragraphs[0].Classification, c.Captions = cl, cl, caps
		return c
	}
	u := mk("Harvest report", "wheat", cable.Unclassified)
	c := mk("Grain exports", "barley", cable.Confidential)
	sec := mk("Troop movements", "artillery", cable.Secret)
	nodis := mk("Succession rumours", "politburo", cable.Confidential, cable.NODIS)
	exdis := mk("Trade talks", "tractors", cable.Confidential, cable.EXDIS)
	for _, x := range []*cable.Cable{u, c, sec, nodis, exdis} {
		rec := Release(t, r, x)[0].Record
		receive(t, r, &cable.Arrival{Station: "STATE", Cable: rec.Cable, Text: rec.Text, SHA256: rec.SHA256, At: feb.Add(time.Hour),
			Distribution: cable.Distribution{Action: "EUR"}})
	}
	// Cleared to CONFIDENTIAL, holding EXDIS but not NODIS.
	reader := cable.CableFilter{MaxClassification: cable.Confidential, CaptionMask: cable.CaptionMask([]cable.Caption{cable.EXDIS})}
	lists := map[string]cable.CableFilter{
		"inbox":  {Station: "STATE", Office: "EUR"},
		"sent":   {Station: "MOSCOW", Sent: true},
		"scope":  {Station: "STATE", Offices: []string{"EUR"}},
		"all":    {},
		"search": {Query: "harvest"},
	}
	for name, f := range lists {
		f.MaxClassification, f.CaptionMask = reader.MaxClassification, reader.CaptionMask
		ss, n := find(t, r, f)
		got := ids(ss)
		slices.Sort(got)
		want := []string{u.ID, c.ID, exdis.ID}
		slices.Sort(want)
		if !slices.Equal(got, want) || n != 3 {
			t.Errorf("%s list for a reader without SECRET and NODIS: %v (count %d), want %v", name, got, n, want)
		}
		f = all(f)
		if _, n := find(t, r, f); n != 5 {
			t.Errorf("%s list for a reader cleared for all: count %d, want 5", name, n)
		}
	}
	for _, word := range []string{"artillery", "politburo", "troop", "succession"} {
		f := reader
		f.Query = word
		ss, n := find(t, r, f)
		wantIDs(t, "search "+word+" beyond the reader's bounds", ss, n)
		f = all(f)
		if _, n := find(t, r, f); n != 1 {
			t.Errorf("search %s for a reader cleared for all: count %d, want 1", word, n)
		}
	}
	// No captions held: EXDIS is out too; UNCLASSIFIED only: one left.
	ss, n := find(t, r, cable.CableFilter{MaxClassification: cable.Unclassified})
	wantIDs(t, "unclassified reader", ss, n, u.ID)
}

func (s *suite) findInbox(t *testing.T, r cable.Records) {
	c1 := foreign("MOSCOW", 1, feb, "one", "text")
	c2 := foreign("MOSCOW", 2, feb, "two", "text")
	c3 := foreign("LONDON", 1, feb, "three", "text")
	at := feb.Add(time.Hour)
	receive(t, r, arrival(t, c1, "STATE", at, "EUR", "S"))
	receive(t, r, arrival(t, c2, "STATE", at.Add(time.Minute), "S", "EUR", "DC/R"))
	receive(t, r, arrival(t, c3, "STATE", at.Add(-time.Minute), "NEA"))
	receive(t, r, arrival(t, c3, "WAR", at, "EUR"))

	ss, n := find(t, r, all(cable.CableFilter{Station: "STATE", Office: "EUR"}))
	wantIDs(t, "EUR inbox, newest receipt first", ss, n, c2.ID, c1.ID)
	if ss[0].Role != cable.RoleInfo || ss[1].Role != cable.RoleAction {
		t.Errorf("EUR roles %q, %q; want info, action", ss[0].Role, ss[1].Role)
	}
	s0 := ss[0]
	if s0.Received == nil || s0.Received.ControlNumber != "2" || !s0.Received.At.Equal(at.Add(time.Minute)) || s0.Received.Station != "STATE" {
		t.Errorf("EUR inbox receipt %+v", s0.Received)
	}
	if s0.Distribution == nil || s0.Distribution.Action != "S" || !slices.Equal(s0.Distribution.Info, []string{"EUR", "DC/R"}) {
		t.Errorf("EUR inbox distribution %+v", s0.Distribution)
	}
	if s0.Station != "MOSCOW" || s0.Serial != 2 || !s0.DTG.Equal(feb) || s0.Subject != "two" || s0.Precedence != cable.Routine ||
		s0.Classification != cable.Confidential || !slices.Equal(s0.Tags, []string{"PREL"}) {
		t.Errorf("summary %+v", s0)
	}
	ss, n = find(t, r, all(cable.CableFilter{Station: "STATE", Office: "DC/R"}))
	wantIDs(t, "DC/R inbox", ss, n, c2.ID)
	ss, n = find(t, r, all(cable.CableFilter{Station: "STATE", Office: "NEA"}))
	wantIDs(t, "NEA inbox", ss, n, c3.ID)
	ss, n = find(t, r, all(cable.CableFilter{Station: "WAR", Office: "EUR"}))
	wantIDs(t, "WAR's EUR inbox", ss, n, c3.ID)
	ss, n = find(t, r, all(cable.CableFilter{Station: "LONDON", Office: "EUR"}))
	wantIDs(t, "LONDON's EUR inbox", ss, n)

	// A search scope of several offices: a cable is listed once, with the
	// best role held.
	ss, n = find(t, r, all(cable.CableFilter{Station: "STATE", Offices: []string{"EUR", "S"}}))
	got := ids(ss)
	slices.Sort(got)
	if !slices.Equal(got, []string{c1.ID, c2.ID}) || n != 2 {
		t.Errorf("scope EUR+S: %v (count %d)", got, n)
	}
	for _, s := range ss {
		if s.Role != cable.RoleAction {
			t.Errorf("scope EUR+S: %s role %q, want action", s.ID, s.Role)
		}
	}
	// Offset and Limit page through the inbox; the count is of all.
	ss, n = find(t, r, all(cable.CableFilter{Station: "STATE", Office: "EUR", Offset: 1, Limit: 1}))
	if len(ss) != 1 || ss[0].ID != c1.ID || n != 2 {
		t.Errorf("EUR inbox page 2: %v count %d", ids(ss), n)
	}
}

func (s *suite) findSent(t *testing.T, r cable.Records) {
	x := Cable("MOSCOW", feb, "first", "text")
	x.To = []cable.Addressee{{Station: "STATE", Role: cable.RoleAction}, {Station: "LONDON", Role: cable.RoleInfo}}
	y := Cable("MOSCOW", feb.Add(time.Hour), "second", "text")
	z := Cable("LONDON", feb, "other station", "text")
	Release(t, r, x, y, z)
	ss, n := find(t, r, all(cable.CableFilter{Station: "MOSCOW", Sent: true}))
	wantIDs(t, "MOSCOW sent, newest DTG first", ss, n, y.ID, x.ID)
	if ts := ss[1].Transmissions; len(ts) != 2 || ts[0].State != cable.TransmissionQueued || ts[1].State != cable.TransmissionQueued {
		t.Fatalf("transmissions of %s: %+v", x.ID, ts)
	}
	ps, err := r.PendingTransmissions(ctx, 0)
	must(t, err)
	var toState *cable.Transmission
	for _, p := range ps {
		if p.CableID == x.ID && p.Destination == "STATE" {
			toState = p
		}
	}
	if toState == nil {
		t.Fatalf("no pending transmission of %s to STATE in %v", x.ID, ps)
	}
	sentAt := feb.Add(5 * time.Minute)
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{toState}, sentAt, nil))
	rec := record(t, r, x.ID)
	receive(t, r, &cable.Arrival{Station: "STATE", Cable: rec.Cable, Text: rec.Text, SHA256: rec.SHA256, At: feb.Add(time.Hour), Distribution: cable.Distribution{Action: "EUR"}})
	ss, _ = find(t, r, all(cable.CableFilter{Station: "MOSCOW", Sent: true}))
	ts := ss[1].Transmissions
	if ts[0].Destination != "STATE" || ts[0].State != cable.TransmissionReceived || ts[0].SentAt == nil || !ts[0].SentAt.Equal(sentAt) || ts[0].ReceivedAt == nil {
		t.Errorf("transmission to STATE: %+v, want received after sent at %v", ts[0], sentAt)
	}
	if ts[1].Destination != "LONDON" || ts[1].State != cable.TransmissionQueued {
		t.Errorf("transmission to LONDON: %+v, want queued", ts[1])
	}
	if ss[1].Received != nil || ss[1].Role != "" {
		t.Errorf("a sent list shows receipt %+v role %q", ss[1].Received, ss[1].Role)
	}
	ss, n = find(t, r, all(cable.CableFilter{Station: "LONDON", Sent: true}))
	wantIDs(t, "LONDON sent", ss, n, z.ID)
	ss, n = find(t, r, all(cable.CableFilter{Station: "PARIS", Sent: true}))
	wantIDs(t, "PARIS sent", ss, n)
}

func (s *suite) findSearch(t *testing.T, r cable.Records) {
	a := Cable("MOSCOW", feb, "Soviet foreign policy", "The Kremlin's neurotic view of world affairs is at the bottom of it.")
	b := Cable("MOSCOW", feb.Add(time.Hour), "Grain harvest", "Estimates of the wheat harvest in the Ukraine.")
	c := Cable("LONDON", feb, "Wheat purchases", "The Ministry of Food buys grain.")
	Release(t, r, a, b, c)

	ss, n := find(t, r, all(cable.CableFilter{Query: "neurotic"}))
	wantIDs(t, "search a word of the text", ss, n, a.ID)
	if !strings.Contains(strings.ToLower(ss[0].Snippet), "neurotic") {
		t.Errorf("snippet %q does not show the word", ss[0].Snippet)
	}
	if ss[0].Subject != a.Subject {
		t.Errorf("hit %+v", ss[0])
	}
	ss, n = find(t, r, all(cable.CableFilter{Query: "policy"}))
	wantIDs(t, "search a word of the subject", ss, n, a.ID)
	ss, n = find(t, r, all(cable.CableFilter{Query: "KREMLIN neurotic"}))
	wantIDs(t, "search two words, any case", ss, n, a.ID)
	ss, n = find(t, r, all(cable.CableFilter{Query: "neurotic wheat"}))
	wantIDs(t, "search words of two cables", ss, n)
	ss, n = find(t, r, all(cable.CableFilter{Query: "xyzzy"}))
	wantIDs(t, "search a word in no cable", ss, n)
	// The subject weighs more than the text.
	ss, n = find(t, r, all(cable.CableFilter{Query: "wheat"}))
	wantIDs(t, "search wheat, subject hit first", ss, n, c.ID, b.ID)
	// Narrowed to a list: MOSCOW's sent cables only.
	ss, n = find(t, r, all(cable.CableFilter{Query: "wheat", Station: "MOSCOW", Sent: true}))
	wantIDs(t, "search MOSCOW's sent cables", ss, n, b.ID)
	// Whatever a person types is no error.
	for _, q := range []string{`"unbalanced`, `(a OR`, `NEAR(x y)`, `*`, `-wheat`, `col:wheat`, `'; DROP TABLE cables; --`, `wheat AND`, "\x00", `««»»`} {
		if _, _, err := r.FindCables(ctx, all(cable.CableFilter{Query: q})); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
}

func (s *suite) findFilters(t *testing.T, r cable.Records) {
	a := Cable("MOSCOW", feb, "flash", "text")
	a.Precedence = cable.Flash
	b := Cable("MOSCOW", feb.Add(time.Minute), "secret", "text")
	b.Classification, b.Tags = cable.Secret, []string{"PGOV", "UR"}
	c := Cable("MOSCOW", feb.Add(2*time.Minute), "plain", "text")
	Release(t, r, a, b, c)
	ss, n := find(t, r, all(cable.CableFilter{Precedence: cable.Flash}))
	wantIDs(t, "precedence FLASH", ss, n, a.ID)
	ss, n = find(t, r, all(cable.CableFilter{Classification: cable.Secret}))
	wantIDs(t, "classification SECRET", ss, n, b.ID)
	ss, n = find(t, r, all(cable.CableFilter{Tag: "ur"}))
	wantIDs(t, "tag UR", ss, n, b.ID)
	ss, n = find(t, r, all(cable.CableFilter{Tag: "PREL"}))
	wantIDs(t, "tag PREL", ss, n, c.ID, a.ID)
	ss, n = find(t, r, all(cable.CableFilter{Limit: 2}))
	if len(ss) != 2 || n != 3 || ss[0].ID != c.ID {
		t.Errorf("limit 2: %v count %d", ids(ss), n)
	}
	ss, n = find(t, r, all(cable.CableFilter{Offset: 5}))
	if len(ss) != 0 || n != 3 {
		t.Errorf("offset past the end: %v count %d", ids(ss), n)
	}
	for name, f := range map[string]cable.CableFilter{
		"no clearance":    {MaxClassification: none},
		"negative limit":  all(cable.CableFilter{Limit: -1}),
		"negative offset": all(cable.CableFilter{Offset: -1}),
		"inbox and sent":  all(cable.CableFilter{Station: "STATE", Office: "EUR", Sent: true}),
		"office alone":    all(cable.CableFilter{Office: "EUR"}),
	} {
		_, _, err := r.FindCables(ctx, f)
		if cable.ErrorCode(err) != cable.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func (s *suite) references(t *testing.T, r cable.Records) {
	a := Cable("MOSCOW", date(2026, 2, 3, 9, 0), "first", "text")
	a2 := Cable("MOSCOW", date(2026, 2, 4, 9, 0), "second", "text")
	Release(t, r, a, a2)
	b := Cable("STATE", date(2026, 2, 10, 9, 0), "answer", "text")
	b.References = []cable.Reference{{Text: "MOSCOW 1"}, {Text: "LONDON 99"}, {Text: "1946MOSCOW00511"}, {Text: "not a reference"}}
	rb := Release(t, r, b)[0].Record
	wantRefs := []string{a.ID, "", "", ""}
	for i, ref := range rb.Cable.References {
		if ref.ID != wantRefs[i] {
			t.Errorf("released record: reference %q resolved to %q, want %q", ref.Text, ref.ID, wantRefs[i])
		}
	}
	got := record(t, r, b.ID)
	for i, ref := range got.Cable.References {
		if ref.Text != b.References[i].Text || ref.ID != wantRefs[i] {
			t.Errorf("reference %q resolved to %q, want %q", ref.Text, ref.ID, wantRefs[i])
		}
	}
	if ab := record(t, r, a.ID).AnsweredBy; !slices.Equal(ab, []string{b.ID}) {
		t.Errorf("%s answered by %v, want %v", a.ID, ab, []string{b.ID})
	}

	// A reference without a year resolves to the referring cable's year,
	// or the year before when that is not held; the first held wins.
	c := Cable("MOSCOW", date(2027, 1, 5, 9, 0), "new year", "text")
	c.References = []cable.Reference{{Text: "MOSCOW 2"}}
	Release(t, r, c)
	if ref := record(t, r, c.ID).Cable.References[0]; ref.ID != a2.ID {
		t.Errorf("MOSCOW 2 from 2027 resolved to %q, want %s", ref.ID, a2.ID)
	}
	if ab := record(t, r, a2.ID).AnsweredBy; !slices.Equal(ab, []string{c.ID}) {
		t.Errorf("%s answered by %v", a2.ID, ab)
	}
	d := Cable("MOSCOW", date(2027, 1, 6, 9, 0), "second of the new year", "text")
	Release(t, r, d)
	if ref := record(t, r, c.ID).Cable.References[0]; ref.ID != d.ID {
		t.Errorf("MOSCOW 2 from 2027 resolved to %q once %s is held, want it", ref.ID, d.ID)
	}
	if ab := record(t, r, a2.ID).AnsweredBy; len(ab) != 0 {
		t.Errorf("%s still answered by %v", a2.ID, ab)
	}
	if ab := record(t, r, d.ID).AnsweredBy; !slices.Equal(ab, []string{c.ID}) {
		t.Errorf("%s answered by %v", d.ID, ab)
	}
	// A received cable's references resolve as well.
	e := foreign("LONDON", 3, date(2026, 3, 1, 0, 0), "reply", "text")
	e.References = []cable.Reference{{Text: "26 STATE 1"}}
	receive(t, r, arrival(t, e, "MOSCOW", date(2026, 3, 1, 1, 0), "POL"))
	if ref := record(t, r, e.ID).Cable.References[0]; ref.ID != b.ID {
		t.Errorf("received reference resolved to %q, want %s", ref.ID, b.ID)
	}
	if ab := record(t, r, b.ID).AnsweredBy; !slices.Equal(ab, []string{e.ID}) {
		t.Errorf("%s answered by %v", b.ID, ab)
	}
}

func (s *suite) transmissions(t *testing.T, r cable.Records) {
	mk := func(p cable.Precedence, subject string) *cable.Cable {
		c := Cable("MOSCOW", feb, subject, "text")
		c.Precedence = p
		return c
	}
	r1 := mk(cable.Routine, "routine 1")
	f1 := mk(cable.Flash, "flash")
	p1 := mk(cable.Priority, "priority")
	r2 := mk(cable.Routine, "routine 2")
	for _, c := range []*cable.Cable{r1, f1, p1, r2} {
		Release(t, r, c)
		time.Sleep(2 * time.Millisecond) // distinct queue times
	}
	ps, err := r.PendingTransmissions(ctx, 0)
	must(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, p.CableID)
	}
	if want := []string{f1.ID, p1.ID, r1.ID, r2.ID}; !slices.Equal(got, want) {
		t.Fatalf("pending %v, want most urgent then oldest %v", got, want)
	}
	p := ps[0]
	rec := record(t, r, f1.ID)
	if p.Origin != "MOSCOW" || p.Destination != "STATE" || p.Precedence != cable.Flash || string(p.Text) != string(rec.Text) ||
		p.SHA256 != rec.SHA256 || !p.QueuedAt.Equal(rec.Transmissions[0].QueuedAt) {
		t.Errorf("pending transmission %+v", p)
	}
	if ps, _ := r.PendingTransmissions(ctx, 2); len(ps) != 2 || ps[1].CableID != p1.ID {
		t.Errorf("pending, limit 2: %v", ps)
	}
	at := feb.Add(time.Hour)
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{ps[0], ps[1]}, at, nil))
	ts := record(t, r, f1.ID).Transmissions[0]
	if ts.State != cable.TransmissionSent || ts.SentAt == nil || !ts.SentAt.Equal(at) {
		t.Errorf("after MarkTransmitted: %+v", ts)
	}
	left, err := r.PendingTransmissions(ctx, 0)
	must(t, err)
	if len(left) != 2 || left[0].CableID != r1.ID {
		t.Errorf("pending after two were sent: %v", left)
	}
	// Marking again changes nothing; an unknown transmission is not found.
	must(t, r.MarkTransmitted(ctx, []*cable.Transmission{ps[0]}, at.Add(time.Hour), nil))
	if ts := record(t, r, f1.ID).Transmissions[0]; !ts.SentAt.Equal(at) {
		t.Errorf("sent at moved to %v", ts.SentAt)
	}
	err = r.MarkTransmitted(ctx, []*cable.Transmission{left[0], {CableID: f1.ID, Destination: "PARIS"}}, at, nil)
	wantCode(t, err, cable.ENOTFOUND)
	if ts := record(t, r, r1.ID).Transmissions[0]; ts.State != cable.TransmissionQueued {
		t.Errorf("a failed MarkTransmitted batch changed %s: %+v", r1.ID, ts)
	}
}

func checkChain(t *testing.T, es []*cable.Event) {
	t.Helper()
	prev := cable.GenesisHash
	for i, e := range es {
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != e.ComputeHash() {
			t.Fatalf("event %d: seq %d, prev %s (want %s), hash %s (recomputed %s)", i, e.Seq, e.PrevHash, prev, e.Hash, e.ComputeHash())
		}
		prev = e.Hash
	}
}

func (s *suite) eventsChain(t *testing.T, r cable.Records) {
	c := Release(t, r, Cable("MOSCOW", feb, "x", "x"))[0].Cable
	receive(t, r, arrival(t, foreign("LONDON", 1, feb, "y", "y"), "STATE", feb, "EUR"))
	given := time.Date(2026, 2, 23, 8, 0, 0, 123456789, time.FixedZone("EST", -5*3600))
	read := &cable.Event{Kind: cable.EventRead, CableID: c.ID, Station: "MOSCOW", Actor: "alice",
		Detail: map[string]any{"office": "POL", "n": 3, "ratio": 0.25, "ok": true, "list": []string{"a", "b"}, "nested": map[string]any{"z": 1, "a": nil}}}
	sec := &cable.Event{Kind: cable.EventSecurity, Station: "STATE", At: given, Detail: map[string]any{}}
	before := time.Now().Add(-time.Second)
	must(t, r.AppendEvents(ctx, []*cable.Event{read, sec}))
	if read.Seq != 4 || sec.Seq != 5 || read.PrevHash == "" || sec.PrevHash != read.Hash || read.Hash != read.ComputeHash() || sec.Hash != sec.ComputeHash() {
		t.Fatalf("appended events: %+v %+v", read, sec)
	}
	if read.At.Before(before) || read.At.Location() != time.UTC || read.At.Nanosecond()%1000 != 0 {
		t.Errorf("At of an event given without one: %v", read.At)
	}
	if !sec.At.Equal(given.Truncate(time.Microsecond)) {
		t.Errorf("At of an event given one: %v, want %v", sec.At, given)
	}
	es := events(t, r, cable.EventFilter{})
	if len(es) != 5 {
		t.Fatalf("%d events, want 5", len(es))
	}
	checkChain(t, es)
	if kinds := []string{es[0].Kind, es[1].Kind, es[2].Kind}; !slices.Equal(kinds, []string{cable.EventReleased, cable.EventReceived, cable.EventDistributed}) {
		t.Errorf("kinds %v", kinds)
	}
	e := es[3]
	if e.Kind != read.Kind || e.CableID != read.CableID || e.Actor != "alice" || !e.At.Equal(read.At) || e.Hash != read.Hash {
		t.Errorf("stored event %+v, appended %+v", e, read)
	}
	dj, _ := json.Marshal(e.Detail)
	if string(dj) != `{"list":["a","b"],"n":3,"nested":{"a":null,"z":1},"office":"POL","ok":true,"ratio":0.25}` {
		t.Errorf("detail read back as %s", dj)
	}
	if es[4].Detail == nil || len(es[4].Detail) != 0 {
		t.Errorf("empty detail read back as %#v", es[4].Detail)
	}

	for name, tc := range map[string]struct {
		f    cable.EventFilter
		want []int64
	}{
		"cable":       {cable.EventFilter{CableID: c.ID}, []int64{1, 4}},
		"kind":        {cable.EventFilter{Kind: cable.EventDistributed}, []int64{3}},
		"after":       {cable.EventFilter{AfterSeq: 3}, []int64{4, 5}},
		"limit":       {cable.EventFilter{AfterSeq: 1, Limit: 2}, []int64{2, 3}},
		"cable, kind": {cable.EventFilter{CableID: c.ID, Kind: cable.EventRead}, []int64{4}},
		"none":        {cable.EventFilter{Kind: "no such kind"}, nil},
	} {
		var got []int64
		for _, e := range events(t, r, tc.f) {
			got = append(got, e.Seq)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Events %s: %v, want %v", name, got, tc.want)
		}
	}

	bad := &cable.Event{Kind: ""}
	err := r.AppendEvents(ctx, []*cable.Event{{Kind: cable.EventUser}, bad})
	wantCode(t, err, cable.EINVALID)
	err = r.AppendEvents(ctx, []*cable.Event{{Kind: cable.EventUser, Detail: map[string]any{"f": func() {}}}})
	wantCode(t, err, cable.EINVALID)
	if es := events(t, r, cable.EventFilter{}); len(es) != 5 {
		t.Errorf("%d events after failed appends, want 5", len(es))
	}
}

func (s *suite) eventsConcurrent(t *testing.T, r cable.Records) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if err := r.AppendEvents(ctx, []*cable.Event{{Kind: cable.EventUser, Actor: fmt.Sprintf("g%d", g), Detail: map[string]any{"i": i}}}); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 5 {
				c := Cable("MOSCOW", feb, fmt.Sprintf("g%d %d", g, i), "text")
				if err := r.Release(ctx, []*cable.ReleaseRequest{{Cable: c, Render: Render}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	es := events(t, r, cable.EventFilter{})
	if len(es) != 100 {
		t.Fatalf("%d events, want 100", len(es))
	}
	checkChain(t, es)
}

func (s *suite) verify(t *testing.T, r cable.Records) {
	cs := []*cable.Cable{Cable("MOSCOW", feb, "a", "a"), Cable("MOSCOW", feb, "b", "b"), Cable("MOSCOW", feb, "c", "c")}
	Release(t, r, cs...)
	receive(t, r, arrival(t, foreign("LONDON", 1, feb, "y", "y"), "STATE", feb, "EUR"))
	must(t, r.AppendEvents(ctx, []*cable.Event{{Kind: cable.EventUser, Actor: "admin"}}))
	rep, err := r.Verify(ctx)
	must(t, err)
	if rep.Cables != 4 || rep.Events != 6 || len(rep.Problems) != 0 {
		t.Fatalf("Verify of intact records: %+v", rep)
	}
	tam, ok := r.(Tamperer)
	if !ok {
		t.Skip("the store offers no Tamperer")
	}
	must(t, tam.TamperText(cs[1].ID, []byte("a forged text")))
	rep, err = r.Verify(ctx)
	must(t, err)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], cs[1].ID) {
		t.Fatalf("Verify after tampering with %s: %+v", cs[1].ID, rep)
	}
	must(t, tam.TamperEvent(3, cable.EventRead))
	rep, err = r.Verify(ctx)
	must(t, err)
	if rep.Cables != 4 || rep.Events != 6 || len(rep.Problems) != 2 {
		t.Fatalf("Verify after tampering with a cable and event 3: %+v", rep)
	}
	text := strings.Join(rep.Problems, "\n")
	if !strings.Contains(text, cs[1].ID) || !strings.Contains(text, "event 3") {
		t.Errorf("problems name neither %s nor event 3: %q", cs[1].ID, rep.Problems)
	}
	for _, id := range []string{cs[0].ID, cs[2].ID, "event 2", "event 4"} {
		if strings.Contains(text, id+":") || strings.Contains(text, id+" ") {
			t.Errorf("problems name %s, which is intact: %q", id, rep.Problems)
		}
	}
	// Appending goes on from the stored head; the damage stays reported.
	must(t, r.AppendEvents(ctx, []*cable.Event{{Kind: cable.EventUser}}))
	rep, err = r.Verify(ctx)
	must(t, err)
	if rep.Events != 7 || len(rep.Problems) != 2 {
		t.Errorf("Verify after one more event: %+v", rep)
	}
	// An event whose detail cannot be read is reported, and the chain is
	// followed past it: the next event is not reported as well.
	must(t, tam.TamperEventDetail(5, "{not json"))
	rep, err = r.Verify(ctx)
	must(t, err)
	text = strings.Join(rep.Problems, "\n")
	if rep.Events != 7 || len(rep.Problems) != 3 || !strings.Contains(text, "event 5") || strings.Contains(text, "event 6") {
		t.Errorf("Verify after damaging event 5's detail: %+v", rep)
	}
}

func (s *suite) users(t *testing.T, r cable.Records) {
	alice := &cable.User{Name: "alice", Station: "STATE", Offices: []string{"EUR", "S"}, Clearance: cable.Secret,
		Captions: []cable.Caption{cable.NODIS}, Roles: []cable.UserRole{cable.RoleDrafter}}
	must(t, r.CreateUser(ctx, alice, "hash-a"))
	if alice.ID == 0 || alice.CreatedAt.IsZero() {
		t.Fatalf("CreateUser set ID %d, CreatedAt %v", alice.ID, alice.CreatedAt)
	}
	bob := &cable.User{Name: "bob", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Confidential}
	must(t, r.CreateUser(ctx, bob, "hash-b"))
	if bob.ID == alice.ID {
		t.Errorf("two users with ID %d", bob.ID)
	}
	err := r.CreateUser(ctx, &cable.User{Name: "alice", Station: "LONDON", Offices: []string{"POL"}, Clearance: cable.Secret}, "x")
	wantCode(t, err, cable.ECONFLICT)
	err = r.CreateUser(ctx, &cable.User{Name: "", Station: "x"}, "x")
	wantCode(t, err, cable.EINVALID)
	if len(cable.ErrorProblems(err)) < 3 {
		t.Errorf("problems %v, want name, station and clearance", cable.ErrorProblems(err))
	}

	u, hash, err := r.UserByName(ctx, "alice")
	must(t, err)
	if hash != "hash-a" || !reflect.DeepEqual(u, alice) {
		t.Errorf("UserByName = %+v %q, want %+v", u, hash, alice)
	}
	_, _, err = r.UserByName(ctx, "carol")
	wantCode(t, err, cable.ENOTFOUND)
	us, err := r.Users(ctx)
	must(t, err)
	if len(us) != 2 || !reflect.DeepEqual(us[0], alice) || !reflect.DeepEqual(us[1], bob) {
		t.Errorf("Users = %+v", us)
	}
}

func (s *suite) tokens(t *testing.T, r cable.Records) {
	alice := &cable.User{Name: "alice", Station: "STATE", Offices: []string{"EUR"}, Clearance: cable.Secret}
	must(t, r.CreateUser(ctx, alice, "h"))
	exp := date(2026, 3, 1, 12, 0)
	tok := &cable.Token{Hash: "tokhash", UserID: alice.ID, Kind: cable.TokenSession, ExpiresAt: exp, CSRF: "csrf1"}
	must(t, r.CreateToken(ctx, tok))
	if tok.CreatedAt.IsZero() {
		t.Error("CreateToken set no CreatedAt")
	}
	u, got, err := r.UserByToken(ctx, "tokhash", exp.Add(-time.Second))
	must(t, err)
	if u.Name != "alice" || got.Hash != "tokhash" || got.UserID != alice.ID || got.Kind != cable.TokenSession ||
		got.CSRF != "csrf1" || !got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(tok.CreatedAt) {
		t.Errorf("UserByToken = %+v %+v", u, got)
	}
	_, _, err = r.UserByToken(ctx, "tokhash", exp)
	wantCode(t, err, cable.ENOTFOUND)
	_, _, err = r.UserByToken(ctx, "tokhash", exp.Add(day))
	wantCode(t, err, cable.ENOTFOUND)
	_, _, err = r.UserByToken(ctx, "nosuch", exp.Add(-day))
	wantCode(t, err, cable.ENOTFOUND)

	forever := &cable.Token{Hash: "api", UserID: alice.ID, Kind: cable.TokenAPI}
	must(t, r.CreateToken(ctx, forever))
	if _, got, err := r.UserByToken(ctx, "api", date(2100, 1, 1, 0, 0)); err != nil || !got.ExpiresAt.IsZero() {
		t.Errorf("a token without expiry: %+v, %v", got, err)
	}
	wantCode(t, r.CreateToken(ctx, &cable.Token{Hash: "api", UserID: alice.ID, Kind: cable.TokenAPI}), cable.ECONFLICT)
	wantCode(t, r.CreateToken(ctx, &cable.Token{Hash: "x", UserID: alice.ID + 100, Kind: cable.TokenAPI}), cable.ENOTFOUND)
	wantCode(t, r.CreateToken(ctx, &cable.Token{Hash: "", UserID: alice.ID, Kind: "other"}), cable.EINVALID)

	must(t, r.DeleteToken(ctx, "api"))
	_, _, err = r.UserByToken(ctx, "api", exp)
	wantCode(t, err, cable.ENOTFOUND)
	must(t, r.DeleteToken(ctx, "api"))
	if _, _, err := r.UserByToken(ctx, "tokhash", exp.Add(-time.Hour)); err != nil {
		t.Errorf("deleting one token removed another: %v", err)
	}
}

// seedPath returns the path of the model cable in the shared directory
// beside the repository: the repository root is the nearest directory
// above the working directory that holds go.mod.
func seedPath() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "seeds", "000_e3225f346bbef510.txt")
			_, err := os.Stat(p)
			return p, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// longTelegram stores the real Long Telegram, both transcripts, as the
// text of a cable and finds it by the words of its most quoted sentence.
func (s *suite) longTelegram(t *testing.T, r cable.Records) {
	p, ok := seedPath()
	if !ok {
		t.Skip("the model cable is not beside the repository")
	}
	text, err := os.ReadFile(p)
	must(t, err)
	c := Cable("MOSCOW", time.Date(1946, 2, 22, 21, 0, 0, 0, time.UTC), "Soviet outlook", "No paraphrase necessary.")
	c.Classification, c.Paragraphs[0].Classification = cable.Secret, cable.Secret
	c.References = []cable.Reference{{Text: "STATE 284"}}
	// The Department's telegram 284 of February 3, which it answers.
	var reqs []*cable.ReleaseRequest
	for i := range 284 {
		reqs = append(reqs, &cable.ReleaseRequest{Cable: Cable("STATE", time.Date(1946, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*2*time.Hour),
			fmt.Sprintf("Department telegram %d", i+1), "Text."), Render: Render})
	}
	before := reqs[283].Cable
	reqs = append(reqs, &cable.ReleaseRequest{Cable: c, Render: func(*cable.Cable) ([]byte, error) { return text, nil }})
	must(t, r.Release(ctx, reqs))
	if before.ID != "1946STATE00284" || c.ID != "1946MOSCOW00001" {
		t.Fatalf("released %s and %s", before.ID, c.ID)
	}
	rec := record(t, r, c.ID)
	if string(rec.Text) != string(text) || rec.SHA256 != cable.SHA256Hex(text) {
		t.Fatalf("the Long Telegram is not stored byte for byte (%d bytes of %d)", len(rec.Text), len(text))
	}
	ss, n := find(t, r, all(cable.CableFilter{Query: "Kremlin's neurotic"}))
	wantIDs(t, "search the Long Telegram", ss, n, c.ID)
	if !strings.Contains(strings.ToLower(ss[0].Snippet), "neurotic") {
		t.Errorf("snippet %q does not show the word", ss[0].Snippet)
	}
	ss, n = find(t, r, cable.CableFilter{MaxClassification: cable.Confidential, Query: "neurotic"})
	wantIDs(t, "search the SECRET Long Telegram cleared to CONFIDENTIAL", ss, n)
	if ref := rec.Cable.References[0]; ref.ID != before.ID {
		t.Errorf("reference %q resolved to %q, want %s", ref.Text, ref.ID, before.ID)
	}
	rep, err := r.Verify(ctx)
	must(t, err)
	if len(rep.Problems) != 0 {
		t.Errorf("Verify: %v", rep.Problems)
	}
}

// receiveHistorical files records from before the system: a telegram with
// the control number its paper gives, and a memorandum of an edition that
// has no serial, under an identifier of its own.
func (s *suite) receiveHistorical(t *testing.T, r cable.Records) {
	tel := Cable("MOSCOW", date(1946, 2, 22, 18, 0), "", "Answer to Dept's 284 involves questions so intricate.")
	tel.Serial, tel.ID = 511, "1946MOSCOW00511"
	text, _ := Render(tel)
	a := &cable.Arrival{Station: "STATE", Cable: tel, Text: text, At: date(1946, 2, 22, 20, 52),
		Distribution: cable.Distribution{Action: "EUR", Info: []string{"S", "DC/R"}}, Origin: cable.OriginHistorical, ControlNumber: "8963"}
	must(t, r.Receive(ctx, []*cable.Arrival{a}))
	if a.Receipt.ControlNumber != "8963" {
		t.Fatalf("control number %q, want the paper's 8963", a.Receipt.ControlNumber)
	}
	rec, err := r.Cable(ctx, "1946MOSCOW00511")
	must(t, err)
	if rec.Origin != cable.OriginHistorical || rec.DeliveryFor("STATE") == nil || rec.DeliveryFor("STATE").Receipt.ControlNumber != "8963" {
		t.Fatalf("historical record: origin %q deliveries %+v", rec.Origin, rec.Deliveries)
	}
	// The paper's control number takes nothing from the station's own sequence.
	live := Cable("MOSCOW", date(1946, 3, 1, 10, 0), "LATER", "A later cable.")
	live.Serial, live.ID = 600, "1946MOSCOW00600"
	text2, _ := Render(live)
	b := &cable.Arrival{Station: "STATE", Cable: live, Text: text2, At: date(1946, 3, 1, 12, 0), Distribution: cable.Distribution{Action: "EUR"}}
	must(t, r.Receive(ctx, []*cable.Arrival{b}))
	if b.Receipt.ControlNumber != "1" {
		t.Fatalf("allocated control number %q, want 1", b.Receipt.ControlNumber)
	}

	memo := Cable("STATE", date(1949, 2, 3, 0, 0), "INDONESIA", "Memorandum of conversation.")
	memo.ID, memo.Serial = "frus1949v07p1.d153", 0
	memoText, _ := Render(memo)
	m := &cable.Arrival{Station: "STATE", Cable: memo, Text: memoText, At: memo.DTG, Distribution: cable.Distribution{Action: "DC/R"}, Origin: cable.OriginHistorical}
	memo2 := Cable("STATE", date(1949, 2, 4, 0, 0), "INDONESIA", "Another memorandum.")
	memo2.ID, memo2.Serial = "frus1949v07p1.d155", 0
	memo2Text, _ := Render(memo2)
	m2 := &cable.Arrival{Station: "STATE", Cable: memo2, Text: memo2Text, At: memo2.DTG, Distribution: cable.Distribution{Action: "DC/R"}, Origin: cable.OriginHistorical}
	must(t, r.Receive(ctx, []*cable.Arrival{m, m2}))
	if got, err := r.Cable(ctx, "frus1949v07p1.d153"); err != nil || got.Cable.Subject != "INDONESIA" {
		t.Fatalf("memorandum: %v %+v", err, got)
	}
	// Only historical records may have such identifiers.
	bad := Cable("STATE", date(2026, 2, 4, 0, 0), "X", "x")
	bad.ID = "frus1949v07p1.d156"
	badText, _ := Render(bad)
	err = r.Receive(ctx, []*cable.Arrival{{Station: "STATE", Cable: bad, Text: badText, At: bad.DTG, Distribution: cable.Distribution{Action: "DC/R"}, Origin: cable.OriginReceived}})
	wantCode(t, err, cable.EINVALID)
}
