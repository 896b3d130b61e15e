package registry

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"k8s.io/utils/clock"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Options is what every resource's storage is built from.
type Options struct {
	// RESTOptions gives each resource its etcd storage (with watch cache).
	RESTOptions generic.RESTOptionsGetter
	// Scheme types the objects and defaults them.
	Scheme *runtime.Scheme
	// Clock dates the AGE column of the tables kubectl prints.
	Clock clock.PassiveClock
}

func (o Options) validate() error {
	if o.RESTOptions == nil || o.Scheme == nil || o.Clock == nil {
		return fmt.Errorf("registry: RESTOptions, Scheme and Clock are required")
	}
	return nil
}

// base carries what every strategy shares: object typing, generateName, and
// the scope.
type base struct {
	runtime.ObjectTyper
	names.NameGenerator
	namespaced bool
}

func newBase(scheme *runtime.Scheme, namespaced bool) base {
	return base{ObjectTyper: scheme, NameGenerator: names.SimpleNameGenerator, namespaced: namespaced}
}

func (b base) NamespaceScoped() bool                                                   { return b.namespaced }
func (base) WarningsOnCreate(context.Context, runtime.Object) []string                 { return nil }
func (base) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string { return nil }
func (base) Canonicalize(runtime.Object)                                               {}
func (base) AllowUnconditionalUpdate(context.Context) bool                             { return true }
func (base) AllowCreateOnUpdate(context.Context) bool                                  { return false }

// resetFields names the top-level fields a main resource or its status
// subresource may not change, for server-side apply's managed fields.
func resetFields(path string) map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"v1": fieldpath.NewSet(fieldpath.MakePathOrDie(path)),
	}
}

// resetStatus is the main resource's view: status belongs to the subresource.
type resetStatus struct{}

func (resetStatus) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFields("status")
}

// resetSpec is the status subresource's view: everything but status is kept.
type resetSpec struct{}

func (resetSpec) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"v1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// resource describes one store to complete.
type resource struct {
	kind        string // for messages
	newFunc     func() runtime.Object
	newListFunc func() runtime.Object
	plural      schema.GroupResource
	singular    schema.GroupResource
	strategy    strategy
	tables      rest.TableConvertor
	shortNames  []string
	categories  []string
	indexByNode bool // pods: index spec.nodeName so per-node watches stay cheap
	ttlFunc     func(obj runtime.Object, existing uint64, update bool) (uint64, error)
}

// strategy is what a store needs of a resource's rules.
type strategy interface {
	rest.RESTCreateStrategy
	rest.RESTUpdateStrategy
	rest.ResetFieldsStrategy
}

// Store is a resource's storage with the short names and categories kubectl
// knows it by (`kubectl get no`, `kubectl get all`).
type Store struct {
	*genericregistry.Store
	shortNames []string
	categories []string
}

var (
	_ rest.ShortNamesProvider = &Store{}
	_ rest.CategoriesProvider = &Store{}
)

// ShortNames are the resource's abbreviations.
func (s *Store) ShortNames() []string { return s.shortNames }

// Categories are the groups of resources this one is listed in.
func (s *Store) Categories() []string { return s.categories }

func newStore(o Options, r resource) (*Store, error) {
	store := &genericregistry.Store{
		NewFunc:                   r.newFunc,
		NewListFunc:               r.newListFunc,
		PredicateFunc:             matcher,
		DefaultQualifiedResource:  r.plural,
		SingularQualifiedResource: r.singular,
		TTLFunc:                   r.ttlFunc,
		CreateStrategy:            r.strategy,
		UpdateStrategy:            r.strategy,
		DeleteStrategy:            r.strategy,
		ResetFieldsStrategy:       r.strategy,
		TableConvertor:            r.tables,
	}
	opts := &generic.StoreOptions{RESTOptions: o.RESTOptions, AttrFunc: getAttrs}
	if r.indexByNode {
		opts.TriggerFunc = storage.IndexerFuncs{"spec.nodeName": podNodeName}
		opts.Indexers = podIndexers()
	}
	if err := store.CompleteWithOptions(opts); err != nil {
		return nil, fmt.Errorf("%s storage: %w", r.kind, err)
	}
	return &Store{Store: store, shortNames: r.shortNames, categories: r.categories}, nil
}

// statusStore returns a copy of store that writes through the status
// strategy, for a /status subresource.
func statusStore(store *Store, s strategy) *StatusREST {
	st := *store.Store
	st.CreateStrategy = nil
	st.DeleteStrategy = nil
	st.UpdateStrategy = s
	st.ResetFieldsStrategy = s
	return &StatusREST{store: &st}
}

// StatusREST serves a /status subresource: get and update only.
type StatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher             = &StatusREST{}
	_ rest.ResetFieldsStrategy = &StatusREST{}
)

// New returns an empty object of the resource.
func (r *StatusREST) New() runtime.Object { return r.store.New() }

// Destroy does nothing: the main resource's store owns the storage.
func (r *StatusREST) Destroy() {}

// Get returns the object, status included.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the status only; the subresource never creates.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields names what a status write may not change.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable prints the object as the main resource does.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
