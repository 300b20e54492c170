// Package indextest is the conformance suite of geogrid adapters: every
// [geogrid.Index] and [geogrid.Claims] runs it against its real backend.
// It checks the contract rule by rule, compares nearest-k queries with a
// brute-force haversine scan on random data (cell borders, the
// antimeridian, the poles, dense clusters), splits and merges of the
// adaptive grid, staleness at the TTL boundary, concurrent traffic and the
// claim race.
package indextest
