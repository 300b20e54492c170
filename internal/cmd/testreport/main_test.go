package main

import (
	"strings"
	"testing"
)

const stream = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.1}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: set SYSBLOCKS_REDIS_ADDR to run\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestB","Elapsed":0}
{"Action":"pass","Package":"p","Elapsed":0.2}
`

const failing = `{"Action":"run","Package":"q","Test":"TestC"}
{"Action":"output","Package":"q","Test":"TestC","Output":"    c_test.go:3: got 1; want 2\n"}
{"Action":"fail","Package":"q","Test":"TestC","Elapsed":0.1}
{"Action":"fail","Package":"q","Elapsed":0.2}
`

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		noskip   bool
		code     int
		want     []string
	}{
		{"skips allowed", stream, false, 0, []string{"ok   p", "tests: 1 passed, 0 failed, 1 skipped", "set SYSBLOCKS_REDIS_ADDR to run"}},
		{"skips forbidden", stream, true, 1, []string{"tests: 1 passed, 0 failed, 1 skipped", "skipped tests are failures"}},
		{"failure", failing, false, 1, []string{"FAIL q", "--- FAIL q TestC", "got 1; want 2", "tests: 0 passed, 1 failed, 0 skipped"}},
		{"build error", "# p\n./x.go:1: syntax error\n" + `{"Action":"fail","Package":"p","Elapsed":0}` + "\n", false, 1, []string{"syntax error", "FAIL p"}},
		{"nothing ran", `{"Action":"pass","Package":"p","Elapsed":0}` + "\n", false, 1, []string{"no test ran"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			code := report(strings.NewReader(tc.in), &out, tc.noskip)
			if code != tc.code {
				t.Errorf("exit code %d; want %d", code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q; got:\n%s", w, out.String())
				}
			}
		})
	}
}
