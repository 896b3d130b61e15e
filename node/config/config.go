package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The type every configuration document must declare.
const (
	// APIVersion is the only apiVersion a KubeletConfiguration may have.
	APIVersion = "kubelet.config.k8s.io/v1beta1"
	// Kind is the only kind it may have.
	Kind = "KubeletConfiguration"
	// DropinExtension is the extension of the drop-ins the kubelet reads
	// from --config-dir; it skips other files.
	DropinExtension = ".conf"
)

// Document is one configuration file: YAML or JSON.
type Document struct {
	// Name is the drop-in's file name, or its path relative to the
	// directory with "/" between components for a drop-in in a
	// subdirectory. It orders the drop-ins and names them in errors.
	Name string
	Data []byte
}

// Input is what the kubelet reads its configuration from.
type Input struct {
	// Base is the --config file's contents; nil means there is none and
	// the configuration starts from the defaults (as a file holding only
	// apiVersion and kind would).
	Base []byte
	// Dropins are the files of --config-dir, in any order. nil means
	// there is no --config-dir; an empty slice is an empty one (the
	// kubelet still round-trips and re-defaults the configuration).
	Dropins []Document
	// KubernetesMinor is the kubelet's minor release (1.X); 0 means 37.
	// Only defaults that changed between the releases nodesim models
	// depend on it: failCgroupV1 is true from 1.35, false before.
	KubernetesMinor int
}

// Result is a loaded configuration.
type Result struct {
	// Config is the merged, defaulted and validated configuration.
	Config *kubeletconfigv1beta1.KubeletConfiguration
	// Skipped are the drop-ins whose name does not end in .conf, in
	// order: the kubelet skips them (and logs their names).
	Skipped []string
}

// Load builds the kubelet's configuration as the kubelet does
// (cmd/kubelet/app/server.go, v1.37.2):
//
//  1. the base file is decoded strictly and defaulted; then, if it has no
//     evictionHard, the Linux defaults are set (or, with
//     mergeDefaultEvictionSettings, the missing ones are added);
//  2. with a --config-dir, the defaulted base is marshalled to JSON and
//     each drop-in whose name ends in .conf, in lexical order, is applied
//     to it as a JSON merge patch (RFC 7386): struct fields override one
//     by one, lists are replaced whole, map keys merge one by one, and a
//     map's list values are replaced whole; the result is decoded and
//     defaulted again;
//  3. the result is validated.
//
// Unlike the kubelet, which decodes a base file with unknown fields
// leniently (logging a warning) and ignores unknown fields of drop-ins,
// every document is decoded strictly: a misspelt field is an error, not
// a setting silently lost. The errors are Errors, each naming the document
// and field.
func Load(in Input) (*Result, error) {
	var docs []parsed // base (if any) then the applied drop-ins, for blame
	c := &kubeletconfigv1beta1.KubeletConfiguration{}
	if in.Base != nil {
		p, err := parse("", in.Base)
		if err != nil {
			return nil, Errors{err}
		}
		if err := json.Unmarshal(p.json, c); err != nil {
			return nil, Errors{{Message: fmt.Sprintf("decode: %v", err)}}
		}
		docs = append(docs, p)
	}
	defaultFor(c, in.KubernetesMinor)
	evictionDefaults(c)

	res := &Result{}
	if in.Dropins != nil {
		dropins := slices.Clone(in.Dropins)
		slices.SortStableFunc(dropins, func(a, b Document) int { return comparePaths(a.Name, b.Name) })
		merged, err := json.Marshal(c)
		if err != nil {
			return nil, Errors{{Message: fmt.Sprintf("marshal the base configuration: %v", err)}}
		}
		var errs Errors
		for _, d := range dropins {
			if path.Ext(path.Base(d.Name)) != DropinExtension {
				res.Skipped = append(res.Skipped, d.Name)
				continue
			}
			p, perr := parse(d.Name, d.Data)
			if perr != nil {
				errs = append(errs, perr)
				continue
			}
			docs = append(docs, p)
			if merged, err = jsonpatch.MergePatch(merged, p.json); err != nil {
				errs = append(errs, &Error{Dropin: d.Name, Message: fmt.Sprintf("merge into the configuration: %v", err)})
			}
		}
		if len(errs) > 0 {
			return nil, errs
		}
		c = &kubeletconfigv1beta1.KubeletConfiguration{}
		if err := json.Unmarshal(merged, c); err != nil {
			return nil, Errors{{Message: fmt.Sprintf("decode the merged configuration: %v", err)}}
		}
		defaultFor(c, in.KubernetesMinor)
	}
	if errs := validate(c); len(errs) > 0 {
		for _, e := range errs {
			e.Dropin = blame(docs, e.Path)
		}
		return nil, errs
	}
	res.Config = c
	return res, nil
}

