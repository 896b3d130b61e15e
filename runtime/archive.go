package runtime

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nodesim/nodesim/internal/hostfile"
)

// The entries of a checkpoint archive, as containerd writes them (names from
// checkpoint-restore/checkpointctl's metadata), plus nodesim's process
// state.
const (
	ConfigDumpFile      = "config.dump"     // checkpointctl's ContainerConfig plus the pod, namespace and node
	SpecDumpFile        = "spec.dump"       // the OCI runtime spec
	StatusDumpFile      = "status.dump"     // the CRI ContainerStatus
	StatsDumpFile       = "stats-dump"      // CRIU's dump statistics (JSON here, protobuf in CRIU)
	CheckpointDirectory = "checkpoint"      // CRIU's images
	RootFsDiffTar       = "rootfs-diff.tar" // the writable layer's changes
	ContainerLogFile    = "container.log"   // the container's log, restored with it
	// PagesFile holds the simulated memory pages: a header line with the
	// working set's size, then a deterministic 4 KiB sample, never the
	// whole size.
	PagesFile = CheckpointDirectory + "/pages-1.img"
	// ProcessFile holds the process state (ProcessState and memory size).
	ProcessFile = CheckpointDirectory + "/process.json"
)

// pagesMagic starts PagesFile.
const pagesMagic = "NODESIM-PAGES v1 size="

// Bounds that keep a hostile archive from exhausting memory.
const (
	maxMetadataBytes = 1 << 20
	maxLogBytes      = 16 << 20
	pagesSampleBytes = 4096
)

// Archive is what a checkpoint archive says.
type Archive struct {
	// Path is the archive's file.
	Path string `json:"path"`
	// Pod, Namespace, PodUID name the checkpointed container's pod.
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	PodUID    string `json:"podUID"`
	// Container and ContainerID name the container.
	Container   string `json:"container"`
	ContainerID string `json:"containerID"`
	// Node is the node whose runtime wrote the archive.
	Node string `json:"node"`
	// Image and ImageRef are the container's image.
	Image    string `json:"image"`
	ImageRef string `json:"imageRef"`
	// CheckpointedAt is the virtual time the process state was taken.
	CheckpointedAt time.Time `json:"checkpointedAt"`
	// MemoryBytes is the simulated memory working set dumped.
	MemoryBytes int64 `json:"memoryBytes"`
	// Process is the process state a restore continues from.
	Process ProcessState `json:"process"`
	// Log is the container's log up to the checkpoint.
	Log []byte `json:"-"`
}

// configDump is config.dump: checkpointctl's ContainerConfig fields (as
// containerd fills them) and the pod's identity under the kubelet's label
// keys.
type configDump struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	RootfsImage     string    `json:"rootfsImage,omitempty"`
	RootfsImageRef  string    `json:"rootfsImageRef,omitempty"`
	RootfsImageName string    `json:"rootfsImageName,omitempty"`
	OCIRuntime      string    `json:"runtime,omitempty"`
	CreatedTime     time.Time `json:"createdTime"`
	CheckpointedAt  time.Time `json:"checkpointedTime"`
	PodName         string    `json:"io.kubernetes.pod.name"`
	PodNamespace    string    `json:"io.kubernetes.pod.namespace"`
	PodUID          string    `json:"io.kubernetes.pod.uid"`
	ContainerName   string    `json:"io.kubernetes.container.name"`
	Node            string    `json:"nodesim.dev/node"`
}

// processDump is checkpoint/process.json.
type processDump struct {
	ProcessState
	MemoryBytes int64 `json:"memoryBytes"`
}

// statsDump is stats-dump: CRIU's dump statistics.
type statsDump struct {
	Dump struct {
		FreezingTime int64 `json:"freezingTime"`
		FrozenTime   int64 `json:"frozenTime"`
		MemdumpTime  int64 `json:"memdumpTime"`
		MemwriteTime int64 `json:"memwriteTime"`
		PagesScanned int64 `json:"pagesScanned"`
		PagesWritten int64 `json:"pagesWritten"`
	} `json:"dump"`
}

// archiveContent is everything an archive is written from.
type archiveContent struct {
	config  configDump
	spec    any
	status  any
	process processDump
	took    time.Duration
	log     []byte
}

