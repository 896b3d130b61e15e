package runtime

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodesim/nodesim/sim"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpus in testdata/fuzz/FuzzReadArchive")

// validArchive is a checkpoint archive as CheckpointContainer writes it.
func validArchive(t testing.TB) []byte {
	t.Helper()
	content := &archiveContent{
		config: configDump{
			ID: "abc123", Name: "counter_counters_default_uid_0", RootfsImageName: "busybox",
			CheckpointedAt: sim.Epoch.Add(90 * time.Second), PodName: "counters", PodNamespace: "default",
			PodUID: "uid", ContainerName: "counter", Node: "node-a",
		},
		spec:    map[string]any{"ociVersion": "1.2.1"},
		status:  map[string]any{"id": "abc123"},
		process: processDump{ProcessState: stateOf(90*time.Second + time.Millisecond), MemoryBytes: 64 << 20},
		log:     []byte("2026-01-01T00:00:00Z stdout F start counter=0\n"),
	}
	var buf bytes.Buffer
	if err := writeArchive(&buf, content, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entry is one tar entry of a hand-made archive.
type entry struct {
	name string
	typ  byte
	body string
}

// entriesOf lists a tar's entries.
func entriesOf(t testing.TB, b []byte) []entry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out = append(out, entry{h.Name, h.Typeflag, string(body)})
	}
}

func tarOf(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o600, Size: int64(len(e.body))}
		if e.typ == tar.TypeSymlink {
			h.Linkname, h.Size = "/etc/passwd", 0
		}
		if e.typ == tar.TypeDir {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// edit returns the valid archive with fn applied to its entries.
func edit(t testing.TB, fn func([]entry) []entry) []byte {
	return tarOf(t, fn(entriesOf(t, validArchive(t))))
}

func replaceBody(name, body string) func([]entry) []entry {
	return func(es []entry) []entry {
		for i := range es {
			if es[i].name == name {
				es[i].body = body
			}
		}
		return es
	}
}

func TestReadArchive(t *testing.T) {
	a, err := readArchive(bytes.NewReader(validArchive(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := "counters default counter node-a 2026-01-01T00:01:30Z 67108864 {90 90001000000}\n"
	if got := fmt.Sprintln(a.Pod, a.Namespace, a.Container, a.Node, a.CheckpointedAt.Format(time.RFC3339), a.MemoryBytes, a.Process); got != want {
		t.Errorf("archive %q, want %q", got, want)
	}
}

func TestReadArchiveRejects(t *testing.T) {
	drop := func(name string) func([]entry) []entry {
		return func(es []entry) []entry {
			var out []entry
			for _, e := range es {
				if e.name != name {
					out = append(out, e)
				}
			}
			return out
		}
	}
	add := func(e entry) func([]entry) []entry {
		return func(es []entry) []entry { return append(es, e) }
	}
	for _, tc := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty file", nil, "not a tar archive"},
		{"text", []byte("apiVersion: v1\nkind: Pod\n" + strings.Repeat("x", 600)), "not a tar archive"},
		{"truncated", validArchive(t)[:700], "unexpected EOF"},
		{"missing config", edit(t, drop(ConfigDumpFile)), "config.dump is missing"},
		{"missing pages", edit(t, drop(PagesFile)), "checkpoint/pages-1.img is missing"},
		{"missing rootfs diff", edit(t, drop(RootFsDiffTar)), "rootfs-diff.tar is missing"},
		{"bad config JSON", edit(t, replaceBody(ConfigDumpFile, "{")), "config.dump: bad JSON"},
		{"config without pod", edit(t, replaceBody(ConfigDumpFile, `{"id":"x","checkpointedTime":"2026-01-01T00:00:00Z"}`)), "io.kubernetes.pod.name is empty"},
		{"spec not an object", edit(t, replaceBody(SpecDumpFile, "null")), "spec.dump: not a JSON object"},
		{"trailing JSON", edit(t, replaceBody(StatusDumpFile, "{} {}")), "data after the object"},
		{"counter mismatch", edit(t, replaceBody(ProcessFile, `{"counter":5,"runningNanoseconds":90000000000,"memoryBytes":67108864}`)), "does not match"},
		{"negative memory", edit(t, replaceBody(ProcessFile, `{"counter":0,"runningNanoseconds":0,"memoryBytes":-1}`)), "must not be negative"},
		{"pages header", edit(t, replaceBody(PagesFile, "garbage")), "header"},
		{"pages size", edit(t, replaceBody(PagesFile, pagesMagic+"12\n")), "does not match"},
		{"absolute path", edit(t, add(entry{"/etc/cron.d/x", tar.TypeReg, "x"})), "absolute path"},
		{"dot dot", edit(t, add(entry{"checkpoint/../../x", tar.TypeReg, "x"})), "leaves the archive"},
		{"dot dot alone", edit(t, add(entry{"..", tar.TypeDir, ""})), "leaves the archive"},
		{"symlink", edit(t, add(entry{"checkpoint/link", tar.TypeSymlink, ""})), "only files and directories"},
		{"duplicate", edit(t, add(entry{ConfigDumpFile, tar.TypeReg, "{}"})), "appears twice"},
		{"double slash", edit(t, add(entry{"checkpoint//x", tar.TypeReg, ""})), "not a clean relative path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readArchive(bytes.NewReader(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestReadArchiveNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.tar")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, dir, filepath.Join(dir, "missing.tar")} {
		if _, err := ReadArchive(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadArchive(%s): %v, want an error naming it", p, err)
		}
	}
}

// FuzzReadArchive: no input panics, and whatever is accepted is
// consistent. Run: go test ./runtime -run '^$' -fuzz FuzzReadArchive -fuzztime 60s
func FuzzReadArchive(f *testing.F) {
	valid := validArchive(f)
	seeds := map[string][]byte{
		"valid":      valid,
		"truncated":  valid[:len(valid)/2],
		"dotdot":     edit(f, func(es []entry) []entry { return append(es, entry{"../x", tar.TypeReg, "x"}) }),
		"badprocess": edit(f, replaceBody(ProcessFile, `{"counter":1}`)),
	}
	if *updateSeeds {
		dir := filepath.Join("testdata", "fuzz", "FuzzReadArchive")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for name, b := range seeds {
			text := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	for _, b := range seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := readArchive(bytes.NewReader(b))
		if err != nil {
			return
		}
		if a.Pod == "" || a.Node == "" || a.Process.Counter != a.Process.RunningNanoseconds/int64(time.Second) || a.MemoryBytes < 0 {
			t.Fatalf("accepted an inconsistent archive: %+v", a)
		}
	})
}
