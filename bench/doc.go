// Package bench holds the side-by-side benchmark programs of sysblocks.
// It is a module of its own so that the baselines it measures against
// (bleve, plain client loops and so on) never become dependencies of the SDK.
// Run everything with `make bench` from the repository root.
package bench
