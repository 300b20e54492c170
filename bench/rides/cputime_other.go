//go:build !unix

package main

import "time"

// cpuTime reports that this system gives no process CPU time; the rates
// per CPU-second are then left out.
func cpuTime() (time.Duration, bool) { return 0, false }
