// Command importcheck enforces the SDK's layering rule: the root package of
// every block (events, tokenrange, geogrid, ...) imports only the standard
// library, the SDK's own packages and a short list of libraries that are the
// block's subject (geometry, WebRTC). Clients for Redis, SQL, Cassandra and
// Kafka belong in adapter sub-packages.
//
// It runs `go list` over the module and exits 1 naming each offending import.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/sysblocks/sysblocks"

// subjectLibraries may be imported by a block's root package because they
// are what the block is about.
var subjectLibraries = []string{
	"github.com/paulmach/orb",
	"github.com/golang/geo",
	"github.com/pion/",
	"golang.org/x/sync", // the extended standard library (singleflight, errgroup)
}

// notBlocks are top-level folders that are not blocks.
var notBlocks = map[string]bool{"internal": true, "examples": true, "bench": true, "scripts": true}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func main() {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Standard", module+"/...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "importcheck: go list:", err)
		os.Exit(2)
	}
	std, err := standardPackages()
	if err != nil {
		fmt.Fprintln(os.Stderr, "importcheck:", err)
		os.Exit(2)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	bad, roots := 0, 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			fmt.Fprintln(os.Stderr, "importcheck:", err)
			os.Exit(2)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if rel == "" || strings.Contains(rel, "/") || notBlocks[rel] {
			continue
		}
		roots++
		for _, imp := range p.Imports {
			if std[imp] || strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, module+"/internal/testenv") {
				continue
			}
			if allowed(imp) {
				continue
			}
			fmt.Printf("importcheck: %s imports %s: block root packages import only the standard library (move it to an adapter sub-package)\n", p.ImportPath, imp)
			bad++
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
	fmt.Printf("importcheck: %d block root packages import only the standard library and their subject libraries\n", roots)
}

func allowed(imp string) bool {
	for _, l := range subjectLibraries {
		if imp == l || strings.HasPrefix(imp, strings.TrimSuffix(l, "/")+"/") {
			return true
		}
	}
	return false
}

func standardPackages() (map[string]bool, error) {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		return nil, fmt.Errorf("go list std: %w", err)
	}
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m[sc.Text()] = true
	}
	return m, sc.Err()
}
