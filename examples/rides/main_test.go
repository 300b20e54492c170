package main

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/internal/proctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBinaryMemory builds the command, runs it with no servers, checks
// /healthz and the map page, and stops it with SIGTERM.
func TestBinaryMemory(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t, "rides"))
	// The process listens before its Run loop starts, and /healthz answers
	// 503 until it has: wait for ready, then require both pages.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get("http://" + p.Addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	for _, path := range []string{"/healthz", "/map"} {
		res, err := http.Get("http://" + p.Addr + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, p.Log())
		}
	}
	http.DefaultClient.CloseIdleConnections()
	p.Stop(t)
}
