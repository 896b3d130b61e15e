package apiserver

import (
	"context"
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
	"k8s.io/utils/clock"
)

// compactionInterval is kube-apiserver's --etcd-compaction-interval: every
// 5 minutes it compacts away the revisions older than the previous round.
const compactionInterval = 5 * time.Minute

// inProcessStorage gives every resource the same storage kube-apiserver
// builds (an etcd3 store behind the watch cache, protobuf in etcd,
// optimistic concurrency, watches from etcd), but reaches the embedded etcd
// through one in-process client (etcd's v3client) instead of a gRPC
// connection per resource over loopback TCP: the API server and etcd are
// one process, and the gRPC framing, HTTP/2 and syscalls between them were
// a tenth of the CPU of every write. The requests etcd serves are the same
// (quota, auth and MVCC as for a remote client).
type inProcessStorage struct {
	generic.RESTOptionsGetter
	// client is the stores' client, timing each call as the request's etcd
	// latency as kube-apiserver's does; raw is the same without, for
	// measuring etcd itself (MeasureEtcdPuts).
	client    *kubernetes.Client
	raw       *clientv3.Client
	compactor etcd3Compactor
}

// etcd3Compactor is the compactor the stores report their compacted
// revision from.
type etcd3Compactor interface {
	etcd3.Compactor
	Stop()
}

// newInProcessStorage wraps getter (the storage factory's options: codecs,
// prefixes, resource encodings) so that its stores use an in-process
// client of s, compacted every compactionInterval of wall time, as
// kube-apiserver's.
func newInProcessStorage(getter generic.RESTOptionsGetter, s *etcdserver.EtcdServer) *inProcessStorage {
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
	return &inProcessStorage{RESTOptionsGetter: getter, client: client, raw: v3client.New(s),
		compactor: etcd3.NewCompactor(tracked, compactionInterval, clock.RealClock{}, nil)}
}

// inProcessEndpoint is an in-process client with a name for its endpoint,
// whose Status (etcd's version) it answers itself.
type inProcessEndpoint struct{ *clientv3.Client }

func (inProcessEndpoint) Endpoints() []string { return []string{"in-process"} }

// GetRESTOptions is the factory's options with the in-process store.
func (p *inProcessStorage) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := p.RESTOptionsGetter.GetRESTOptions(resource, example)
	if err != nil {
		return opts, err
	}
	opts.Decorator = p.decorate
	return opts, nil
}

// decorate is a generic.StorageDecorator: the etcd3 store on the shared
// client, behind a watch cache.
func (p *inProcessStorage) decorate(config *storagebackend.ConfigForResource, resourcePrefix string,
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
	watchCache, err := cacher.NewCacherFromConfig(cacher.Config{
		Storage:             store,
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
	p.compactor.Stop()
	p.client.Close()
	p.raw.Close()
}
