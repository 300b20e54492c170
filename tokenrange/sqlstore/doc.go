// Package sqlstore implements [tokenrange.Store] on MariaDB or MySQL
// (github.com/go-sql-driver/mysql), the "simple mysql database" token
// service of the design notes.
//
// Each namespace is one row of tokenrange_counter. Reserve runs one
// transaction: SELECT ... FOR UPDATE of the row, UPDATE of the counter, and
// an INSERT into tokenrange_issued recording [lo, hi) and the owner, then
// COMMIT (five round trips). The row lock serializes reservations across
// every process; the commit makes the range durable before Reserve returns,
// and the audit table answers which process received which range.
//
// Deadlocks (error 1213) and lock wait timeouts (1205) roll the transaction
// back and are returned as [tokenrange.ErrConflict], which the
// [tokenrange.Allocator] retries. Other failures are returned as they are;
// a failure during COMMIT leaves the outcome unknown, and the range, if it
// was committed, is lost rather than reissued.
//
// The store takes the caller's *sql.DB and never closes it. Create the
// tables with [Store.CreateSchema] (CREATE TABLE IF NOT EXISTS).
package sqlstore
