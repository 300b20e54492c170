// Package memstore implements [archive.Store] in memory, for tests,
// examples and single-process programs. Records are kept per owner in
// listing order; nothing survives the process.
package memstore
