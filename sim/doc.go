// Package sim is the simulation engine: the virtual clock, the schedule of
// simulated processes, seeded randomness and the trace.
//
// Entities (a virtual node, later a controller) run processes: sequential
// code that waits on virtual time with Proc.Sleep. The engine advances time
// in windows between barriers. Inside a window entities are independent, so
// they run in parallel, each strictly in the order of its own events; at a
// barrier every entity has reached the barrier's time, the clock moves there
// and cross-entity work (control plane, faults) happens. Events of one
// instant run in a fixed order and the trace is sorted before it is
// written, so the same seed gives the same trace bytes whatever the worker
// count, GOMAXPROCS or machine load.
//
// Only the engine and the command line read the wall clock: in fast mode to
// report speed, in paced mode to hold virtual time to N x wall time.
package sim
