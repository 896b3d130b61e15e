package config

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxFileSize is the largest drop-in ReadDir reads.
const MaxFileSize = 1 << 20

// ReadDir reads a --config-dir directory as the kubelet walks it
// (filepath.WalkDir: lexical order, subdirectories included), returning
// every regular file, .conf or not (Load skips the others), named by its
// path relative to dir with "/" separators.
func ReadDir(dir string) ([]Document, error) {
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
		data, err := readLimited(p)
		if err != nil {
			return err
		}
		docs = append(docs, Document{Name: filepath.ToSlash(rel), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read kubelet drop-in directory %s: %w", dir, err)
	}
	return docs, nil
}

func readLimited(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, MaxFileSize)
	}
	return data, nil
}
