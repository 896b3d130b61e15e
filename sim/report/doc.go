// Package report writes report.html, the page a person reads after a run:
// the run's identity, the verdict and its expectations (a failed one with
// what was expected and what was seen; none at all is a neutral "no
// expectations", not a pass), the timeline of faults, and plots over
// virtual time of nodes by Ready status, taints, evictions, API writes in
// all and by resource, API request latency percentiles, failed requests and
// Lease renewals, and pods by phase; tables of registration-to-Ready times
// by pool and of every node's state changes, filterable.
//
// Rates are averaged over one sliding window of virtual time, chosen as
// Grafana's $__rate_interval would be for the plot, and the page names it.
//
// The page is one self-contained file: inline CSS and inline SVG drawn
// here, no scripts (the change table filters with radio buttons and CSS),
// no fonts or images fetched when it is viewed, readable printed. Every
// series is aggregated to at most one column per pixel (about 1,000), so
// the page stays small for 10,000 nodes and millions of records.
//
// It may not read the clock, the file system or the network: it renders
// what it is given, and the same Input gives the same bytes.
package report
