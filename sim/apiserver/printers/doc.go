// Package printers builds the server-side tables that nodesim's API server
// returns when a client asks for
// "application/json;as=Table;g=meta.k8s.io;v=v1" — what `kubectl get`
// prints — for the resources nodesim serves: core/v1 Node, Pod, Namespace,
// Event and coordination/v1 Lease.
//
// Each constructor (NodeTable, PodTable, NamespaceTable, EventTable,
// LeaseTable) returns a k8s.io/apiserver rest.TableConvertor to plug into a
// generic registry Store's TableConvertor field. The column definitions and
// cell values follow kube-apiserver's printers
// (k8s.io/kubernetes/pkg/printers/internalversion) so that kubectl shows the
// same thing for the same object, with two deliberate differences in input:
// the objects are the k8s.io/api v1 types themselves (nodesim has no internal
// API types), and "now" comes from an injected clock.PassiveClock instead of
// the wall clock.
//
// Like kube-apiserver's storage convertor, every table carries all columns
// including the "-o wide" ones (Priority 1); kubectl hides those unless asked
// for -o wide. TableOptions.NoHeaders drops the column definitions.
//
// What this package may not do:
//   - read the wall clock: ages come only from the clock handed to the
//     constructor; a nil clock makes ConvertToTable fail with "printers: no
//     clock" rather than fall back to time.Now;
//   - modify the objects it is given (rows reference them, unchanged);
//   - import k8s.io/kubernetes, or know about storage, admission or
//     defaulting: it only formats what it is handed.
package printers
