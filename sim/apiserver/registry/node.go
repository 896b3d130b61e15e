package registry

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodesim/nodesim/sim/apiserver/printers"
	"github.com/nodesim/nodesim/sim/apiserver/validation"
)

// NodeStorage is the storage of nodes and of nodes/status.
type NodeStorage struct {
	Node   *Store
	Status *StatusREST
}

// nodeStrategy: a kubelet registers a node with its status in one create;
// later writes to the main resource may not touch the status.
type nodeStrategy struct {
	base
	resetStatus
}

func (nodeStrategy) PrepareForCreate(context.Context, runtime.Object) {}

func (nodeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Node).Status = old.(*corev1.Node).Status
}

func (nodeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateNode(obj.(*corev1.Node))
}

func (nodeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateNodeUpdate(obj.(*corev1.Node), old.(*corev1.Node))
}

// nodeStatusStrategy: nodes/status writes may change the status only.
type nodeStatusStrategy struct {
	nodeStrategy
	resetSpec
}

func (nodeStatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Node).Spec = old.(*corev1.Node).Spec
}

// NewNodeStorage builds the node storage.
func NewNodeStorage(o Options) (*NodeStorage, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := nodeStrategy{base: newBase(o.Scheme, false)}
	store, err := newStore(o, resource{
		kind:        "node",
		newFunc:     func() runtime.Object { return &corev1.Node{} },
		newListFunc: func() runtime.Object { return &corev1.NodeList{} },
		plural:      corev1.Resource("nodes"),
		singular:    corev1.Resource("node"),
		shortNames:  []string{"no"},
		strategy:    s,
		tables:      printers.NodeTable(o.Clock),
	})
	if err != nil {
		return nil, err
	}
	return &NodeStorage{Node: store, Status: statusStore(store, nodeStatusStrategy{nodeStrategy: s})}, nil
}