// defaultFor is Default for the kubelet of release 1.minor.
func defaultFor(c *kubeletconfigv1beta1.KubeletConfiguration, minor int) {
	if minor > 0 && minor < 35 && c.FailCgroupV1 == nil {
		c.FailCgroupV1 = ptr.To(false)
	}
	Default(c)
}

// parsed is a document that passed parse.
type parsed struct {
	name string
	obj  map[string]any
	json []byte
}

// parse checks one document: YAML or JSON, a mapping, of the right
// apiVersion and kind, every field known and of the right type.
func parse(name string, data []byte) (parsed, *Error) {
	p := parsed{name: name}
	fail := func(path []string, format string, args ...any) (parsed, *Error) {
		return p, &Error{Dropin: name, Path: path, Message: fmt.Sprintf(format, args...)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail(nil, "empty: a kubelet configuration file needs at least apiVersion: %s and kind: %s", APIVersion, Kind)
	}
	j, err := yamlToJSON(data)
	if err != nil {
		return fail(nil, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: yaml: "))
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return fail(nil, "not valid JSON: %v", err)
	}
	if v == nil {
		return fail(nil, "empty: a kubelet configuration file needs at least apiVersion: %s and kind: %s", APIVersion, Kind)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fail(nil, "must be a mapping (a %s), not %s", Kind, describe(v))
	}
	for _, want := range []struct{ key, value string }{{"apiVersion", APIVersion}, {"kind", Kind}} {
		got, ok := obj[want.key]
		switch {
		case !ok || got == nil:
			return fail([]string{want.key}, "required: must be %s", want.value)
		case got != want.value:
			return fail([]string{want.key}, "must be %s, not %s", want.value, describe(got))
		}
	}
	if path, msg := locate(obj); path != nil {
		return fail(path, "%s", msg)
	}
	p.obj, p.json = obj, j
	return p, nil
}

// yamlToJSON converts a document as the kubelet's strict codec reads it:
// duplicate keys are errors. It recovers from a panic of the YAML library
// so that bad input never crashes nodesim.
func yamlToJSON(data []byte) (j []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			j, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return yaml.YAMLToJSONStrict(data)
}

// strictDecode decodes a JSON object into a KubeletConfiguration as the
// kubelet's strict codec does: field names case-sensitive, unknown and
// duplicate fields errors.
func strictDecode(obj map[string]any) error {
	j, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var c kubeletconfigv1beta1.KubeletConfiguration
	strict, err := kjson.UnmarshalStrict(j, &c)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return strict[0]
	}
	return nil
}

// locate finds the first field (in key order, depth first) of obj that
// does not decode, and says what is wrong with it; nil when obj decodes.
// The decoder's own errors do not always name the field (a bad duration
// does not), so each key is tried alone, nested inside its parents.
func locate(obj map[string]any) ([]string, string) {
	if strictDecode(obj) == nil {
		return nil, ""
	}
	path, err := locateIn(obj, func(m map[string]any) map[string]any { return m })
	if path == nil {
		// Only the keys together fail; report the whole document.
		return []string{}, cleanDecodeError(strictDecode(obj), nil)
	}
	return path, cleanDecodeError(err, path)
}

func locateIn(obj map[string]any, wrap func(map[string]any) map[string]any) ([]string, error) {
	for _, k := range sortedKeys(obj) {
		err := strictDecode(wrap(map[string]any{k: obj[k]}))
		if err == nil {
			continue
		}
		if sub, ok := obj[k].(map[string]any); ok && len(sub) > 0 {
			inner := func(m map[string]any) map[string]any { return wrap(map[string]any{k: m}) }
			if p, e := locateIn(sub, inner); p != nil {
				return append([]string{k}, p...), e
			}
		}
		return []string{k}, err
	}
	return nil, nil
}

// describe names a decoded JSON value for "must be X, not Y" messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "empty"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprintf("%v", v)
	}
}

// comparePaths orders drop-in names as filepath.WalkDir visits them: by
// path component, each compared as a string, so that the files of a
// subdirectory "b" come where "b" sorts, before "b-1.conf".
func comparePaths(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}

// blame returns the name of the last document that sets the field at
// path (or a parent of it): the one whose value the configuration holds.
// "" means the base document, or the defaults when no document sets it.
func blame(docs []parsed, path []string) string {
	for i := len(docs) - 1; i >= 0; i-- {
		if has(docs[i].obj, path) {
			return docs[i].name
		}
	}
	return ""
}

func has(obj map[string]any, path []string) bool {
	if len(path) == 0 {
		return false
	}
	v, ok := obj[path[0]]
	if !ok {
		return false
	}
	if sub, isMap := v.(map[string]any); isMap && len(path) > 1 {
		return has(sub, path[1:])
	}
	return true
}