// writeArchive writes a checkpoint archive to w. If fail is set, it fails
// with it half-way, as a full disk would.
func writeArchive(w io.Writer, a *archiveContent, fail error) error {
	tw := tar.NewWriter(w)
	at := a.config.CheckpointedAt
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o700, ModTime: at, Uname: "root", Gname: "root"})
	}
	file := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: at, Uname: "root", Gname: "root"}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	jsonFile := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		return file(name, b)
	}
	var stats statsDump
	stats.Dump.FreezingTime = 1000
	stats.Dump.FrozenTime = a.took.Microseconds()
	stats.Dump.MemdumpTime = a.took.Microseconds() / 2
	stats.Dump.MemwriteTime = a.took.Microseconds() / 2
	stats.Dump.PagesScanned = a.process.MemoryBytes / 4096
	stats.Dump.PagesWritten = a.process.MemoryBytes / 4096
	rootfs, err := rootfsDiff(a)
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error { return jsonFile(ConfigDumpFile, a.config) },
		func() error { return jsonFile(SpecDumpFile, a.spec) },
		func() error { return jsonFile(StatusDumpFile, a.status) },
		func() error { return fail }, // nil unless a failure is injected
		func() error { return jsonFile(StatsDumpFile, stats) },
		func() error { return dir(CheckpointDirectory) },
		func() error { return file(PagesFile, pages(a)) },
		func() error { return jsonFile(ProcessFile, a.process) },
		func() error { return file(RootFsDiffTar, rootfs) },
		func() error { return file(ContainerLogFile, a.log) },
		tw.Close,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// pages is the simulated memory image: its size, then a sample drawn from
// a stream seeded by the container and its running time.
func pages(a *archiveContent) []byte {
	h := fnv.New64a()
	h.Write([]byte(a.config.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(a.process.RunningNanoseconds)))
	b := make([]byte, 0, 64+pagesSampleBytes)
	b = append(b, pagesMagic...)
	b = strconv.AppendInt(b, a.process.MemoryBytes, 10)
	b = append(b, '\n')
	for range pagesSampleBytes / 8 {
		b = binary.LittleEndian.AppendUint64(b, rng.Uint64())
	}
	return b
}

// rootfsDiff is the writable layer's changes: the file the process keeps
// its counter in.
func rootfsDiff(a *archiveContent) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	at := a.config.CheckpointedAt
	body := strconv.AppendInt(nil, a.process.Counter, 10)
	body = append(body, '\n')
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "var/", Mode: 0o755, ModTime: at},
		{Typeflag: tar.TypeDir, Name: "var/lib/", Mode: 0o755, ModTime: at},
		{Typeflag: tar.TypeDir, Name: "var/lib/counter/", Mode: 0o755, ModTime: at},
		{Typeflag: tar.TypeReg, Name: "var/lib/counter/value", Mode: 0o644, ModTime: at, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("write %s: %w", RootFsDiffTar, err)
		}
	}
	if _, err := tw.Write(body); err != nil {
		return nil, fmt.Errorf("write %s: %w", RootFsDiffTar, err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", RootFsDiffTar, err)
	}
	return buf.Bytes(), nil
}

// ReadArchive reads a checkpoint archive, checking that it is one: a tar
// whose entries are all relative, free of "..", plain files or
// directories, holding every file a checkpoint has with valid content.
func ReadArchive(path string) (*Archive, error) {
	// Stat first, and open without blocking: a FIFO named as an archive
	// (a pod's image, `nodesim checkpoint inspect`) must never be opened
	// for a read that waits for a writer.
	f, err := hostfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint archive: %w", err)
	}
	defer f.Close()
	a, err := readArchive(f)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint archive %s: %w", path, err)
	}
	a.Path = path
	return a, nil
}

