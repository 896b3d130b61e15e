// Package report writes report.html, the page a person reads after a run:
// the verdict and its expectations, the timeline of faults, and plots over
// virtual time of nodes by Ready status, taints, evictions and API writes.
//
// The page is one self-contained file: inline CSS and inline SVG drawn
// here, no scripts, no fonts or images fetched when it is viewed, readable
// printed. Every series is aggregated to at most one column per pixel
// (about 1,000), so the page stays small for 10,000 nodes and millions of
// records.
//
// It may not read the clock, the file system or the network: it renders
// what it is given, and the same Input gives the same bytes.
package report
