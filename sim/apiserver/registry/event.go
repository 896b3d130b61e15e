package registry

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/nodesim/nodesim/sim/apiserver/printers"
	"github.com/nodesim/nodesim/sim/apiserver/validation"
)

// DefaultEventTTL is kube-apiserver's --event-ttl: events expire from etcd
// an hour after their last write.
const DefaultEventTTL = time.Hour

// eventStrategy: events are written freely (a recorder PUTs or PATCHes its
// series) and expire after the TTL.
type eventStrategy struct {
	base
}

func (eventStrategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (eventStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}
func (eventStrategy) AllowCreateOnUpdate(context.Context) bool                         { return true }
func (eventStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set          { return nil }

func (eventStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateEvent(obj.(*corev1.Event))
}

func (eventStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validation.ValidateEvent(obj.(*corev1.Event))
}

// NewEventStorage builds the storage of core/v1 events with the given TTL.
func NewEventStorage(o Options, ttl time.Duration) (*Store, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	seconds := uint64(ttl / time.Second)
	return newStore(o, resource{
		kind:        "event",
		newFunc:     func() runtime.Object { return &corev1.Event{} },
		newListFunc: func() runtime.Object { return &corev1.EventList{} },
		plural:      corev1.Resource("events"),
		singular:    corev1.Resource("event"),
		shortNames:  []string{"ev"},
		strategy:    eventStrategy{base: newBase(o.Scheme, true)},
		tables:      printers.EventTable(o.Clock),
		ttlFunc:     func(runtime.Object, uint64, bool) (uint64, error) { return seconds, nil },
	})
}
