// Package hostfile reads files a user names (scenario files, kubelet
// drop-ins, checkpoint archives) without ever blocking on one that is not
// a regular file: a FIFO, a socket or a device is refused after a stat,
// never opened for a blocking read.
//
// It may not read anything but regular files, and does no other I/O.
package hostfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is the error of a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Describe names a file mode for messages: "a named pipe (FIFO)", "a
// socket", "a device", "a directory".
func Describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a regular file"
}

// CheckRegular stats path (following symbolic links) and returns its
// information if it is a regular file, else an error wrapping
// ErrNotRegular that says what it is.
func CheckRegular(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s: %w", path, Describe(fi.Mode()), ErrNotRegular)
	}
	return fi, nil
}

// Open opens a regular file for reading. It stats the path first and
// refuses anything else; the open itself is non-blocking (O_NONBLOCK), so
// that a FIFO swapped in between the stat and the open cannot block the
// caller, and the opened file is checked to be the one stat'ed.
func Open(path string) (*os.File, error) {
	fi, err := CheckRegular(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	ofi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !ofi.Mode().IsRegular() || !os.SameFile(fi, ofi) {
		f.Close()
		return nil, fmt.Errorf("%s changed while it was opened: %w", path, ErrNotRegular)
	}
	return f, nil
}

// ErrTooLarge is the error of a file larger than a read's limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads a regular file of at most limit bytes (see Open).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", path, limit, ErrTooLarge)
	}
	return data, nil
}
