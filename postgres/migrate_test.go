package postgres_test

import (
	"strings"
	"testing"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/postgres"
	"github.com/cable-archive/cable/storetest"
	"github.com/jackc/pgx/v5"
)

// A database written by a program that knew only the first schema
// version is upgraded in place: what it holds is kept, a transmission
// received at a station of the node takes the control number of its
// receipt, the new methods work on it, and cables released after it keep
// their text once.
func TestUpgradeFromVersion1(t *testing.T) {
	dsn := freshDSN(t)
	old, err := postgres.OpenVersion(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := storetest.Cable("MOSCOW", feb, "before the upgrade", "text")
	x.To = append(x.To, cable.Addressee{Station: "LONDON", Role: cable.RoleInfo})
	y := storetest.Cable("MOSCOW", feb, "queued before the upgrade", "text")
	storetest.Release(t, old, x, y)
	old.Close()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var cols int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'transmissions' AND column_name IN ('hop', 'control_number', 'overdue_at')`).Scan(&cols); err != nil || cols != 0 {
		t.Fatalf("a version 1 database has %d of the new columns, %v", cols, err)
	}
	// What version 1's Receive wrote for a cable received at STATE on
	// the node that released it.
	recv := feb.Add(time.Hour)
	if _, err := conn.Exec(ctx, `INSERT INTO receipts (cable_id, station, at, year, control_number, action, info) VALUES ($1, 'STATE', $2, 2026, '8963', 'EUR', '[]')`,
		x.ID, recv); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE transmissions SET state = 'received', received_at = $1 WHERE cable_id = $2 AND destination = 'STATE'`,
		recv, x.ID); err != nil {
		t.Fatal(err)
	}

	db := open(t, dsn)
	defer db.Close()
	var n, version int
	var name string
	if err := conn.QueryRow(ctx, `SELECT count(*), max(version), max(name) FROM schema_migrations`).Scan(&n, &version, &name); err != nil ||
		n != 3 || version != 3 || name != "0003_text_once.sql" {
		t.Errorf("schema_migrations: %d rows up to version %d (%s), %v", n, version, name, err)
	}
	rec, err := db.Cable(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
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

	// The row written before keeps its text three times and reads the
	// same; a row written after keeps it once.
	z := storetest.Cable("MOSCOW", feb, "released after the upgrade", "Wheat is short this winter.")
	storetest.Release(t, db, z)
	for _, c := range []struct {
		id, para  string
		raw, once bool
	}{{x.ID, "text", true, false}, {z.ID, "Wheat is short this winter.", false, true}} {
		var hasRaw bool
		var spans, js string
		if err := conn.QueryRow(ctx, `SELECT raw_text IS NOT NULL, text_spans, cable_json FROM cables WHERE id = $1`, c.id).Scan(&hasRaw, &spans, &js); err != nil {
			t.Fatal(err)
		}
		if hasRaw != c.raw || (spans != "") != c.once || strings.Contains(js, `"text":"`+c.para+`"`) == c.once {
			t.Errorf("%s: raw text kept %v, text_spans %q, cable_json %s", c.id, hasRaw, spans, js)
		}
	}
	for _, c := range []*cable.Cable{x, z} {
		rec, err := db.Cable(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Cable.Paragraphs) != 1 || rec.Cable.Paragraphs[0].Text != c.Paragraphs[0].Text || cable.SHA256Hex(rec.Text) != rec.SHA256 {
			t.Errorf("%s read after the upgrade: paragraphs %+v, text hashes to %s, stored %s", c.ID, rec.Cable.Paragraphs, cable.SHA256Hex(rec.Text), rec.SHA256)
		}
	}
	if rep, err := db.Verify(ctx); err != nil || len(rep.Problems) != 0 {
		t.Errorf("Verify after the upgrade: %+v, %v", rep, err)
	}
}

// The speed-of-service watch can read the partial index of unreceived,
// un-alerted transmissions rather than the whole table.
func TestOverdueUsesIndex(t *testing.T) {
	db := open(t, freshDSN(t))
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
	t.Logf("plan:\n%s", plan)
}

// From schema version 3 a cable row keeps its text once: the same cables
// take less room than at version 2, which kept it three times.
func TestTextKeptOnceSize(t *testing.T) {
	dsns := map[int]string{2: freshDSN(t), 3: freshDSN(t)}
	var cs []*cable.Cable
	for i := range 500 {
		c := storetest.Cable("MOSCOW", feb, "size", storetest.Text(1000, i))
		for p := 2; p <= 4; p++ {
			c.Paragraphs = append(c.Paragraphs, cable.Paragraph{Number: p, Classification: cable.Confidential, Text: storetest.Text(1000, i*4+p)})
		}
		cs = append(cs, c)
	}
	perCable := map[int]int64{}
	for _, v := range []int{2, 3} {
		textBytes := 0
		dsn := dsns[v]
		db, err := postgres.OpenVersion(ctx, dsn, v)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(cs); i += 100 {
			batch := make([]*cable.Cable, 0, 100)
			for _, c := range cs[i : i+100] {
				batch = append(batch, c.Clone())
			}
			for _, r := range storetest.Release(t, db, batch...) {
				textBytes += len(r.Record.Text)
			}
		}
		db.Close()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		var total, rows int64
		if _, err := conn.Exec(ctx, `VACUUM cables`); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('cables'), (SELECT sum(pg_column_size(c.*)) FROM cables c)`).Scan(&total, &rows); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		perCable[v] = total / int64(len(cs))
		t.Logf("schema version %d: %d bytes a cable of %d bytes of text, with its indexes and TOAST; rows %d bytes",
			v, total/int64(len(cs)), textBytes/len(cs), rows/int64(len(cs)))
	}
	if perCable[3] > perCable[2]*9/10 {
		t.Errorf("version 3 keeps %d bytes a cable, version 2 %d: want at least a tenth less", perCable[3], perCable[2])
	}
}
