package apiserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/nodesim/nodesim/sim"
)

// benchWorkers is how many clients write at once, each its own lease, as a
// fleet of kubelets does.
const benchWorkers = CalibrationWriters

// BenchmarkLeaseUpdates measures Lease updates per second through the API
// server (protobuf, many clients, every write validated and stored), over
// the network and in process, with the CPU each costs, and in the same run
// raw puts per second into the same embedded etcd: the ceiling. In process
// and with nothing else running, it is the most the API server's write path
// does on this machine.
func BenchmarkLeaseUpdates(b *testing.B) {
	b.Run("network", func(b *testing.B) { benchLeaseUpdates(b, testServer.RESTConfig(), "net") })
	b.Run("in-process", func(b *testing.B) { benchLeaseUpdates(b, testServer.InProcessConfig(), "inproc") })
}

func benchLeaseUpdates(b *testing.B, cfg *restclient.Config, prefix string) {
	ctx := context.Background()
	clients := make([]kubernetes.Interface, 8)
	for i := range clients {
		clients[i] = clientFor(b, cfg, true)
	}
	leases := make([]*coordinationv1.Lease, benchWorkers)
	for i := range leases {
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%s-%03d", prefix, i), Namespace: corev1.NamespaceNodeLease},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(fmt.Sprintf("bench-%03d", i)), LeaseDurationSeconds: ptr.To[int32](40)},
		}
		created, err := clients[0].CoordinationV1().Leases(l.Namespace).Create(ctx, l, metav1.CreateOptions{})
		if err != nil {
			created, err = clients[0].CoordinationV1().Leases(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
		}
		leases[i] = created
	}

	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start, cpuStart := time.Now(), sim.ProcessCPU()
	var wg sync.WaitGroup
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lease := leases[w]
			client := clients[w%len(clients)].CoordinationV1().Leases(lease.Namespace)
			for next.Add(1) <= int64(b.N) {
				lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
				updated, err := client.Update(ctx, lease, metav1.UpdateOptions{})
				if err != nil {
					failed.Add(1)
					continue
				}
				lease = updated
			}
		}()
	}
	wg.Wait()
	apiRate := float64(b.N) / time.Since(start).Seconds()
	cpu := sim.ProcessCPU() - cpuStart
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d lease updates failed", n)
	}
	etcdRate, err := testServer.MeasureEtcdPuts(ctx, 2*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(apiRate, "lease-writes/s")
	b.ReportMetric(etcdRate, "etcd-puts/s")
	b.ReportMetric(apiRate/etcdRate, "efficiency")
	b.ReportMetric(1000*cpu.Seconds()/float64(b.N), "cpu-ms/write")
}
