// Package runtime is a fake container runtime for one virtual node: the CRI
// v1 RuntimeService and ImageService (k8s.io/cri-api) kept in memory, served
// in process or over real gRPC on a unix socket so that crictl works against
// it, with container checkpoint archives and restore.
//
// Nothing in it runs a process. Each container simulates one: a counter
// that advances by one per virtual second while the container runs, whose
// log (the CRI log file) has a line "tick N" every DefaultTickEvery virtual
// seconds. Logs and stats are computed from virtual time when asked for, so
// an idle node costs no goroutine and no work.
//
// Time: a call whose context carries a sim entity (sim.EntityFrom) reads the
// entity's virtual time, and, when the entity is in a process, waits virtual
// time where the operation takes time (image pulls, checkpoints); any other
// call (crictl over gRPC) reads Config.Clock and waits for nothing. The
// package never reads the wall clock, never sleeps for real and draws no
// global randomness; every ID and byte it makes is derived from names and
// virtual time, so a run is reproducible. The runtime's mutex is never held
// while an entity waits.
//
// The modelled numbers (see the constants): an image's size is derived from
// its name (DefaultMinImageSize plus up to DefaultImageSizeSpread) and a
// pull takes DefaultPullBase plus size / DefaultPullRate; a container's
// memory working set starts at its request and grows linearly to its limit
// over DefaultMemoryRamp of running time; a checkpoint takes
// DefaultCheckpointBase plus working set / DefaultCheckpointRate.
package runtime
