package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/centre"
	"github.com/cable-archive/cable/importer/tei"
	"github.com/cable-archive/cable/importer/transcript"
)

const importUsage = `Usage:
  cable import transcript FILE|- [--store --data DIR]   rebuild a scanned telegram's transcript into a cable (JSON)
  cable import tei FILE|- [--store --data DIR]          import the documents of a FRUS TEI volume (JSON array)
`

func runImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		if len(args) == 0 {
			fmt.Fprint(stderr, importUsage)
			return exitError{2}
		}
		fmt.Fprint(stdout, importUsage)
		return nil
	}
	kind, rest := args[0], args[1:]
	if kind != "transcript" && kind != "tei" {
		fmt.Fprintf(stderr, "cable import: unknown source %q\n%s", kind, importUsage)
		return exitError{2}
	}
	fs := newFlagSet("import "+kind, "import "+kind+" FILE|- [--store --data DIR]", stdout, stderr)
	store := fs.Bool("store", false, "file the result as historical records in the data directory")
	data := fs.String("data", "./cable-data", "data `directory` to file into with --store")
	pg := fs.String("postgres", "", "file into PostgreSQL at this `DSN` with --store")
	if err := parseFlags(fs, reorder(rest), stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, importUsage)
		return exitError{2}
	}
	src, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		return err
	}
	var records []*cable.HistoricalRecord
	var out any
	failed := false
	switch kind {
	case "transcript":
		res, err := transcript.Parse(src)
		if err != nil {
			return err
		}
		out = res
		records = append(records, transcriptRecord(res, src))
	case "tei":
		vol, err := tei.Parse(bytes.NewReader(src))
		if err != nil {
			return err
		}
		docs := vol.Documents
		if docs == nil {
			docs = []tei.Document{}
		}
		out = docs
		for i := range vol.Documents {
			records = append(records, teiRecord(vol, &vol.Documents[i]))
		}
		for k, n := range vol.Counts {
			fmt.Fprintf(stderr, "%s: %d\n", k, n)
		}
		for _, p := range vol.Problems {
			fmt.Fprintf(stderr, "not read: %s: %s\n", p.SourceID, p.Reason)
			failed = true
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if *store {
		if err := fileRecords(ctx, *data, *pg, records, stderr); err != nil {
			return err
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}

// reorder moves flags before the file argument, so "FILE --store" works.
func reorder(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			if (a == "--data" || a == "-data" || a == "--postgres" || a == "-postgres") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	return append(flags, rest...)
}

// transcriptRecord makes the historical record of a rebuilt transcript.
func transcriptRecord(res *transcript.Result, src []byte) *cable.HistoricalRecord {
	c := res.Cable
	details := map[string]any{
		"via": res.Via, "pages": res.Pages, "declassification": res.Declassification, "garbles": res.Garbles,
		"form": string(res.Form), "source_sha256": cable.SHA256Hex(src),
	}
	if res.FileCode != "" {
		details["file_code"] = res.FileCode
	}
	if res.Marking != "" {
		details["marking"] = res.Marking
	}
	receivedAt := ""
	if len(c.Addressees(cable.RoleAction)) > 0 {
		receivedAt = c.Addressees(cable.RoleAction)[0]
	}
	return &cable.HistoricalRecord{Kind: "telegram", Source: "transcript", ID: c.ID, Cable: c, ReceivedAt: receivedAt, Details: details, Warnings: res.Warnings}
}

// teiRecord makes the historical record of a document of a volume.
func teiRecord(vol *tei.Volume, d *tei.Document) *cable.HistoricalRecord {
	c := d.Cable()
	id := d.ID()
	if id == "" || d.Kind != tei.KindTelegram {
		id = vol.ID + "." + d.SourceID
		if vol.ID == "" {
			id = "tei." + d.SourceID
		}
	}
	c.ID = id
	details := map[string]any{"title": d.Title, "file_code": d.FileCode, "volume": vol.ID}
	if len(d.Footnotes) > 0 {
		details["footnotes"] = d.Footnotes
	}
	if d.Marking != "" {
		details["marking"] = d.Marking
	}
	if d.Date != "" {
		details["date"] = d.Date
	}
	receivedAt := ""
	if to := c.Addressees(cable.RoleAction); len(to) > 0 && d.Kind == tei.KindTelegram {
		receivedAt = to[0]
	}
	return &cable.HistoricalRecord{Kind: d.Kind, Source: "tei", SourceID: d.SourceID, ID: id, Cable: c, ReceivedAt: receivedAt, Details: details, Warnings: d.Warnings}
}

// fileRecords files historical records into a data directory, reporting
// each one, and goes on past the ones it cannot file.
func fileRecords(ctx context.Context, data, dsn string, records []*cable.HistoricalRecord, stderr io.Writer) error {
	d := dataDir{path: data}
	if err := d.ensure(); err != nil {
		return err
	}
	dir, err := d.directory()
	if err != nil {
		return err
	}
	rules, err := d.rules(dir)
	if err != nil {
		return err
	}
	rec, err := d.openRecords(ctx, dsn)
	if err != nil {
		return err
	}
	defer rec.Close()
	failed := 0
	for _, r := range records {
		if _, err := centre.FileHistorical(ctx, rec, newForm(dir), rules, "archivist (cli)", r, time.Now()); err != nil {
			fmt.Fprintf(stderr, "not filed: %s: %s\n", r.ID, describe(err))
			failed++
			continue
		}
		fmt.Fprintf(stderr, "filed: %s (%s)\n", r.ID, r.Kind)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d records not filed", failed, len(records))
	}
	return nil
}
