package validation

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// want describes one expected error: its type, its exact field path and,
// when detail is set, a substring of its message.
type want struct {
	typ    field.ErrorType
	field  string
	detail string
}

func (w want) String() string {
	if w.detail == "" {
		return fmt.Sprintf("%s at %q", w.typ, w.field)
	}
	return fmt.Sprintf("%s at %q with detail containing %q", w.typ, w.field, w.detail)
}

// withDetail returns w also requiring its message to contain detail.
func (w want) withDetail(detail string) want {
	w.detail = detail
	return w
}

func required(path string) want     { return want{typ: field.ErrorTypeRequired, field: path} }
func invalid(path string) want      { return want{typ: field.ErrorTypeInvalid, field: path} }
func duplicate(path string) want    { return want{typ: field.ErrorTypeDuplicate, field: path} }
func notSupported(path string) want { return want{typ: field.ErrorTypeNotSupported, field: path} }
func forbidden(path string) want    { return want{typ: field.ErrorTypeForbidden, field: path} }

// expectErrors fails t unless errs holds exactly the wanted errors, in any
// order.
func expectErrors(t *testing.T, errs field.ErrorList, wants ...want) {
	t.Helper()
	remaining := slices.Clone(errs)
	for _, w := range wants {
		i := slices.IndexFunc(remaining, func(e *field.Error) bool {
			return e.Type == w.typ && e.Field == w.field && strings.Contains(e.Detail, w.detail)
		})
		if i < 0 {
			t.Errorf("missing %v; got %s", w, describe(errs))
			continue
		}
		remaining = slices.Delete(remaining, i, i+1)
	}
	for _, e := range remaining {
		t.Errorf("unexpected error: %v", e)
	}
}

func describe(errs field.ErrorList) string {
	if len(errs) == 0 {
		return "no errors"
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = "\n\t" + e.Error()
	}
	return strings.Join(lines, "")
}
