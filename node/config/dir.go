package config

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/nodesim/nodesim/internal/hostfile"
)

// MaxFileSize is the largest drop-in ReadDir reads.
const MaxFileSize = 1 << 20

// ReadDir reads a --config-dir directory as the kubelet walks it
// (filepath.WalkDir: lexical order, subdirectories included), naming each
// file by its path relative to dir with "/" separators. Only the files
// whose name ends in .conf are read, and each must be a regular file (or a
// symbolic link to one): a FIFO, socket or device there is an error, found
// by a stat and never opened, where the kubelet would block opening it.
// The other files are returned without data, for Load to list as skipped.
func ReadDir(dir string) ([]Document, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("read kubelet drop-in directory %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("read kubelet drop-in directory %s: it is %s, not a directory", dir, hostfile.Describe(fi.Mode()))
	}
	docs := []Document{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if path.Ext(path.Base(name)) != DropinExtension {
			docs = append(docs, Document{Name: name})
			return nil
		}
		data, err := hostfile.ReadFile(p, MaxFileSize)
		if err != nil {
			return err
		}
		docs = append(docs, Document{Name: name, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read kubelet drop-in directory %s: %w", dir, err)
	}
	return docs, nil
}
