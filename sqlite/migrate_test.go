package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/storetest"
)

// columns returns the column names of a table.
func columns(t *testing.T, raw *sql.DB, table string) []string {
	t.Helper()
	rows, err := raw.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// A file written by a program that knew only the first schema version
// is upgraded in place: what it holds is kept, a transmission received at
// a station of the node takes the control number of its receipt, and the
// new methods work on it.
func TestUpgradeFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.db")
	old, err := sqlite.OpenVersion(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := storetest.Cable("MOSCOW", feb, "before the upgrade", "text")
	x.To = append(x.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo})
	y := storetest.Cable("MOSCOW", feb, "queued before the upgrade", "text")
	storetest.Release(t, old, x, y)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if cs := strings.Join(columns(t, raw, "transmissions"), " "); strings.Contains(cs, "hop") || strings.Contains(cs, "control_number") {
		t.Fatalf("a version 1 file has transmissions columns %s", cs)
	}
	// What version 1's Receive wrote for a cable received at STATE on
	// the node that released it.
	recv := feb.Add(time.Hour)
	if _, err := raw.Exec(`INSERT INTO receipts (cable_id, station, at, year, control_number, action, info) VALUES (?, 'STATE', ?, 2026, '8963', 'EUR', '[]')`,
		x.ID, recv.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE transmissions SET state = 'received', received_at = ? WHERE cable_id = ? AND destination = 'STATE'`,
		recv.UnixMicro(), x.ID); err != nil {
		t.Fatal(err)
	}

	db := open(t, path)
	defer db.Close()
	var n, version int
	var name string
	if err := raw.QueryRow(`SELECT count(*), max(version), max(name) FROM schema_migrations`).Scan(&n, &version, &name); err != nil ||
		n != 3 || version != 3 || name != "0003_text_spans.sql" {
		t.Errorf("schema_migrations: %d rows up to version %d (%s), %v", n, version, name, err)
	}
	rec, err := db.Cable(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Cable.Paragraphs) != 1 || rec.Cable.Paragraphs[0].Text != "text" {
		t.Errorf("paragraphs written before the upgrade: %+v", rec.Cable.Paragraphs)
	}
	var spans string
	if err := raw.QueryRow(`SELECT text_spans FROM cables WHERE id = ?`, x.ID).Scan(&spans); err != nil || spans != "" {
		t.Errorf("text_spans of a cable written before the upgrade %q, %v; want none", spans, err)
	}
	st, lo := rec.Transmissions[0], rec.Transmissions[1]
	if st.State != cable.TransmissionReceived || st.ControlNumber != "8963" || st.ReceivedAt == nil || !st.ReceivedAt.Equal(recv) || st.Hop != "" || st.OverdueAt != nil {
		t.Errorf("received transmission after the upgrade: %+v", st)
	}
	if lo.State != cable.TransmissionQueued || lo.ControlNumber != "" || lo.Hop != "" {
		t.Errorf("queued transmission after the upgrade: %+v", lo)
	}
	over, err := db.OverdueTransmissions(ctx, lo.QueuedAt.Add(7*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(over) != 2 || over[0].CableID != x.ID || over[0].Destination != "LONDON" || over[1].CableID != y.ID {
		t.Errorf("overdue after the upgrade: %+v", over)
	}
	over[0].Hop = "WAR"
	if err := db.MarkTransmitted(ctx, over[:1], recv, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDelivered(ctx, []*cable.DeliveryReceipt{{CableID: y.ID, Origin: "MOSCOW", Station: "STATE", ReceivedAt: recv, ControlNumber: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	if rec, err := db.Cable(ctx, x.ID); err != nil || rec.Transmissions[1].Hop != "WAR" {
		t.Errorf("after the upgrade, marked transmitted via WAR: %+v, %v", rec, err)
	}
	z := storetest.Cable("MOSCOW", feb, "after the upgrade", "text after")
	storetest.Release(t, db, z)
	if rec, err := db.Cable(ctx, z.ID); err != nil || rec.Cable.Paragraphs[0].Text != "text after" {
		t.Errorf("cable released after the upgrade: %+v, %v", rec, err)
	}
	if err := raw.QueryRow(`SELECT text_spans FROM cables WHERE id = ?`, z.ID).Scan(&spans); err != nil || spans == "" || spans == "-" {
		t.Errorf("text_spans of a cable released after the upgrade %q, %v", spans, err)
	}
	if rep, err := db.Verify(ctx); err != nil || len(rep.Problems) != 0 {
		t.Errorf("Verify after the upgrade: %+v, %v", rep, err)
	}
}

// The speed-of-service watch reads the partial index of unreceived,
// un-alerted transmissions rather than the whole table.
func TestOverdueUsesIndex(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "records.db"))
	defer db.Close()
	var cs []*cable.Cable
	for i := range 50 {
		cs = append(cs, storetest.Cable("MOSCOW", feb, "indexed", storetest.Text(50, i)))
	}
	storetest.Release(t, db, cs...)
	plan, err := db.ExplainOverdue(ctx, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "transmissions_unreceived") {
		t.Errorf("plan of the overdue query reads no partial index:\n%s", plan)
	}
	if strings.Contains(plan, "SCAN t\n") || strings.HasSuffix(plan, "SCAN t") {
		t.Errorf("plan of the overdue query scans the transmissions:\n%s", plan)
	}
	t.Logf("plan:\n%s", plan)
}
