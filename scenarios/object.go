package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodesim/nodesim/internal/levenshtein"
)

// decodeObject decodes a YAML node into out, a pointer to a Kubernetes API
// type, the way the API server would decode its JSON form, strictly:
// unknown fields and values of the wrong type are errors with their line
// and field. It walks the YAML against out's Go type to turn the node into
// JSON (so that every problem has its line), then decodes that JSON with
// encoding/json and DisallowUnknownFields. It returns the line of each
// field path it met.
func (d *decoder) decodeObject(n *yaml.Node, path string, out any) (map[string]int, bool) {
	before := len(d.errs)
	o := objectWalk{d: d, lines: make(map[string]int)}
	v := o.value(n, reflect.TypeOf(out).Elem(), path)
	if len(d.errs) > before {
		return o.lines, false
	}
	data, err := json.Marshal(v)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(out)
	}
	if err != nil { // the walk should have caught it: a safety net
		d.addf(n.Line, path, "%v", err)
		return o.lines, false
	}
	return o.lines, true
}

type objectWalk struct {
	d      *decoder
	lines  map[string]int
	fields map[reflect.Type]map[string]reflect.Type // jsonFields, cached
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	quantityType    = reflect.TypeFor[resource.Quantity]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// value converts n into what encoding/json marshals to the JSON form of a
// value of type t: map[string]any, []any, string, json.Number, bool or nil.
func (o *objectWalk) value(n *yaml.Node, t reflect.Type, path string) any {
	d := o.d
	if _, seen := o.lines[path]; !seen {
		o.lines[path] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) {
		return nil
	}
	switch {
	case t == quantityType:
		v, ok := o.scalar(n, path, "a quantity such as \"8\", 500m or 32Gi")
		if !ok {
			return nil
		}
		if _, err := resource.ParseQuantity(v); err != nil {
			d.addf(n.Line, path, "invalid quantity %q: write it as \"8\", 500m, 32Gi or 1e3", v)
			return nil
		}
		return v
	case t == intOrStringType:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
			var i int64
			if n.Decode(&i) != nil || i < math.MinInt32 || i > math.MaxInt32 {
				d.addf(n.Line, path, "must be a 32-bit whole number or a string, not %s", describe(n))
				return nil
			}
			return json.Number(strconv.FormatInt(i, 10))
		}
		v, ok := o.scalar(n, path, "a number or a string")
		if !ok {
			return nil
		}
		return v
	case reflect.PointerTo(t).Implements(unmarshalerType):
		// Another type with its own JSON form (metav1.Time, ...): convert
		// the node as it is and let the type judge it.
		v := o.untyped(n, path)
		data, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(data)
		}
		if err != nil {
			d.addf(n.Line, path, "invalid value %s: %v", describe(n), err)
			return nil
		}
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		return o.object(n, t, path)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			d.addf(n.Line, path, "nodesim cannot decode a map with %s keys", t.Key())
			return nil
		}
		out := map[string]any{}
		for _, e := range d.mapping(n, path) {
			f := join(path, e.key)
			o.lines[f] = e.keyNode.Line
			out[e.key] = o.value(e.value, t.Elem(), f)
		}
		return out
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // []byte: base64 in JSON
			v, ok := o.scalar(n, path, "a base64 string")
			if !ok {
				return nil
			}
			return v
		}
		out := []any{}
		for i, item := range d.sequence(n, path) {
			out = append(out, o.value(item, t.Elem(), index(path, i)))
		}
		return out
	case reflect.String:
		v, ok := d.text(n, path)
		if !ok {
			return nil
		}
		return v
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.addf(n.Line, path, "must be true or false, not %s", describe(n))
			return nil
		}
		return b
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := d.integer(n, path)
		if !ok {
			return nil
		}
		if reflect.Zero(t).OverflowInt(i) {
			d.addf(n.Line, path, "%d does not fit in a %d-bit whole number", i, t.Bits())
			return nil
		}
		return json.Number(strconv.FormatInt(i, 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var u uint64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&u) != nil || reflect.Zero(t).OverflowUint(u) {
			d.addf(n.Line, path, "must be a whole number from 0 to %d, not %s", uint64(1)<<t.Bits()-1, describe(n))
			return nil
		}
		return json.Number(strconv.FormatUint(u, 10))
	case reflect.Float32, reflect.Float64:
		v, ok := d.number(n, path)
		if !ok {
			return nil
		}
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	case reflect.Interface:
		return o.untyped(n, path)
	}
	d.addf(n.Line, path, "nodesim cannot decode a value of type %s", t)
	return nil
}

// scalar returns a scalar's text for a type that takes a string; what
// names what the field takes, for the message.
func (o *objectWalk) scalar(n *yaml.Node, path, what string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
			return n.Value, true
		}
	}
	o.d.addf(n.Line, path, "must be %s, not %s", what, describe(n))
	return "", false
}

// object converts a mapping into the JSON object of struct type t,
// reporting keys the struct has no field for.
func (o *objectWalk) object(n *yaml.Node, t reflect.Type, path string) any {
	fields, ok := o.fields[t]
	if !ok {
		fields = jsonFields(t)
		if o.fields == nil {
			o.fields = make(map[reflect.Type]map[string]reflect.Type)
		}
		o.fields[t] = fields
	}
	out := map[string]any{}
	for _, e := range o.d.mapping(n, path) {
		f := join(path, e.key)
		ft, ok := fields[e.key]
		if !ok {
			o.d.addf(e.keyNode.Line, f, "unknown field %q%s", e.key, suggestField(e.key, fields))
			continue
		}
		o.lines[f] = e.keyNode.Line
		if isNull(e.value) { // null: not set
			continue
		}
		out[e.key] = o.value(e.value, ft, f)
	}
	return out
}

// untyped converts a node into JSON values without a Go type to guide it.
func (o *objectWalk) untyped(n *yaml.Node, path string) any {
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for _, e := range o.d.mapping(n, path) {
			out[e.key] = o.untyped(e.value, join(path, e.key))
		}
		return out
	case yaml.SequenceNode:
		out := []any{}
		for i, item := range o.d.sequence(n, path) {
			out = append(out, o.untyped(item, index(path, i)))
		}
		return out
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

// jsonFields maps the JSON names of struct type t's fields to their types,
// as encoding/json sees them: embedded structs without a name are inlined,
// and a field of the struct itself wins over an inlined one.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	var add func(t reflect.Type, depth int)
	add = func(t reflect.Type, depth int) {
		var embedded []reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				ft := f.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					embedded = append(embedded, ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := out[name]; !dup {
				out[name] = f.Type
			}
		}
		if depth < 8 {
			for _, et := range embedded {
				add(et, depth+1)
			}
		}
	}
	add(t, 0)
	return out
}

// suggestField names the field an unknown key was probably meant to be.
func suggestField(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, f := range names {
		if strings.EqualFold(f, key) || (len(key) > 3 && levenshtein.Distance(strings.ToLower(f), strings.ToLower(key)) <= 2) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
	}
	if len(names) <= 12 {
		return "; known fields: " + strings.Join(names, ", ")
	}
	return ""
}
