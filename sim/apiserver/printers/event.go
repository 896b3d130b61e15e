package printers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"
)

// EventTable prints *corev1.Event and *corev1.EventList the way `kubectl get
// events` shows them: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE and, for -o
// wide, SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME (in kube-apiserver's
// column order, which interleaves them).
func EventTable(c clock.PassiveClock) rest.TableConvertor {
	doc := corev1.Event{}.SwaggerDoc()
	return &table[corev1.Event, corev1.EventList]{
		kind:  "Event",
		clock: c,
		columns: []metav1.TableColumnDefinition{
			{Name: "Last Seen", Type: "string", Description: doc["lastTimestamp"]},
			{Name: "Type", Type: "string", Description: doc["type"]},
			{Name: "Reason", Type: "string", Description: doc["reason"]},
			{Name: "Object", Type: "string", Description: doc["involvedObject"]},
			{Name: "Subobject", Type: "string", Priority: 1, Description: corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]},
			{Name: "Source", Type: "string", Priority: 1, Description: doc["source"]},
			{Name: "Message", Type: "string", Description: doc["message"]},
			{Name: "First Seen", Type: "string", Priority: 1, Description: doc["firstTimestamp"]},
			{Name: "Count", Type: "string", Priority: 1, Description: doc["count"]},
			{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: nameDescription},
		},
		row:   eventRow,
		items: func(l *corev1.EventList) []corev1.Event { return l.Items },
	}
}

func eventRow(e *corev1.Event, a ages) metav1.TableRow {
	// Events from the events.k8s.io API carry eventTime and series instead
	// of first/last timestamps and count.
	firstSeen := a.since(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		firstSeen = a.sinceMicro(e.EventTime)
	}
	lastSeen := a.since(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		lastSeen = firstSeen
	}
	count := e.Count
	switch {
	case e.Series != nil:
		lastSeen = a.sinceMicro(e.Series.LastObservedTime)
		count = e.Series.Count
	case count == 0:
		count = 1
	}

	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}

	return metav1.TableRow{
		Object: runtime.RawExtension{Object: e},
		Cells: []interface{}{
			lastSeen,
			e.Type,
			e.Reason,
			object,
			e.InvolvedObject.FieldPath,
			eventSource(e),
			strings.TrimSpace(e.Message),
			firstSeen,
			int64(count),
			e.Name,
		},
	}
}

// eventSource is "component" or "component, host", falling back to the
// reporting controller and instance of newer events.
func eventSource(e *corev1.Event) string {
	component := e.Source.Component
	if component == "" {
		component = e.ReportingController
	}
	host := e.Source.Host
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
