package scenarios_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nodesim/nodesim/scenarios"
)

// FuzzParse holds Parse to its promise: on any input it returns either a
// valid scenario or errors that name the file, never a panic.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./scenarios/
func FuzzParse(f *testing.F) {
	for _, file := range exampleFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		"", "---\n", "- a\n", "a: *b\n", head, head + "---\n" + head,
		head + "    labels: &l {a: b}\n  - <<: {name: c, count: 1}\n    labels: *l\n",
		head + "    registerWithTaints: [a=b:NoSchedule, {key: c, effect: NoExecute}]\n",
		head + "    capacity: {cpu: 500m, hugepages-2Mi: 1Gi, example.com/gpu: 4}\n",
		head + "  controlPlane: {}\n  timeline: [{at: 5m, do: partition}]\n",
		"spec: &s {<<: *s}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("f.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatalf("a scenario along with error %v", err)
			}
			var first *scenarios.Error
			if !errors.As(err, &first) {
				t.Fatalf("error %v (%T) holds no *scenarios.Error", err, err)
			}
			for _, e := range all(t, err) {
				if e.File != "f.yaml" || e.Line < 0 || e.Message == "" || !strings.HasPrefix(e.Error(), "f.yaml") {
					t.Fatalf("malformed error %#v", e)
				}
			}
			return
		}
		if s == nil || s.Name == "" || s.Duration <= 0 || s.NodeCount() > scenarios.MaxNodes {
			t.Fatalf("invalid scenario accepted: %+v", s)
		}
		names := make(map[string]bool)
		for _, p := range s.NodePools {
			if p.Name == "" || p.Count < 0 || names[p.Name] || p.Capacity == nil {
				t.Fatalf("invalid pool accepted: %+v", p)
			}
			names[p.Name] = true
			if p.Count > 0 && len(p.NodeName(p.Count-1)) > 63 {
				t.Fatalf("node name %s too long", p.NodeName(p.Count-1))
			}
		}
	})
}