// readArchive parses an archive from r.
func readArchive(r io.Reader) (*Archive, error) {
	tr := tar.NewReader(r)
	files := map[string][]byte{}
	seen := map[string]bool{}
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if i == 0 {
				return nil, errors.New("not a tar archive: it holds no entries")
			}
			break
		}
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("not a tar archive: %w", err)
			}
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("entry %q appears twice", h.Name)
		}
		seen[name] = true
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("entry %q is of tar type %q: only files and directories belong in a checkpoint", h.Name, string(h.Typeflag))
		}
		limit := int64(maxMetadataBytes)
		switch name {
		case ContainerLogFile:
			limit = maxLogBytes
		case ConfigDumpFile, SpecDumpFile, StatusDumpFile, StatsDumpFile, PagesFile, ProcessFile, RootFsDiffTar:
		default:
			continue // other CRIU images: not needed
		}
		if h.Size > limit {
			return nil, fmt.Errorf("entry %q is %d bytes, more than the %d a checkpoint's has", name, h.Size, limit)
		}
		b, err := io.ReadAll(io.LimitReader(tr, limit))
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		files[name] = b
	}
	for _, name := range []string{ConfigDumpFile, SpecDumpFile, StatusDumpFile, StatsDumpFile, PagesFile, ProcessFile, RootFsDiffTar} {
		if _, ok := files[name]; !ok {
			return nil, fmt.Errorf("%s is missing: not a container checkpoint", name)
		}
	}
	var cfg configDump
	if err := decodeJSON(files[ConfigDumpFile], &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigDumpFile, err)
	}
	for _, f := range [...]struct{ field, v string }{
		{"id", cfg.ID},
		{"io.kubernetes.pod.name", cfg.PodName},
		{"io.kubernetes.pod.namespace", cfg.PodNamespace},
		{"io.kubernetes.container.name", cfg.ContainerName},
		{"nodesim.dev/node", cfg.Node},
	} {
		if f.v == "" {
			return nil, fmt.Errorf("%s: %s is empty", ConfigDumpFile, f.field)
		}
	}
	if cfg.CheckpointedAt.IsZero() {
		return nil, fmt.Errorf("%s: checkpointedTime is missing", ConfigDumpFile)
	}
	for _, name := range []string{SpecDumpFile, StatusDumpFile, StatsDumpFile} {
		var obj map[string]any
		if err := decodeJSON(files[name], &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if obj == nil {
			return nil, fmt.Errorf("%s: not a JSON object", name)
		}
	}
	var proc processDump
	if err := decodeJSON(files[ProcessFile], &proc); err != nil {
		return nil, fmt.Errorf("%s: %w", ProcessFile, err)
	}
	if proc.RunningNanoseconds < 0 || proc.MemoryBytes < 0 {
		return nil, fmt.Errorf("%s: running time %d ns and memory %d bytes must not be negative", ProcessFile, proc.RunningNanoseconds, proc.MemoryBytes)
	}
	if want := proc.RunningNanoseconds / int64(time.Second); proc.Counter != want {
		return nil, fmt.Errorf("%s: counter %d does not match %d ns of running (%d)", ProcessFile, proc.Counter, proc.RunningNanoseconds, want)
	}
	header, _, ok := bytes.Cut(files[PagesFile], []byte("\n"))
	size, found := bytes.CutPrefix(header, []byte(pagesMagic))
	if !ok || !found {
		return nil, fmt.Errorf("%s: no %q header", PagesFile, pagesMagic)
	}
	if n, err := strconv.ParseInt(string(size), 10, 64); err != nil || n != proc.MemoryBytes {
		return nil, fmt.Errorf("%s: size %q does not match the %d bytes of %s", PagesFile, size, proc.MemoryBytes, ProcessFile)
	}
	return &Archive{
		Pod:            cfg.PodName,
		Namespace:      cfg.PodNamespace,
		PodUID:         cfg.PodUID,
		Container:      cfg.ContainerName,
		ContainerID:    cfg.ID,
		Node:           cfg.Node,
		Image:          cfg.RootfsImageName,
		ImageRef:       cfg.RootfsImageRef,
		CheckpointedAt: cfg.CheckpointedAt,
		MemoryBytes:    proc.MemoryBytes,
		Process:        proc.ProcessState,
		Log:            files[ContainerLogFile],
	}, nil
}

// entryName checks a tar entry's name and returns it without "./" or a
// trailing slash.
func entryName(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("an entry has no name")
	}
	if strings.HasPrefix(raw, "/") {
		return "", fmt.Errorf("entry %q has an absolute path", raw)
	}
	if strings.ContainsRune(raw, 0) || strings.Contains(raw, "\\") {
		return "", fmt.Errorf("entry %q has a NUL or backslash in its name", raw)
	}
	name := strings.TrimSuffix(strings.TrimPrefix(raw, "./"), "/")
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the archive with ..", raw)
		}
		if part == "" || part == "." {
			return "", fmt.Errorf("entry %q is not a clean relative path", raw)
		}
	}
	return name, nil
}

// decodeJSON decodes one JSON object, rejecting trailing data.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	if dec.More() {
		return errors.New("bad JSON: data after the object")
	}
	return nil
}
