package centre_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/storetest"
)

// TestCableHidesLinksToUnreadableCables: reading a cable one may read must
// not reveal the identifiers of held cables one may not read, neither in
// "answered by" nor by resolving a reference (held vs "not held").
func TestCableHidesLinksToUnreadableCables(t *testing.T) {
	ctx := context.Background()
	keys := t.TempDir()
	initKeys(t, keys, "STATE")
	c, records, _ := newCentre(t, "STATE", keys, idle{})

	dtg := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(serial int, cls cable.Classification, caps []cable.Caption, subject string, refs ...string) *cable.Arrival {
		cb := storetest.Cable("MOSCOW", dtg.Add(time.Duration(serial)*time.Minute), subject, "text of "+subject)
		cb.Serial, cb.ID = serial, cable.Identifier(2026, "MOSCOW", serial)
		cb.Classification, cb.Captions = cls, caps
		cb.Paragraphs[0].Classification = cls
		for _, r := range refs {
			cb.References = append(cb.References, cable.Reference{Text: r})
		}
		text, err := storetest.Render(cb)
		if err != nil {
			t.Fatal(err)
		}
		return &cable.Arrival{Station: "STATE", Cable: cb, Text: text, SHA256: cable.SHA256Hex(text),
			At: cb.DTG.Add(time.Hour), Distribution: cable.Distribution{Action: "EUR"}, Origin: cable.OriginReceived}
	}
	secret := mk(1, cable.TopSecret, []cable.Caption{cable.NODIS}, "NODIS PLAN")               // 2026MOSCOW00001
	open := mk(2, cable.Confidential, nil, "ORDINARY REPORT", "MOSCOW 1")                      // refers to the secret one
	answer := mk(3, cable.TopSecret, []cable.Caption{cable.NODIS}, "NODIS ANSWER", "MOSCOW 2") // answers the open one
	if err := records.Receive(ctx, []*cable.Arrival{secret, open, answer}); err != nil {
		t.Fatal(err)
	}

	reader := &cable.User{ID: 1, Name: "reader.eur", Station: "STATE", Offices: []string{"EUR"}, Clearance: cable.Secret}
	if _, err := c.Cable(ctx, reader, secret.Cable.ID); cable.ErrorCode(err) != cable.ENOTFOUND {
		t.Fatalf("precondition: reader must not read %s: %v", secret.Cable.ID, err)
	}
	rec, err := c.Cable(ctx, reader, open.Cable.ID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(rec.AnsweredBy, answer.Cable.ID) {
		t.Errorf("answered by lists %s (TOP SECRET NODIS), which %s may not read: %v", answer.Cable.ID, reader.Name, rec.AnsweredBy)
	}
	if got := rec.Cable.References[0].ID; got != "" {
		t.Errorf("reference MOSCOW 1 resolves to %q, telling %s that a cable they may not read is held", got, reader.Name)
	}
}

// TestHistoricalRecordCannotTakeLiveSerialsOrControlNumbers: an archivist
// (no drafter role) files a "historical" telegram with this year's next
// identifier of a hosted station and with the station's next control
// number. It took them: every release and every arrival at MOSCOW after
// it failed on the number already held, for the rest of the year. A
// historical record is now dated before this year; and a filer may not
// file what they could not read.
func TestHistoricalRecordCannotTakeLiveSerialsOrControlNumbers(t *testing.T) {
	ctx := context.Background()
	keys := postKeys(t)
	now := time.Now().UTC()
	year := now.Year()
	c, records, _ := newCentre(t, "MOSCOW", keys, &outbox{sent: map[string]int{}})
	stop := start(c)
	defer stop()

	archivist := &cable.User{ID: 9, Name: "archivist", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.Unclassified, Roles: []cable.UserRole{cable.RoleArchivist}}
	forged := storetest.Cable("MOSCOW", now.Add(-time.Hour).Truncate(time.Minute), "URGENT INSTRUCTIONS", "Hand the codebooks to the bearer.")
	forged.Classification, forged.Paragraphs[0].Classification = cable.Unclassified, cable.Unclassified
	forged.Serial, forged.ID = 1, cable.Identifier(year, "MOSCOW", 1)
	forged.Received = &cable.Receipt{At: now.Add(-time.Minute), ControlNumber: "1"}
	forged.Distribution = &cable.Distribution{Action: "POL"}
	if _, err := c.FileHistorical(ctx, archivist, &cable.HistoricalRecord{Kind: "telegram", Source: "transcript", ID: forged.ID, Cable: forged, ReceivedAt: "MOSCOW"}); cable.ErrorCode(err) != cable.EINVALID {
		t.Errorf("a historical record dated this year under %s: %v, want EINVALID", forged.ID, err)
	}
	secret := forged.Clone()
	secret.DTG, secret.Received = time.Date(1946, 2, 22, 21, 0, 0, 0, time.UTC), nil
	secret.Serial, secret.ID = 511, cable.Identifier(1946, "MOSCOW", 511)
	secret.Classification, secret.Paragraphs[0].Classification = cable.Secret, cable.Secret
	if _, err := c.FileHistorical(ctx, archivist, &cable.HistoricalRecord{Kind: "telegram", Source: "transcript", ID: secret.ID, Cable: secret, ReceivedAt: "MOSCOW"}); cable.ErrorCode(err) != cable.EFORBIDDEN {
		t.Errorf("a SECRET record filed by an archivist cleared UNCLASSIFIED: %v, want EFORBIDDEN", err)
	}

	drafter := &cable.User{ID: 1, Name: "drafter.moscow", Station: "MOSCOW", Offices: []string{"POL"}, Clearance: cable.TopSecret, Roles: []cable.UserRole{cable.RoleDrafter}}
	for i := range 2 {
		d := storetest.Cable("MOSCOW", now, "Real cable", "Text.")
		d.DTG = time.Time{}
		if _, err := c.Release(ctx, drafter, d); err != nil {
			t.Errorf("release %d at MOSCOW after the archivist filed %s: %v", i+1, forged.ID, err)
		}
	}

	real := storetest.Cable("STATE", now.Add(-time.Hour).Truncate(time.Minute), "Real arrival", "Text.")
	real.Serial, real.ID = 7, cable.Identifier(year, "STATE", 7)
	text, _ := storetest.Render(real)
	a := &cable.Arrival{Station: "MOSCOW", Cable: real, Text: text, SHA256: cable.SHA256Hex(text), At: now,
		Distribution: cable.Distribution{Action: "POL"}, Origin: cable.OriginReceived}
	if err := records.Receive(ctx, []*cable.Arrival{a}); err != nil {
		t.Errorf("receipt at MOSCOW after the archivist took control number 1: %v", err)
	}
}

// TestFilingDoesNotRevealHeldCables: an archivist cleared UNCLASSIFIED
// files a record under the identifier of a held TOP SECRET NODIS cable.
// The refusal named the held cable's SHA-256, which lets them test guesses
// at its text; it now says only that the identifier is taken.
func TestFilingDoesNotRevealHeldCables(t *testing.T) {
	ctx := context.Background()
	keys := t.TempDir()
	initKeys(t, keys, "STATE")
	c, records, _ := newCentre(t, "STATE", keys, idle{})
	dtg := time.Date(1975, 3, 1, 12, 0, 0, 0, time.UTC)
	secret := storetest.Cable("MOSCOW", dtg, "NODIS PLAN", "Secret text.")
	secret.Serial, secret.ID = 1, cable.Identifier(1975, "MOSCOW", 1)
	secret.Classification, secret.Captions = cable.TopSecret, []cable.Caption{cable.NODIS}
	text, _ := storetest.Render(secret)
	sum := cable.SHA256Hex(text)
	if err := records.Receive(ctx, []*cable.Arrival{{Station: "STATE", Cable: secret, Text: text, SHA256: sum, At: dtg.Add(time.Hour),
		Distribution: cable.Distribution{Action: "EUR"}, Origin: cable.OriginReceived}}); err != nil {
		t.Fatal(err)
	}
	archivist := &cable.User{ID: 9, Name: "archivist", Station: "STATE", Offices: []string{"EUR"}, Clearance: cable.Unclassified, Roles: []cable.UserRole{cable.RoleArchivist}}
	probe := storetest.Cable("MOSCOW", dtg, "Probe", "Anything.")
	probe.Serial, probe.ID = 1, secret.ID
	probe.Classification, probe.Paragraphs[0].Classification = cable.Unclassified, cable.Unclassified
	_, err := c.FileHistorical(ctx, archivist, &cable.HistoricalRecord{Kind: "telegram", Source: "transcript", ID: probe.ID, Cable: probe, ReceivedAt: "STATE"})
	msg := cable.ErrorMessage(err)
	if cable.ErrorCode(err) != cable.ECONFLICT || strings.Contains(msg, sum) || strings.Contains(msg, "SHA-256") {
		t.Errorf("filing under %s answers %s %q: want a conflict that gives nothing of the TOP SECRET NODIS cable held", secret.ID, cable.ErrorCode(err), msg)
	}
}
