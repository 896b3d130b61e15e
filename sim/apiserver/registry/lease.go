package registry

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/nodesim/nodesim/sim/apiserver/printers"
	"github.com/nodesim/nodesim/sim/apiserver/validation"
)

// leaseStrategy: a lease may be created by a PUT (leader election does), and
// updates must name the version they replace, as coordination.k8s.io does.
type leaseStrategy struct {
	base
}

func (leaseStrategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (leaseStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}
func (leaseStrategy) AllowCreateOnUpdate(context.Context) bool                         { return true }
func (leaseStrategy) AllowUnconditionalUpdate(context.Context) bool                    { return false }
func (leaseStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set          { return nil }

func (leaseStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateLease(obj.(*coordinationv1.Lease))
}

func (leaseStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateLeaseUpdate(obj.(*coordinationv1.Lease), old.(*coordinationv1.Lease))
}

// NewLeaseStorage builds the storage of coordination.k8s.io/v1 leases.
func NewLeaseStorage(o Options) (*Store, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	return newStore(o, resource{
		kind:        "lease",
		newFunc:     func() runtime.Object { return &coordinationv1.Lease{} },
		newListFunc: func() runtime.Object { return &coordinationv1.LeaseList{} },
		plural:      coordinationv1.Resource("leases"),
		singular:    coordinationv1.Resource("lease"),
		strategy:    leaseStrategy{base: newBase(o.Scheme, true)},
		tables:      printers.LeaseTable(o.Clock),
	})
}
