package scenarios

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/nodesim/nodesim/internal/levenshtein"
)

// maxWork bounds the YAML nodes Parse visits, counting each visit through an
// alias or merge key again, so that a small file of nested aliases (a
// "billion laughs") cannot make it run for ever.
const maxWork = 1_000_000

// decoder walks a YAML node tree against the scenario schema and collects
// every problem it meets, with its line and field path, instead of stopping
// at the first.
type decoder struct {
	file    string
	errs    []*Error
	work    int
	stopped bool                // the work budget ran out
	merging map[*yaml.Node]bool // mappings being expanded by merge keys, to catch cycles

	// Sections with problems: what refers to them is not checked against
	// them, so that one mistake gives one error, not a cascade.
	badPools, badWorkloads, badTimeline bool
}

// entry is one key of a mapping with its value, aliases resolved.
type entry struct {
	key     string
	keyNode *yaml.Node
	value   *yaml.Node
}

// schema is what a mapping may hold.
type schema struct {
	// fields are the keys this version of nodesim implements.
	fields []string
	// later are keys the scenario format defines (INTERFACE.md) that this
	// version of nodesim does not implement yet.
	later []string
}

func (d *decoder) addf(line int, field, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns the collected problems: nil, one *Error, or an ErrorList in
// line order without repeats (a value reached through several aliases is
// reported once per field path).
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	type key struct {
		line           int
		field, message string
	}
	seen := make(map[key]bool, len(d.errs))
	var list ErrorList
	for _, e := range d.errs {
		k := key{e.Line, e.Field, e.Message}
		if !seen[k] {
			seen[k] = true
			list = append(list, e)
		}
	}
	slices.SortStableFunc(list, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	if len(list) > MaxErrors {
		more := len(list) - MaxErrors
		list = append(list[:MaxErrors:MaxErrors], &Error{File: d.file, Message: fmt.Sprintf("%d more errors not shown", more)})
	}
	if len(list) == 1 {
		return list[0]
	}
	return list
}

// parseYAML parses data as one YAML document and returns its root node, or
// nil after recording why it cannot.
func (d *decoder) parseYAML(data []byte) (root *yaml.Node) {
	defer func() {
		// The YAML library reports most problems as errors but a few
		// malformed inputs as panics; bad input must never crash nodesim.
		if r := recover(); r != nil {
			d.addf(0, "", "not valid YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.addf(0, "", "empty file: a scenario needs apiVersion, kind, metadata and spec")
			return nil
		}
		d.yamlError(err)
		return nil
	}
	// Documents after the first must be empty: a lone '---' at the end is
	// harmless, a second scenario in the same file is not.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.yamlError(err)
			return nil
		}
		if len(next.Content) > 0 && !isNull(next.Content[0]) {
			d.addf(next.Line, "", "a second YAML document: a scenario file holds exactly one (remove the '---' line)")
			return nil
		}
	}
	if len(doc.Content) == 0 {
		d.addf(0, "", "empty file: a scenario needs apiVersion, kind, metadata and spec")
		return nil
	}
	return doc.Content[0]
}

var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// parserProblems are the messages of the YAML library's parser (as opposed
// to its scanner). It reports their lines 0-based and leaves the line out
// when it is 0, so Parse adds one (go-yaml parserc.go and decode.go's
// parser.fail).
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// yamlError records a syntax error of the YAML library with its line.
func (d *decoder) yamlError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if slices.Contains(parserProblems, msg) {
		line++
	}
	d.addf(line, "", "not valid YAML: %s", msg)
}

