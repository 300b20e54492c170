// Package memstore implements [reservation.Store] in memory, for tests and
// single-process programs. One mutex serialises every operation, so each is
// atomic; nothing survives the process.
package memstore
