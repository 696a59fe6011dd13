package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cable "github.com/cable-archive/cable"
)

// sharedFile finds a file of ../shared beside the repository, or skips.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not found: %v", rel, err)
	}
	return p
}

func TestImportTranscriptCLI(t *testing.T) {
	seed := sharedFile(t, "seeds/000_e3225f346bbef510.txt")
	data := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"import", "transcript", seed, "--store", "--data", data}, nil, &out, &errb); err != nil {
		t.Fatalf("import: %v: %s", err, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for k, want := range map[string]any{"id": "1946MOSCOW00511", "station": "MOSCOW", "serial": 511.0, "dtg": "1946-02-22T18:00:00Z", "via": "WAR", "classification": "SECRET"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if r, _ := got["received"].(map[string]any); r["control_number"] != "8963" {
		t.Errorf("received = %v", got["received"])
	}
	if d, _ := got["distribution"].(map[string]any); d["action"] != "EUR" {
		t.Errorf("distribution = %v", got["distribution"])
	}
	if st, _ := got["declassification"].([]any); len(st) == 0 {
		t.Error("no declassification stamps")
	}
	if !strings.Contains(errb.String(), "filed: 1946MOSCOW00511") {
		t.Errorf("stderr: %s", errb.String())
	}

	// Filed as a historical record, received at STATE with the paper's
	// control number, readable by EUR, and not filed twice.
	rec := openRecordsForTest(t, data)
	r, err := rec.Cable(context.Background(), "1946MOSCOW00511")
	if err != nil {
		t.Fatal(err)
	}
	d := r.DeliveryFor("STATE")
	if r.Origin != cable.OriginHistorical || d == nil || d.Receipt.ControlNumber != "8963" || d.Distribution.Action != "EUR" {
		t.Fatalf("filed record: origin %s delivery %+v", r.Origin, d)
	}
	eur := &cable.User{Name: "r", Station: "STATE", Offices: []string{"EUR"}, Clearance: cable.Secret}
	if !cable.CanRead(eur, r.Cable, &d.Distribution) {
		t.Fatal("EUR may not read the filed telegram")
	}
	evs, err := rec.Events(context.Background(), cable.EventFilter{CableID: "1946MOSCOW00511", Kind: cable.EventImported})
	if err != nil || len(evs) != 1 || evs[0].Detail["via"] != "WAR" {
		t.Fatalf("import event: %v %+v", err, evs)
	}
	rec.Close()
	errb.Reset()
	if err := run(context.Background(), []string{"import", "transcript", seed, "--store", "--data", data}, nil, &out, &errb); err == nil || !strings.Contains(errb.String(), "already in the holding") {
		t.Fatalf("second filing: %v: %s", err, errb.String())
	}
}

func TestImportTEICLI(t *testing.T) {
	vol := sharedFile(t, "testdata/frus/frus1949v07p1-d152-d154.xml")
	data := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"import", "tei", "--store", "--data", data, vol}, nil, &out, &errb); err != nil {
		t.Fatalf("import: %v: %s", err, errb.String())
	}
	var docs []map[string]any
	if err := json.Unmarshal(out.Bytes(), &docs); err != nil || len(docs) != 3 {
		t.Fatalf("want a JSON array of 3 documents: %v %s", err, out.String())
	}
	kinds := map[string]string{}
	for _, d := range docs {
		kinds[d["source_id"].(string)] = d["kind"].(string)
		if d["file_code"] == "" || d["file_code"] == nil {
			t.Errorf("%s has no file_code", d["source_id"])
		}
	}
	if kinds["d152"] != "telegram" || kinds["d153"] != "memorandum" || kinds["d154"] != "telegram" {
		t.Fatalf("kinds %v", kinds)
	}
	if docs[0]["dtg"] != "1949-02-02T12:00:00Z" || docs[0]["serial"] != 138.0 {
		t.Errorf("d152: dtg %v serial %v", docs[0]["dtg"], docs[0]["serial"])
	}
	for _, want := range []string{"telegram: 2", "memorandum: 1", "filed: 1949BATAVIA00138", "filed: frus1949v07p1.d153"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, errb.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify", "--data", data, "--json"}, nil, &out, &errb); err != nil {
		t.Fatalf("verify: %v %s", err, out.String())
	}
}

func TestImportRefusesBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"import", "transcript", "-"}, strings.NewReader("nothing like a telegram\n"), &out, &errb)
	if err == nil {
		t.Fatal("garbage imported")
	}
	if err := run(context.Background(), []string{"import", "tei", "-"}, strings.NewReader("<TEI><text><body><div type=\"document\" xml:id=\"d1\"><head>x</head><p>unclosed"), &out, &errb); err == nil {
		t.Fatal("a broken volume was imported without complaint")
	}
}
