package printers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
)

// ErrNoClock is returned by ConvertToTable when the convertor was built
// without a clock. nodesim never measures ages against the wall clock
// implicitly.
var ErrNoClock = errors.New("printers: no clock")

// unknownAge is what an unset timestamp prints as, as in kubectl.
const unknownAge = "<unknown>"

// ages turns timestamps into the human-readable ages kubectl shows, measured
// against one fixed instant so that every row of a table agrees on "now".
type ages struct {
	now time.Time
}

// since is the age of t, or "<unknown>" when t is unset.
func (a ages) since(t metav1.Time) string {
	if t.IsZero() {
		return unknownAge
	}
	return duration.HumanDuration(a.now.Sub(t.Time))
}

// sinceMicro is since for the micro-second timestamps of events.
func (a ages) sinceMicro(t metav1.MicroTime) string {
	if t.IsZero() {
		return unknownAge
	}
	return duration.HumanDuration(a.now.Sub(t.Time))
}

// table converts a *T or a *L (the list of T) into a metav1.Table. T is the
// object type (corev1.Node), L its list type (corev1.NodeList).
type table[T, L any] struct {
	kind    string
	clock   clock.PassiveClock
	columns []metav1.TableColumnDefinition
	row     func(obj *T, a ages) metav1.TableRow
	items   func(list *L) []T
}

var _ rest.TableConvertor = &table[struct{}, struct{}]{}

// ConvertToTable implements rest.TableConvertor. Like kube-apiserver it
// always fills every cell, the "-o wide" ones included; tableOptions may be
// nil or a *metav1.TableOptions, whose NoHeaders drops the column
// definitions.
func (t *table[T, L]) ConvertToTable(_ context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	if isNilClock(t.clock) {
		return nil, ErrNoClock
	}
	noHeaders, err := noHeaders(tableOptions)
	if err != nil {
		return nil, err
	}
	a := ages{now: t.clock.Now()}

	out := &metav1.Table{}
	switch o := any(obj).(type) {
	case *T:
		if o == nil {
			return nil, fmt.Errorf("printers: nil %s", t.kind)
		}
		out.Rows = []metav1.TableRow{t.row(o, a)}
		if m, err := meta.CommonAccessor(obj); err == nil {
			out.ResourceVersion = m.GetResourceVersion()
		}
	case *L:
		if o == nil {
			return nil, fmt.Errorf("printers: nil %sList", t.kind)
		}
		items := t.items(o)
		out.Rows = make([]metav1.TableRow, 0, len(items))
		for i := range items {
			out.Rows = append(out.Rows, t.row(&items[i], a))
		}
		if m, err := meta.ListAccessor(obj); err == nil {
			out.ResourceVersion = m.GetResourceVersion()
			out.Continue = m.GetContinue()
			out.RemainingItemCount = m.GetRemainingItemCount()
		}
	default:
		return nil, fmt.Errorf("printers: no %s table for type %T", t.kind, obj)
	}
	if !noHeaders {
		out.ColumnDefinitions = append([]metav1.TableColumnDefinition(nil), t.columns...)
	}
	return out, nil
}

// noHeaders reads TableOptions.NoHeaders, rejecting options of any other
// type as kube-apiserver does.
func noHeaders(tableOptions runtime.Object) (bool, error) {
	switch o := tableOptions.(type) {
	case nil:
		return false, nil
	case *metav1.TableOptions:
		return o != nil && o.NoHeaders, nil
	default:
		return false, fmt.Errorf("unrecognized type %T for table options, can't display tabular output", tableOptions)
	}
}

// isNilClock reports whether c is nil, including a typed nil pointer stored
// in the interface, which would otherwise panic on first use.
func isNilClock(c clock.PassiveClock) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// Descriptions shared by several tables, taken from the API types' field
// documentation as kube-apiserver does.
var (
	nameDescription = metav1.ObjectMeta{}.SwaggerDoc()["name"]
	ageDescription  = metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]
)

func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: nameDescription}
}

func ageColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: ageDescription}
}
