package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/nats"
	"github.com/cable-archive/cable/seal"
)

func user(t *testing.T, n *testNode, name string) *cable.User {
	t.Helper()
	u, _, err := n.records.UserByName(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// waitInbox polls office's inbox for id until it arrives or the deadline passes.
func waitInbox(t *testing.T, n *testNode, u *cable.User, office, id string) *cable.Summary {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		list, _, err := n.centre.Inbox(context.Background(), u, office, cable.CableFilter{Limit: 500})
		if err != nil {
			t.Fatalf("inbox: %v", err)
		}
		for _, s := range list {
			if s.ID == id {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never reached the %s inbox of %s", id, office, u.Name)
	return nil
}

func TestReleaseTravelsToActionOffice(t *testing.T) {
	n := startTestNode(t)
	ctx := context.Background()
	drafter := user(t, n, "drafter.moscow")
	draft := benchCable(1)
	draft.Subject = "SOVIET PRESS ON THE GRAIN HARVEST"
	rec, err := n.centre.Release(ctx, drafter, draft)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	year := time.Now().UTC().Year()
	if !strings.HasPrefix(rec.Cable.ID, cable.Identifier(year, "MOSCOW", 0)[:10]) || rec.Cable.Serial < 1 {
		t.Fatalf("identifier %q serial %d", rec.Cable.ID, rec.Cable.Serial)
	}
	if rec.SHA256 != cable.SHA256Hex(rec.Text) {
		t.Fatalf("stored hash %s does not match text", rec.SHA256)
	}

	eur := user(t, n, "reader.eur")
	s := waitInbox(t, n, eur, "EUR", rec.Cable.ID)
	if s.Role != cable.RoleAction || s.Distribution == nil || s.Distribution.Action != "EUR" {
		t.Fatalf("EUR inbox line: role %q distribution %+v", s.Role, s.Distribution)
	}
	if s.Received == nil || s.Received.ControlNumber == "" {
		t.Fatalf("no receipt on inbox line: %+v", s.Received)
	}
	got, err := n.centre.Cable(ctx, eur, rec.Cable.ID)
	if err != nil {
		t.Fatalf("read as EUR: %v", err)
	}
	if string(got.Text) != string(rec.Text) {
		t.Fatal("text read at STATE differs from text released at MOSCOW")
	}
	if got.Cable.Received == nil || got.Cable.Distribution.Action != "EUR" {
		t.Fatalf("cable view lacks receipt/distribution: %+v %+v", got.Cable.Received, got.Cable.Distribution)
	}
	// The INR reader is an info addressee office for UR; NEA is not.
	if _, err := n.centre.Cable(ctx, user(t, n, "reader.nea"), rec.Cable.ID); cable.ErrorCode(err) != cable.ENOTFOUND {
		t.Fatalf("NEA reader: got %v, want not found", err)
	}
	if _, err := n.centre.Cable(ctx, user(t, n, "reader.inr"), rec.Cable.ID); err != nil {
		t.Fatalf("INR reader (info office): %v", err)
	}
	// Every read is an event.
	evs, err := n.records.Events(ctx, cable.EventFilter{CableID: rec.Cable.ID, Kind: cable.EventRead})
	if err != nil || len(evs) != 2 {
		t.Fatalf("read events: %d, %v; want 2", len(evs), err)
	}
}

func TestConcurrentReleasesAreGapless(t *testing.T) {
	n := startTestNode(t)
	ctx := context.Background()
	drafter := user(t, n, "drafter.london")
	const workers, each = 8, 20
	var mu sync.Mutex
	var serials []int
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				d := benchCable(i)
				d.Station = "LONDON"
				rec, err := n.centre.Release(ctx, drafter, d)
				if err != nil {
					t.Errorf("release: %v", err)
					return
				}
				mu.Lock()
				serials = append(serials, rec.Cable.Serial)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Ints(serials)
	// The demo traffic released LONDON's first cables before the test began.
	first := serials[0]
	for i, s := range serials {
		if s != first+i {
			t.Fatalf("serials not gapless: %v", serials)
		}
	}
	sent, total, err := n.centre.Sent(ctx, drafter, cable.CableFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(serials)+first-1 || len(sent) != total {
		t.Fatalf("sent list holds %d (total %d), want %d", len(sent), total, len(serials)+first-1)
	}
}

func TestInvalidDraftNamesEveryProblem(t *testing.T) {
	n := startTestNode(t)
	drafter := user(t, n, "drafter.ankara")
	d := &cable.Cable{
		Precedence: cable.Routine, Classification: cable.Confidential,
		Paragraphs: []cable.Paragraph{{Number: 1, Classification: cable.TopSecret, Text: "x"}},
		Captions:   []cable.Caption{cable.LIMDIS},
	}
	_, err := n.centre.Release(context.Background(), drafter, d)
	fields := map[string]bool{}
	for _, p := range cable.ErrorProblems(err) {
		fields[p.Field] = true
	}
	for _, f := range []string{"to", "subject", "tags", "signature", "classification", "captions", "authority"} {
		if !fields[f] {
			t.Errorf("no problem named %q in %v", f, err)
		}
	}
	sent, _, _ := n.centre.Sent(context.Background(), drafter, cable.CableFilter{})
	for _, s := range sent {
		if s.Subject == "" {
			t.Fatal("an invalid draft was stored")
		}
	}
}

// TestForgedTransmissionsAreRefused puts hostile messages on the wire, as
// someone with access to the NATS server could: altered sealed bytes,
// garbage, a cable replaced under a genuine identifier, no envelope at
// all, a cable sealed with an impostor's keys, an old cable replayed, and
// a cable whose sections stop coming, and receipts signed by an impostor,
// altered after signing or under an envelope naming another sender. Each
// is refused and recorded as a security event, the genuine cable stays as
// released, and the node keeps serving.
func TestForgedTransmissionsAreRefused(t *testing.T) {
	n := startTestNodeWith(t, nodeConfig{NATSClientListen: "127.0.0.1:0", SectionTimeout: 2 * time.Second})
	ctx := context.Background()
	rec, err := n.centre.Release(ctx, user(t, n, "drafter.paris"), func() *cable.Cable {
		c := benchCable(1)
		c.Station = "PARIS"
		return c
	}())
	if err != nil {
		t.Fatal(err)
	}
	waitInbox(t, n, user(t, n, "reader.dcr"), "DC/R", rec.Cable.ID)

	nc, err := natsgo.Connect(n.transport.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	form := newForm(n.dir)
	sealAs := func(s cable.Sealer, id string, text []byte) []byte {
		t.Helper()
		b, err := s.Seal("PARIS", id, text, []string{"STATE"})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	publishAs := func(kind, from, to string, sealed []byte, id string, section, sections int) {
		t.Helper()
		m := natsgo.NewMsg("cable." + to + ".in.Z")
		m.Header.Set(nats.HeaderCableID, id)
		m.Header.Set(nats.HeaderOrigin, from)
		m.Header.Set(nats.HeaderDestination, to)
		m.Header.Set(nats.HeaderPrecedence, "FLASH")
		m.Header.Set(nats.HeaderSHA256, cable.SHA256Hex(sealed))
		m.Header.Set(nats.HeaderQueuedAt, time.Now().UTC().Format(time.RFC3339Nano))
		m.Header.Set(nats.HeaderKind, kind)
		m.Header.Set(nats.HeaderRoute, from)
		if sections > 0 {
			m.Header.Set(nats.HeaderSection, strconv.Itoa(section))
			m.Header.Set(nats.HeaderSections, strconv.Itoa(sections))
		}
		m.Data = sealed
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(sealed []byte, id string, section, sections int) {
		t.Helper()
		publishAs(cable.KindCable, "PARIS", "STATE", sealed, id, section, sections)
	}
	// Altered in transit: a byte of the sealed cable flipped, the hash made to match.
	flipped := sealAs(n.sealer, rec.Cable.ID, rec.Text)
	flipped[len(flipped)-10] ^= 1
	publish(flipped, rec.Cable.ID, 0, 0)
	// Garbage.
	publish([]byte("garbage\x00\xff"), "2026PARIS99999", 0, 0)
	// Same identifier, different text, sealed with PARIS's own keys: a replaced cable.
	altered := []byte(strings.Replace(string(rec.Text), "Embassy", "Enemyyy", 1))
	publish(sealAs(n.sealer, rec.Cable.ID, altered), rec.Cable.ID, 0, 0)
	// No envelope at all.
	if err := nc.Publish("cable.STATE.in.Z", []byte("\x00\x01")); err != nil {
		t.Fatal(err)
	}
	// Sealed with an impostor's keys in PARIS's name.
	impostor, err := seal.Init(filepath.Join(t.TempDir(), "PARIS"), "PARIS")
	if err != nil {
		t.Fatal(err)
	}
	stateKeys, err := seal.Open(keysDir(n.cfg.Data, "STATE"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := impostor.Trust(stateKeys.Export()); err != nil {
		t.Fatal(err)
	}
	forged := benchCable(2)
	forged.Station, forged.Serial, forged.DTG = "PARIS", 77, time.Now().UTC().Truncate(time.Minute)
	forged.ID = cable.Identifier(forged.DTG.Year(), "PARIS", 77)
	forgedText, err := form.Render(forged)
	if err != nil {
		t.Fatal(err)
	}
	s, err := impostor.Seal(forgedText, forged.ID, []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	publish(s.Marshal(), forged.ID, 0, 0)
	// An old cable, genuinely sealed, replayed: dated 40 days ago and never held.
	old := benchCable(3)
	old.Station, old.Serial, old.DTG = "PARIS", 78, time.Now().UTC().AddDate(0, 0, -40).Truncate(time.Minute)
	old.ID = cable.Identifier(old.DTG.Year(), "PARIS", 78)
	oldText, err := form.Render(old)
	if err != nil {
		t.Fatal(err)
	}
	publish(sealAs(n.sealer, old.ID, oldText), old.ID, 0, 0)
	// Truncated: two of three sections, then nothing.
	long := benchCable(4)
	long.Station, long.Serial, long.DTG = "PARIS", 79, time.Now().UTC().Truncate(time.Minute)
	long.ID = cable.Identifier(long.DTG.Year(), "PARIS", 79)
	parts, err := form.Cut(long, 2000)
	if err != nil || len(parts) < 3 {
		t.Fatalf("cut: %v, %d parts", err, len(parts))
	}
	for i := range 2 {
		publish(sealAs(n.sealer, long.ID, parts[i]), long.ID, i+1, len(parts))
	}
	// Receipts to PARIS in STATE's name for the genuine cable: signed by
	// the impostor's keys, and genuinely signed then altered.
	receipts := []*cable.DeliveryReceipt{{CableID: rec.Cable.ID, Origin: "PARIS", Station: "STATE", ReceivedAt: time.Now().UTC(), ControlNumber: "1"}}
	signed := cable.ReceiptsSignedBytes("STATE", "PARIS", receipts)
	impostorKeys := t.TempDir()
	if _, err := seal.Init(filepath.Join(impostorKeys, "STATE"), "STATE"); err != nil {
		t.Fatal(err)
	}
	impostorState, err := seal.OpenKeyrings(impostorKeys, []string{"STATE"})
	if err != nil {
		t.Fatal(err)
	}
	badSig, err := impostorState.Sign("STATE", signed)
	if err != nil {
		t.Fatal(err)
	}
	publishAs(cable.KindReceipt, "STATE", "PARIS", cable.MarshalReceipts(signed, badSig), rec.Cable.ID, 0, 0)
	goodSig, err := n.sealer.Sign("STATE", signed)
	if err != nil {
		t.Fatal(err)
	}
	altered = bytes.Replace(cable.MarshalReceipts(signed, goodSig), []byte("control: 1\n"), []byte("control: 2\n"), 1)
	publishAs(cable.KindReceipt, "STATE", "PARIS", altered, rec.Cable.ID, 0, 0)
	// The genuine bundle under an envelope naming another sender.
	publishAs(cable.KindReceipt, "WAR", "PARIS", cable.MarshalReceipts(signed, goodSig), rec.Cable.ID, 0, 0)
	nc.Flush()

	want := []string{"seal: Sealed cable is altered", "malformed transmission", "is held with", "seal: Signature does not verify", "replayed: dated", "truncated",
		"receipts for " + rec.Cable.ID + " and 0 more: signature", "envelope says receipts from WAR to PARIS"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, err := n.records.Events(ctx, cable.EventFilter{Kind: cable.EventSecurity})
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, e := range evs {
			r, _ := e.Detail["reason"].(string)
			reasons = append(reasons, r)
		}
		all := strings.Join(reasons, "\n")
		missing := ""
		for _, w := range want {
			if !strings.Contains(all, w) {
				missing = w
			}
		}
		if missing == "" && len(evs) >= 10 && strings.Count(all, "receipts for") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d security events, want 10 (3 of receipts); none says %q:\n%s", len(evs), missing, all)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The genuine cable is held, unchanged; the forgeries are nowhere.
	got, err := n.records.Cable(ctx, rec.Cable.ID)
	if err != nil || got.SHA256 != rec.SHA256 {
		t.Fatalf("genuine cable: %v %v", err, got)
	}
	for _, id := range []string{"2026PARIS99999", forged.ID, old.ID, long.ID} {
		if _, err := n.records.Cable(ctx, id); cable.ErrorCode(err) != cable.ENOTFOUND {
			t.Errorf("forgery %s stored: %v", id, err)
		}
	}
	rep, err := n.records.Verify(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %v %v", err, rep)
	}
	// And the node keeps serving.
	if err := n.health(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRoutingRulesReload edits the routing rules file of a running node:
// a file with mistakes is refused and the rules in force stay; a good one
// takes effect for the next cable received.
func TestRoutingRulesReload(t *testing.T) {
	n := startTestNode(t)
	ctx := context.Background()
	path := filepath.Join(n.cfg.Data, rulesFile)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) {
		t.Helper()
		// Rule reloads watch the modification time; make sure it moves.
		if err := os.WriteFile(path, b, 0o640); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Second)
		os.Chtimes(path, later, later)
		time.Sleep(2500 * time.Millisecond)
	}
	release := func() string {
		rec, err := n.centre.Release(ctx, user(t, n, "drafter.moscow"), benchCable(7))
		if err != nil {
			t.Fatal(err)
		}
		return rec.Cable.ID
	}

	// A broken file: the rules in force (UR to EUR) stay.
	write(append(append([]byte(nil), orig...), []byte("\nat STATE\nwhen colour red -> action NOWHERE\n")...))
	waitInbox(t, n, user(t, n, "reader.eur"), "EUR", release())

	// A good file: UR now goes to NEA for action.
	edited := strings.Replace(string(orig), "when tag UR                           -> action EUR info S, U, C, INR, DC/R",
		"when tag UR                           -> action NEA info DC/R", 1)
	if edited == string(orig) {
		t.Fatal("test does not match the demo rules")
	}
	write([]byte(edited))
	s := waitInbox(t, n, user(t, n, "reader.nea"), "NEA", release())
	if s.Distribution.Action != "NEA" {
		t.Fatalf("after reload: %+v", s.Distribution)
	}
}
