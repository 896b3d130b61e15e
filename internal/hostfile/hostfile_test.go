package hostfile_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nodesim/nodesim/internal/hostfile"
)

// TestRefusesSpecialFiles checks that a FIFO, a socket and a device are
// refused without being opened: opening the FIFO for reading with no
// writer would block forever, so the test would hang if it were.
func TestRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "f.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sock := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	regular := filepath.Join(dir, "r.conf")
	if err := os.WriteFile(regular, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, what string }{
		{fifo, "a named pipe (FIFO)"},
		{link, "a named pipe (FIFO)"},
		{sock, "a socket"},
		{"/dev/null", "a character device"},
		{dir, "a directory"},
	} {
		_, err := hostfile.ReadFile(tc.path, 1<<20)
		if !errors.Is(err, hostfile.ErrNotRegular) {
			t.Errorf("ReadFile(%s) = %v, want ErrNotRegular", tc.path, err)
			continue
		}
		if want := tc.path + " is " + tc.what; err.Error()[:len(want)] != want {
			t.Errorf("ReadFile(%s) = %q, want it to start %q", tc.path, err, want)
		}
	}
	data, err := hostfile.ReadFile(regular, 5)
	if err != nil || string(data) != "hello" {
		t.Errorf("ReadFile(regular) = %q, %v", data, err)
	}
	if _, err := hostfile.ReadFile(regular, 4); !errors.Is(err, hostfile.ErrTooLarge) {
		t.Errorf("ReadFile over the limit = %v, want ErrTooLarge", err)
	}
}
