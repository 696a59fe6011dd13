package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/seal"
)

const stationUsage = `Usage:
  cable station init   --data DIR --station CODE   make the station's signing and encryption keys
  cable station export --data DIR --station CODE   print the station's public identity, to give another station's operator
  cable station trust  --data DIR --station CODE FILE|-   trust another station's exported identity (no trust on first use)
  cable station rotate --data DIR --station CODE   make a new generation of keys; older ones still open cables in flight

Keys live in DIR/keys/CODE (see docs/keys.md). Every cable is signed by its
originating station and encrypted to each addressed station; a running node
picks up what these commands write within 5 seconds.
`

// keysDir is where a hosted station's keyring lives in a data directory.
func keysDir(data, station string) string { return filepath.Join(data, "keys", station) }

func runStation(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		if len(args) == 0 {
			fmt.Fprint(stderr, stationUsage)
			return exitError{2}
		}
		fmt.Fprint(stdout, stationUsage)
		return nil
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "init", "export", "trust", "rotate":
	default:
		fmt.Fprintf(stderr, "cable station: unknown command %q\n%s", verb, stationUsage)
		return exitError{2}
	}
	synopsis := "station " + verb + " --data DIR --station CODE"
	if verb == "trust" {
		synopsis += " FILE|-"
	}
	fs := newFlagSet("station "+verb, synopsis, stdout, stderr)
	data := fs.String("data", "./cable-data", "data `directory` of the node")
	station := fs.String("station", "", "`code` of the station whose keys these are")
	if err := parseFlags(fs, reorder(rest), stdout); err != nil {
		return err
	}
	code := strings.ToUpper(*station)
	var ps cable.Problems
	if !cable.ValidStationCode(code) {
		ps.Add("station", "--station must name a station code (2-20 upper-case letters)")
	} else if dir, err := (dataDir{path: *data}).directory(); err != nil {
		return err
	} else if _, err := dir.Station(code); err != nil {
		ps.Add("station", "station %s is not in the station directory", code)
	}
	if verb == "trust" && fs.NArg() != 1 {
		ps.Add("file", "name the exported identity to trust, or - for standard input")
	}
	if err := ps.Err("invalid request"); err != nil {
		return err
	}
	dir := keysDir(*data, code)
	switch verb {
	case "init":
		k, err := seal.Init(dir, code)
		if err != nil {
			return err
		}
		pub := k.Public()
		fmt.Fprintf(stdout, "%s: keys of generation %d made in %s\nfingerprint %s\n", code, pub.Generation, dir, pub.Fingerprint())
	case "export":
		k, err := seal.Open(dir)
		if err != nil {
			return err
		}
		_, err = stdout.Write(k.Export())
		return err
	case "trust":
		k, err := seal.Open(dir)
		if err != nil {
			return err
		}
		b, err := readInput(fs.Arg(0), stdin)
		if err != nil {
			return err
		}
		pub, err := k.Trust(b)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now trusts %s generation %d, fingerprint %s\n", code, pub.Station, pub.Generation, pub.Fingerprint())
	case "rotate":
		k, err := seal.Open(dir)
		if err != nil {
			return err
		}
		pub, err := k.Rotate()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: generation %d is current, fingerprint %s; export it to the stations that trust %s\n", code, pub.Generation, pub.Fingerprint(), code)
	}
	return nil
}
