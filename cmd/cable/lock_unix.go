//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes the data directory for this process alone, until the
// returned function is called or the process ends (a kill -9 included):
// two nodes on one JetStream store would both take custody of, and
// acknowledge, the same messages.
func lockDataDir(dir string) (func() error, error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the data directory %s is in use by another cable node (%s is locked): stop that node first", dir, path)
		}
		return nil, fmt.Errorf("lock the data directory: %s: %w", path, err)
	}
	return f.Close, nil // closing the file releases the lock
}
