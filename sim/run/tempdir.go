package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in each of nodesim's temporary folders (and in a
// run's output directory) that the process using the folder holds an
// exclusive flock on, with its pid in it for people. The kernel drops the
// lock when the process dies, however it dies, so a folder whose lock can
// be taken belongs to no live process.
const LockFile = ".nodesim.lock"

// TempPrefix starts the name of every temporary folder nodesim makes.
const TempPrefix = "nodesim-"

// lock is a held flock on a folder's LockFile.
type lock struct{ f *os.File }

// lockDir takes dir's LockFile, creating it, and writes this process's
// pid in it; held is true when another live process holds it. wait waits
// for the lock instead (a sweeper holds a fresh folder's lock only for a
// moment).
func lockDir(dir string, wait bool) (l *lock, held bool, err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, err
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lock{f: f}, false, nil
}

// stale says whether dir's LockFile is free and was written by a process
// (it holds a pid): an empty one is a folder whose maker has not locked it
// yet.
func stale(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Size() > 0
}

// release drops the lock and removes its file.
func (l *lock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.f.Name())
	l.f.Close()
	l.f = nil
}

// TempDir makes a temporary folder named TempPrefix+name+"-*" holding a
// lock for as long as this process lives, so that RemoveStaleTempDirs of
// a later process removes it if this one is killed before it could. The
// returned function removes it.
func TempDir(name string) (string, func(), error) {
	dir, err := os.MkdirTemp("", TempPrefix+name+"-")
	if err != nil {
		return "", nil, err
	}
	l, _, err := lockDir(dir, true)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return dir, func() {
		os.RemoveAll(dir)
		l.release()
	}, nil
}

// RemoveStaleTempDirs removes the temporary folders of nodesim processes
// that died without removing them (a SIGKILL, a crash): those whose lock
// no live process holds. A folder without a lock file is not one TempDir
// made, and is left alone. It returns the folders removed.
func RemoveStaleTempDirs() []string {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), TempPrefix) {
			continue
		}
		dir := filepath.Join(os.TempDir(), e.Name())
		if stale(dir) && os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

// removeStaleOutputs removes what a killed run left in its output
// directory: the temporary files writeFileAtomic and Run write through
// (".trace.jsonl.tmp-*", ".summary.json.tmp-*", ...). The caller holds
// the directory's lock, so no live run is writing them.
func removeStaleOutputs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, n))
		}
	}
}
