// Package sysblocks is the root of a Go SDK of system-design building blocks.
package sysblocks
