package run

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodesim/nodesim/scenarios"
	"github.com/nodesim/nodesim/sim/apiserver"
)

// serveTimeline cordons its nodes for 4 s: the node lifecycle model
// taints them unschedulable (at its monitor pass at 5 s), and lifts the
// not-ready taint they registered with then.
const serveTimeline = `apiVersion: nodesim.dev/v1alpha1
kind: Scenario
metadata: {name: live}
spec:
  duration: 10m
  nodePools:
  - {name: p, count: 4}
  timeline:
  - {at: 3s, do: cordon, nodes: {pool: p}, for: 4s}
  expect:
  - taint: node.kubernetes.io/unschedulable:NoSchedule
    nodes: {pool: p}
    by: 10m
  - condition: {type: Ready, status: Unknown}
    at: 8s
  - taint: node.kubernetes.io/not-ready:NoSchedule
    count: 0
    at: 20s
`

// TestServeReplaysTimelineAndChecksExpectations: serve applies the
// timeline at its pace and reports each expectation when it is decided,
// on its log and /metrics: one that held early long before its time, the
// others at theirs, failed or passed.
func TestServeReplaysTimelineAndChecksExpectations(t *testing.T) {
	sc, err := scenarios.Parse("live.yaml", []byte(serveTimeline))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := apiserver.Start(context.Background(), apiserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	stateDir, err := os.MkdirTemp("", "ns")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(stateDir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- Serve(ctx, sc, srv, ServeOptions{Pace: 10, Start: start, StateDir: stateDir, MetricsListener: ln, Log: &log})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	lines := []string{
		"nodesim: expectation spec.expect[0] taint: passed: expected 4 nodes of pool p with taint node.kubernetes.io/unschedulable:NoSchedule by 10m0s; seen 4 had it at ",
		"nodesim: expectation spec.expect[1] condition: failed: expected 4 nodes with Ready=Unknown at 8s; seen none had it then (at 8s of virtual time)",
		"nodesim: expectation spec.expect[2] taint: passed: expected exactly 0 of the 4 nodes with taint node.kubernetes.io/not-ready:NoSchedule at 20s; seen none had it then (at 20s of virtual time)",
	}
	// 10 virtual minutes are a minute of wall time at 10X: the first is
	// decided soon after it held, the others at 8 and 20 virtual seconds.
	deadline := time.Now().Add(30 * time.Second)
	for _, want := range lines {
		for !strings.Contains(log.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("log has no %q within 30 s:\n%s", want, log.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`nodesim_expectation_passed{index="0",type="taint"} 1`,
		`nodesim_expectation_passed{index="1",type="condition"} 0`,
		`nodesim_expectation_passed{index="2",type="taint"} 1`,
		`nodesim_timeline_faults_started_total{type="cordon"} 4`,
		`nodesim_timeline_faults_ended_total{type="cordon"} 4`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

// syncBuffer is a bytes.Buffer written by Serve and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
