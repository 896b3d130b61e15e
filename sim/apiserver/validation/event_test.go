package validation

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// legacyEvent is an event as client-go's legacy recorder writes it.
func legacyEvent() *corev1.Event {
	seen := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web-0.1881a2b3c4d5e6f7", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0"},
		Reason:         "Scheduled",
		Message:        "Successfully assigned default/web-0 to node-1",
		Source:         corev1.EventSource{Component: "default-scheduler"},
		FirstTimestamp: seen,
		LastTimestamp:  seen,
		Count:          1,
		Type:           corev1.EventTypeNormal,
	}
}

// newEvent is an event as the events.k8s.io recorder writes it.
func newEvent() *corev1.Event {
	event := legacyEvent()
	event.EventTime = metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	event.ReportingController = "example.com/scheduler"
	event.ReportingInstance = "scheduler-0"
	event.Action = "Binding"
	return event
}

func nodeReference(e *corev1.Event) {
	e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"}
}

func TestValidateEvent(t *testing.T) {
	mismatch := invalid("involvedObject.namespace").withDetail("does not match event.namespace")
	tests := []struct {
		name  string
		event func() *corev1.Event
		want  []want
	}{
		{name: "legacy", event: legacyEvent},
		{name: "legacy in another namespace than its object", event: func() *corev1.Event {
			e := legacyEvent()
			e.Namespace = "other"
			return e
		}, want: []want{mismatch}},
		{name: "legacy about a node in default", event: func() *corev1.Event {
			e := legacyEvent()
			nodeReference(e)
			return e
		}},
		{name: "legacy about a node without namespace", event: func() *corev1.Event {
			e := legacyEvent()
			nodeReference(e)
			e.Namespace = ""
			return e
		}},
		{name: "legacy about a node in kube-system", event: func() *corev1.Event {
			e := legacyEvent()
			nodeReference(e)
			e.Namespace = "kube-system"
			return e
		}, want: []want{mismatch}},
		{name: "legacy rules check neither lengths nor type", event: func() *corev1.Event {
			e := legacyEvent()
			e.Reason = strings.Repeat("r", 200)
			e.Message = strings.Repeat("m", 2000)
			e.Type = "Bogus"
			return e
		}},
		{name: "new", event: newEvent},
		{name: "new about a node in kube-system", event: func() *corev1.Event {
			e := newEvent()
			nodeReference(e)
			e.Namespace = "kube-system"
			return e
		}},
		{name: "new about a node in another namespace", event: func() *corev1.Event {
			e := newEvent()
			nodeReference(e)
			e.Namespace = "team-a"
			return e
		}, want: []want{mismatch}},
		{name: "new may name another namespace than its object", event: func() *corev1.Event {
			e := newEvent()
			e.Namespace = "other"
			return e
		}},
		{name: "new without reporting component", event: func() *corev1.Event {
			e := newEvent()
			e.ReportingController = ""
			return e
		}, want: []want{required("reportingComponent"), invalid("reportingComponent"), invalid("reportingComponent")}},
		{name: "new with invalid reporting component", event: func() *corev1.Event {
			e := newEvent()
			e.ReportingController = "my scheduler"
			return e
		}, want: []want{invalid("reportingComponent")}},
		{name: "new without reportingInstance, action and reason", event: func() *corev1.Event {
			e := newEvent()
			e.ReportingInstance, e.Action, e.Reason = "", "", ""
			return e
		}, want: []want{required("reportingInstance"), required("action"), required("reason")}},
		{name: "new with long fields", event: func() *corev1.Event {
			e := newEvent()
			e.ReportingInstance = strings.Repeat("i", 129)
			e.Action = strings.Repeat("a", 129)
			e.Reason = strings.Repeat("r", 129)
			e.Message = strings.Repeat("m", 1025)
			return e
		}, want: []want{
			invalid("reportingInstance").withDetail("can have at most 128 characters"),
			invalid("action").withDetail("can have at most 128 characters"),
			invalid("reason").withDetail("can have at most 128 characters"),
			invalid("message").withDetail("can have at most 1024 characters"),
		}},
		{name: "new at the length limits", event: func() *corev1.Event {
			e := newEvent()
			e.Reason = strings.Repeat("r", 128)
			e.Message = strings.Repeat("m", 1024)
			return e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectErrors(t, ValidateEvent(tt.event()), tt.want...)
		})
	}
}
