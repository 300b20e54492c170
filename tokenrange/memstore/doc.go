// Package memstore implements [tokenrange.Store] in memory, with an audit
// log of issued ranges ([tokenrange.Auditor]). Its counters live as long as
// the Store value: it suits tests and programs that run as one process.
package memstore
