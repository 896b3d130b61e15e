package apiserver

import (
	"context"
	"reflect"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"go.etcd.io/etcd/server/v3/etcdserver"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/etcd3"
	etcdfeature "k8s.io/apiserver/pkg/storage/feature"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/tools/cache"
)

// compactionInterval is kube-apiserver's --etcd-compaction-interval: every
// 5 minutes (of the history clock: compactionClock) it compacts away the
// revisions older than the previous round.
const compactionInterval = 5 * time.Minute

// inProcessStorage gives every resource the storage kube-apiserver builds
// for it (an etcd3 store, behind the watch cache where kube-apiserver
// keeps one, protobuf in etcd, optimistic concurrency, watches from etcd),
// but reaches the embedded etcd through one in-process client (etcd's
// v3client) instead of a gRPC connection per resource: the API server and
// etcd are one process, and the gRPC framing, HTTP/2 and syscalls between
// them were a tenth of the CPU of every write. The requests etcd serves
// are the same (quota, auth and MVCC as for a remote client).
type inProcessStorage struct {
	// client is the stores' client, timing each call as the request's etcd
	// latency as kube-apiserver's does; raw is the same without, for
	// measuring etcd itself (MeasureEtcdPuts).
	client    *kubernetes.Client
	raw       *clientv3.Client
	compactor etcd3Compactor
	// history is the clock the watch caches keep their history by and
	// the compactor runs by; stop ends the compactor's waits on it.
	history *historyClock
	stop    chan struct{}
}

// etcd3Compactor is the compactor the stores report their compacted
// revision from.
type etcd3Compactor interface {
	etcd3.Compactor
	Stop()
}

// newInProcessStorage makes the in-process client of s, compacted every
// compactionInterval of the history clock.
func newInProcessStorage(s *etcdserver.EtcdServer) *inProcessStorage {
	tracked := v3client.New(s)
	tracked.KV = etcd3.NewETCDLatencyTracker(tracked.KV)
	client := &kubernetes.Client{Client: tracked}
	client.Kubernetes = client
	// The stores learn whether etcd answers watch progress requests (which
	// the watch cache needs to serve a watch or list at the latest
	// revision when its resource has had no recent write) by asking each
	// endpoint of their client for etcd's version; the in-process client
	// has no endpoint, so the checker is shown the one it reaches.
	etcdfeature.DefaultFeatureSupportChecker.CheckClient(context.Background(), inProcessEndpoint{tracked}, storage.RequestWatchProgress)
	history, stop := &historyClock{}, make(chan struct{})
	return &inProcessStorage{client: client, raw: v3client.New(s), history: history, stop: stop,
		compactor: etcd3.NewCompactor(tracked, compactionInterval, compactionClock{history: history, stop: stop}, nil)}
}

// inProcessEndpoint is an in-process client with a name for its endpoint,
// whose Status (etcd's version) it answers itself.
type inProcessEndpoint struct{ *clientv3.Client }

func (inProcessEndpoint) Endpoints() []string { return []string{"in-process"} }

// wrap is getter (kube-apiserver's storage options for each resource:
// codecs, prefixes, encodings, watch cache sizes) with the in-process
// client.
func (p *inProcessStorage) wrap(getter generic.RESTOptionsGetter) generic.RESTOptionsGetter {
	return restOptionsGetter{getter: getter, storage: p}
}

type restOptionsGetter struct {
	getter  generic.RESTOptionsGetter
	storage *inProcessStorage
}

// GetRESTOptions is kube-apiserver's options for resource with the store
// on the in-process client, cached where kube-apiserver caches it (not
// events, by its default --watch-cache-sizes).
func (g restOptionsGetter) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.getter.GetRESTOptions(resource, example)
	if err != nil {
		return opts, err
	}
	cached := reflect.ValueOf(opts.Decorator).Pointer() != reflect.ValueOf(generic.UndecoratedStorage).Pointer()
	opts.Decorator = func(config *storagebackend.ConfigForResource, resourcePrefix string,
		keyFunc func(runtime.Object) (string, error), newFunc, newListFunc func() runtime.Object,
		getAttrs storage.AttrFunc, triggers storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		return g.storage.decorate(cached, config, resourcePrefix, keyFunc, newFunc, newListFunc, getAttrs, triggers, indexers)
	}
	return opts, nil
}

// decorate is a generic.StorageDecorator: the etcd3 store on the shared
// client, behind a watch cache if cached.
func (p *inProcessStorage) decorate(cached bool, config *storagebackend.ConfigForResource, resourcePrefix string,
	keyFunc func(runtime.Object) (string, error), newFunc, newListFunc func() runtime.Object,
	getAttrs storage.AttrFunc, triggers storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
	versioner := storage.APIObjectVersioner{}
	transformer := config.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	store, err := etcd3.New(p.client, p.compactor, config.Codec, newFunc, newListFunc, config.Prefix, resourcePrefix,
		config.GroupResource, transformer, config.LeaseManagerConfig, etcd3.NewDefaultDecoder(config.Codec, versioner), versioner)
	if err != nil {
		return nil, nil, err
	}
	if !cached {
		return store, store.Close, nil
	}
	watchCache, err := cacher.NewCacherFromConfig(cacher.Config{
		Storage:             historyStore{Interface: store, clock: p.history},
		Versioner:           versioner,
		GroupResource:       config.GroupResource,
		EventsHistoryWindow: config.EventsHistoryWindow,
		ResourcePrefix:      resourcePrefix,
		KeyFunc:             keyFunc,
		NewFunc:             newFunc,
		NewListFunc:         newListFunc,
		GetAttrsFunc:        getAttrs,
		IndexerFuncs:        triggers,
		Indexers:            indexers,
		Codec:               config.Codec,
	})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	delegator := cacher.NewCacheDelegator(watchCache, store)
	var once sync.Once
	return delegator, func() {
		once.Do(func() {
			delegator.Stop()
			watchCache.Stop()
			store.Close()
		})
	}, nil
}

// close stops the compactor and the client; the stores are stopped by the
// server's shutdown.
func (p *inProcessStorage) close() {
	close(p.stop)
	p.compactor.Stop()
	p.client.Close()
	p.raw.Close()
}
