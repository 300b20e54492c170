// Command testreport reads the JSON stream of `go test -json` on standard
// input and prints a readable report: each package's result, the output of
// every failed test, the names of skipped tests, and a closing line
//
//	tests: N passed, N failed, N skipped
//
// It exits 1 when a test or package failed, or when -noskip is given and a
// test was skipped (`make test` forbids skips: a skipped integration test
// means a service was missing).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	noskip := flag.Bool("noskip", false, "fail when any test was skipped")
	raw := flag.String("raw", "", "also write the JSON stream to this file")
	flag.Parse()
	in := io.Reader(os.Stdin)
	if *raw != "" {
		f, err := os.Create(*raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = io.TeeReader(os.Stdin, f)
	}
	os.Exit(report(in, os.Stdout, *noskip))
}

func report(in io.Reader, out io.Writer, noskip bool) int {
	var (
		outputs            = map[string]*strings.Builder{} // package/test -> output
		passed, failed     int
		skipped            []string
		failedNames        []string
		pkgFailed          []string
		nonJSON            strings.Builder
		skipReasons        = map[string]string{}
		sawAnyTest, broken bool
	)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			nonJSON.Write(line) // build errors and the like
			nonJSON.WriteByte('\n')
			continue
		}
		id := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			b := outputs[id]
			if b == nil {
				b = &strings.Builder{}
				outputs[id] = b
			}
			if b.Len() < 1<<20 {
				b.WriteString(e.Output)
			}
			if e.Test != "" && strings.Contains(e.Output, "--- SKIP") {
				skipReasons[id] = strings.TrimSpace(e.Output)
			}
		case "pass":
			if e.Test != "" {
				passed++
				sawAnyTest = true
				delete(outputs, id)
			} else {
				fmt.Fprintf(out, "ok   %s (%.1fs)\n", e.Package, e.Elapsed)
			}
		case "fail":
			if e.Test != "" {
				failed++
				sawAnyTest = true
				failedNames = append(failedNames, id)
			} else {
				pkgFailed = append(pkgFailed, e.Package)
				fmt.Fprintf(out, "FAIL %s (%.1fs)\n", e.Package, e.Elapsed)
			}
		case "skip":
			if e.Test != "" {
				sawAnyTest = true
				skipped = append(skipped, id)
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testreport: reading input:", err)
		broken = true
	}
	if s := strings.TrimSpace(nonJSON.String()); s != "" {
		fmt.Fprintln(out, "\n--- output outside of tests:")
		fmt.Fprintln(out, s)
	}
	for _, id := range failedNames {
		fmt.Fprintf(out, "\n--- FAIL %s\n", id)
		if b := outputs[id]; b != nil {
			fmt.Fprint(out, b.String())
		}
	}
	for _, p := range pkgFailed {
		if b := outputs[p+" "]; b != nil && b.Len() > 0 {
			fmt.Fprintf(out, "\n--- package %s output:\n%s", p, b.String())
		}
	}
	sort.Strings(skipped)
	if len(skipped) > 0 {
		fmt.Fprintf(out, "\nskipped tests (%d):\n", len(skipped))
		for _, id := range skipped {
			fmt.Fprintf(out, "  %s  %s\n", id, reason(outputs[id], skipReasons[id]))
		}
	}
	fmt.Fprintf(out, "\ntests: %d passed, %d failed, %d skipped\n", passed, failed, len(skipped))
	switch {
	case broken || failed > 0 || len(pkgFailed) > 0:
		return 1
	case !sawAnyTest:
		fmt.Fprintln(out, "testreport: no test ran")
		return 1
	case noskip && len(skipped) > 0:
		fmt.Fprintln(out, "testreport: skipped tests are failures here (a service is missing?)")
		return 1
	}
	return 0
}

func reason(b *strings.Builder, fallback string) string {
	if b == nil {
		return fallback
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "--- SKIP") && !strings.HasPrefix(l, "=== ") {
			return l
		}
	}
	return fallback
}