// charge counts one visited node against the work budget and reports
// whether the walk may go on.
func (d *decoder) charge() bool {
	if d.stopped {
		return false
	}
	d.work++
	if d.work > maxWork {
		d.stopped = true
		d.addf(0, "", "the document is too complex: its aliases expand to more than %d nodes", maxWork)
		return false
	}
	return true
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	// An anchor is never on an alias, so one step is enough; the bound
	// only guards against a malformed tree.
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what a node is, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "empty"
		}
		if !strings.HasPrefix(n.Tag, "!!") {
			return "a value tagged " + n.Tag
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "a YAML node of an unknown kind"
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// join appends a key to a field path as users write it: spec.seed,
// capacity.cpu, but labels[topology.kubernetes.io/zone] for keys that are
// not plain words.
func join(path, key string) string {
	switch {
	case !plainKey.MatchString(key):
		return path + "[" + key + "]"
	case path == "":
		return key
	default:
		return path + "." + key
	}
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// mapping returns the entries of a mapping node, aliases resolved and merge
// keys (<<) applied, keys as written first. It reports a node that is not
// a mapping, keys that are not scalars and duplicate keys.
func (d *decoder) mapping(n *yaml.Node, path string) []entry {
	n = resolve(n)
	if !d.charge() {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.addf(n.Line, path, "must be a mapping, not %s", describe(n))
		return nil
	}
	if d.merging[n] {
		d.addf(n.Line, path, "a merge key (<<) includes the mapping it is in")
		return nil
	}
	var out []entry
	var merges []*yaml.Node
	first := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !d.charge() {
			return nil
		}
		k, v := n.Content[i], n.Content[i+1]
		kr := resolve(k)
		if kr.Kind == yaml.ScalarNode && kr.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if kr.Kind != yaml.ScalarNode || isNull(kr) || kr.Value == "" {
			d.addf(k.Line, path, "keys must be non-empty strings, not %s", describe(kr))
			continue
		}
		key := kr.Value
		if line, dup := first[key]; dup {
			d.addf(k.Line, join(path, key), "duplicate key (first at line %d)", line)
			continue
		}
		first[key] = k.Line
		out = append(out, entry{key: key, keyNode: k, value: resolve(v)})
	}
	if len(merges) == 0 {
		return out
	}
	if d.merging == nil {
		d.merging = make(map[*yaml.Node]bool)
	}
	d.merging[n] = true
	defer delete(d.merging, n)
	for _, m := range merges {
		mr := resolve(m)
		sources := []*yaml.Node{mr}
		if mr.Kind == yaml.SequenceNode {
			sources = mr.Content
		}
		for _, src := range sources {
			if src = resolve(src); src.Kind != yaml.MappingNode {
				d.addf(src.Line, path, "a merge key (<<) takes a mapping or a list of mappings, not %s", describe(src))
				continue
			}
			// Keys written in the mapping win over merged ones, and an
			// earlier merged mapping over a later one (YAML merge key).
			for _, e := range d.mapping(src, path) {
				if _, ok := first[e.key]; !ok {
					first[e.key] = e.keyNode.Line
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// fields returns the entries of a mapping that s implements and that are
// not null (null means "not set"), reporting unknown keys and keys this
// version does not implement yet.
func (d *decoder) fields(n *yaml.Node, path string, s schema) []entry {
	var out []entry
	for _, e := range d.mapping(n, path) {
		switch {
		case slices.Contains(s.later, e.key):
			d.addf(e.keyNode.Line, join(path, e.key), "not supported yet by this version of nodesim")
		case !slices.Contains(s.fields, e.key):
			d.addf(e.keyNode.Line, join(path, e.key), "unknown field %q%s", e.key, suggest(e.key, s))
		case !isNull(e.value):
			out = append(out, e)
		}
	}
	return out
}

// suggest names the known field an unknown key was probably meant to be,
// or lists the known fields.
func suggest(key string, s schema) string {
	all := append(slices.Clone(s.fields), s.later...)
	for _, f := range all {
		if strings.EqualFold(f, key) || (len(key) > 3 && levenshtein.Distance(strings.ToLower(f), strings.ToLower(key)) <= 2) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
	}
	return "; known fields: " + strings.Join(s.fields, ", ")
}

// sequence returns the items of a list node, aliases resolved.
func (d *decoder) sequence(n *yaml.Node, path string) []*yaml.Node {
	if !d.charge() {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.addf(n.Line, path, "must be a list, not %s", describe(n))
		return nil
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, item := range n.Content {
		if !d.charge() {
			return nil
		}
		items = append(items, resolve(item))
	}
	return items
}

// text returns a scalar's text. Numbers, booleans and dates are taken as
// written (kernelVersion: 6.8 is "6.8"), as YAML decoders do for string
// fields.
func (d *decoder) text(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
			return n.Value, true
		}
	}
	d.addf(n.Line, path, "must be a string, not %s", describe(n))
	return "", false
}

// integer returns a scalar that is a YAML integer.
func (d *decoder) integer(n *yaml.Node, path string) (int64, bool) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		d.addf(n.Line, path, "must be a whole number, not %s", describe(n))
		return 0, false
	}
	return v, true
}
