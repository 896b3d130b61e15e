package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/nodesim/nodesim/internal/levenshtein"
)

// Error is one problem of a configuration: in which document, at which
// field, what.
type Error struct {
	// Dropin is the name of the drop-in at fault; "" is the base
	// document (or, for a value no document sets, the defaults).
	Dropin string
	// Path is the field's path as written in the document, for example
	// ["evictionHard", "memory.available"]; empty when the problem is the
	// document as a whole.
	Path []string
	// Message says what is wrong, in the kubelet's words where it has
	// some.
	Message string
}

// Field returns Path as users write it: authorization.mode,
// evictionHard[memory.available].
func (e *Error) Field() string {
	return FieldPath(e.Path)
}

// Error formats e as `drop-in "NAME": FIELD: MESSAGE` (or `kubelet config:
// ...` for the base document), leaving out the field when there is none.
func (e *Error) Error() string {
	where := "kubelet config"
	if e.Dropin != "" {
		where = fmt.Sprintf("drop-in %q", e.Dropin)
	}
	if f := e.Field(); f != "" {
		return where + ": " + f + ": " + e.Message
	}
	return where + ": " + e.Message
}

// Errors is every problem Load found, in the order found.
type Errors []*Error

// Error formats the list one error per line.
func (l Errors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors, for errors.As.
func (l Errors) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// FieldPath joins a path with dots, putting keys that are not plain
// words in brackets: evictionHard[memory.available].
func FieldPath(path []string) string {
	var b strings.Builder
	for _, k := range path {
		switch {
		case !plainKey.MatchString(k):
			b.WriteString("[" + k + "]")
		case b.Len() > 0:
			b.WriteString("." + k)
		default:
			b.WriteString(k)
		}
	}
	return b.String()
}

var (
	unknownField = regexp.MustCompile(`unknown field "([^"]*)"`)
	typeMismatch = regexp.MustCompile(`cannot unmarshal (\w+) into Go (?:struct field \S+|value) of type (\S+)`)
)

// cleanDecodeError turns a decoding error about the field at path into a
// message for people.
func cleanDecodeError(err error, path []string) string {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		name := m[1]
		if i := strings.LastIndex(name, "."); i >= 0 && len(path) > 0 {
			name = path[len(path)-1]
		}
		return fmt.Sprintf("unknown field %q%s", name, suggest(path))
	}
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		want := goTypeName(m[2])
		if t := typeAt(path); t != nil && t.Kind() == reflect.String {
			want = "a string" // a named string type such as KubeletAuthorizationMode
		}
		return fmt.Sprintf("must be %s, not %s", want, jsonKind(m[1]))
	}
	return msg
}

func jsonKind(k string) string {
	switch k {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "bool":
		return "a boolean"
	}
	return "a " + k
}

func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number (" + t + ")"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool" || t == "*bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.Contains(t, "Duration"):
		return "a duration such as \"10s\""
	}
	return "a " + strings.TrimPrefix(t, "v1beta1.")
}

// suggest names the known field an unknown one was probably meant to
// be: same letters in another case, or at most two edits away.
func suggest(path []string) string {
	if len(path) == 0 {
		return ""
	}
	key := path[len(path)-1]
	fields := jsonFields(path[:len(path)-1])
	// The same name in another case first, then the nearest within two
	// edits.
	best, bestDist := "", 3
	for _, f := range fields {
		if strings.EqualFold(f, key) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
		if d := levenshtein.Distance(strings.ToLower(f), strings.ToLower(key)); len(key) > 3 && d < bestDist {
			best, bestDist = f, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// typeAt is the Go type of the field at path in a KubeletConfiguration,
// pointers removed; nil when there is none.
func typeAt(path []string) reflect.Type {
	t := reflect.TypeOf(kubeletconfigv1beta1.KubeletConfiguration{})
	for _, k := range path {
		t = deref(t)
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return nil
		}
		f, ok := fieldByJSON(t, k)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return deref(t)
}

// jsonFields lists the JSON field names of the struct at parent in a
// KubeletConfiguration; nil when it is not a struct.
func jsonFields(parent []string) []string {
	t := typeAt(parent)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	collectJSON(t, &names)
	return names
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func jsonName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	return name, name == "" && strings.Contains(opts, "inline") || f.Anonymous && name == ""
}

func fieldByJSON(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline := jsonName(f)
		if inline && deref(f.Type).Kind() == reflect.Struct {
			if g, ok := fieldByJSON(deref(f.Type), key); ok {
				return g, true
			}
			continue
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func collectJSON(t reflect.Type, names *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline := jsonName(f)
		switch {
		case inline && deref(f.Type).Kind() == reflect.Struct:
			collectJSON(deref(f.Type), names)
		case name != "" && name != "-":
			*names = append(*names, name)
		}
	}
}
