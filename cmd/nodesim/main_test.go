package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) {
	quietLibraryLogs()
	os.Exit(m.Run())
}

func TestBadUsageExitsTwo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--no-such-flag"},
		{"no-such-command"},
		{"serve", "--nodes", "3"},
		{"serve", "--nodes", "-1"},
		{"serve", "--nodes", "x"},
		{"serve", "--port", "70000"},
		{"serve", "--port", port},
		{"serve", "--bind-address", "nowhere"},
		{"serve", "--state-dir", filepath.Join(file, "sub")},
		{"serve", "a.yaml", "b.yaml"},
	} {
		if code := run(context.Background(), args); code != exitBadInput {
			t.Errorf("nodesim %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func TestServeUntilInterrupted(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "--nodes", "0", "--write-kubeconfig", kc}) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(kc); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no kubeconfig written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, "kube-node-lease", metav1.GetOptions{}); err != nil {
		t.Fatalf("serving cluster: %v", err)
	}
	cancel() // as SIGINT does through signal.NotifyContext
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after interrupt", code)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		var names bytes.Buffer
		for _, e := range left {
			names.WriteString(e.Name() + " ")
		}
		t.Fatalf("temporary files left after stop: %s", names.String())
	}
}
