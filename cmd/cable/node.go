package main

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	cable "github.com/cable-archive/cable"
	"github.com/cable-archive/cable/postgres"
	"github.com/cable-archive/cable/sqlite"
	"github.com/cable-archive/cable/textform"
)

//go:embed demo/stations.conf demo/routing.rules
var defaults embed.FS

// Files of a data directory.
const (
	directoryFile = "stations.conf"
	rulesFile     = "routing.rules"
	databaseFile  = "cable.db"
	routesFile    = "routes.conf"
	jetstreamDir  = "jetstream"
)

// dataDir is a node's data directory: the station directory and routing
// rules an operator edits, the SQLite records and the JetStream store.
type dataDir struct {
	path string
}

// ensure creates the directory and writes the default station directory
// and routing rules if the operator has not provided them.
func (d dataDir) ensure() error {
	if err := os.MkdirAll(d.path, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	for _, name := range []string{directoryFile, rulesFile} {
		p := filepath.Join(d.path, name)
		if _, err := os.Stat(p); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		b, _ := defaults.ReadFile("demo/" + name)
		if err := writeFileAtomic(p, b, 0o640); err != nil {
			return err
		}
	}
	return nil
}

// directory reads the station directory: the data directory's file, or
// the defaults when there is none.
func (d dataDir) directory() (*cable.Directory, error) {
	b, err := os.ReadFile(filepath.Join(d.path, directoryFile))
	if errors.Is(err, fs.ErrNotExist) || d.path == "" {
		b, _ = defaults.ReadFile("demo/" + directoryFile)
	} else if err != nil {
		return nil, err
	}
	dir, err := cable.ParseDirectory(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(d.path, directoryFile), err)
	}
	return dir, nil
}

// rules reads the routing rules.
func (d dataDir) rules(dir *cable.Directory) (*cable.RoutingRules, error) {
	p := filepath.Join(d.path, rulesFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	rr, err := cable.ParseRoutingRules(b, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return rr, nil
}

// routes reads the routes file, if there is one: without it every
// destination is sent direct. With demo and no file, a node that hosts no
// relay routes everything via the demo relay WAR, as the demo network's
// posts and hub do.
func (d dataDir) routes(dir *cable.Directory, demo bool, hosted []string) (*cable.Routes, error) {
	p := filepath.Join(d.path, routesFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if !demo || hostsRelay(dir, hosted) {
			return nil, nil
		}
		b = []byte("# Demo routes: everything goes by the relay WAR.\n* via WAR\n")
		if err := writeFileAtomic(p, b, 0o640); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	r, err := cable.ParseRoutes(b, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return r, nil
}

func hostsRelay(dir *cable.Directory, hosted []string) bool {
	for _, s := range hosted {
		if st, err := dir.Station(s); err == nil && st.Kind == cable.Relay {
			return true
		}
	}
	return false
}

// openRecords opens the records store: PostgreSQL when dsn is given,
// otherwise the data directory's SQLite file.
func (d dataDir) openRecords(ctx context.Context, dsn string) (cable.Records, error) {
	if dsn != "" {
		return postgres.Open(ctx, dsn)
	}
	if err := os.MkdirAll(d.path, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(d.path, databaseFile))
}

// writeFileAtomic writes through a synced temporary file and a rename, so
// a crash leaves the old file or the new one, never half of one.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// newForm returns the text form over dir.
func newForm(dir *cable.Directory) cable.TextForm { return textform.New(dir) }

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func newLogger(level string, w *os.File) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// secret returns the 32-byte key kept in the named file of the data
// directory, making it on first use. Nodes sharing a data directory (or a
// copy of the file, behind a load balancer) share the key.
func (d dataDir) secret(name string) ([]byte, error) {
	p := filepath.Join(d.path, name)
	b, err := os.ReadFile(p)
	if err == nil && len(b) == 32 {
		return b, nil
	} else if err == nil {
		return nil, fmt.Errorf("%s: want 32 bytes, found %d", p, len(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(p, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}
