// Command gen writes nodesim's Grafana dashboards as JSON into the
// directory given (make dashboards: dashboards/).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodesim/nodesim/dashboards"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	all, err := dashboards.All()
	if err != nil {
		return err
	}
	for _, d := range all {
		if err := os.WriteFile(filepath.Join(dir, d.File), d.JSON, 0o644); err != nil {
			return fmt.Errorf("write dashboard %s: %w", d.UID, err)
		}
	}
	return nil
}
