package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// misspellModule holds DictMain, the misspelling -> word pairs used as
// queries. The module is read from the Go module cache at run time.
const misspellModule = "github.com/golangci/misspell@v0.8.0"

// pair is one query: a misspelling and the word it should find.
type pair struct{ typo, word string }

// loadWords reads one word per line.
func loadWords(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run scripts/data/words.sh)", err)
	}
	defer f.Close()
	var words []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w := sc.Text(); w != "" {
			words = append(words, w)
		}
	}
	return words, sc.Err()
}

// misspellFile downloads the misspell module through the Go module proxy
// (or finds it in the cache) and returns the path of its words.go.
func misspellFile() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", misspellModule)
	cmd.Dir = os.TempDir() // outside any module: no go.mod is touched
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", misspellModule, err, stderr.String())
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out.Bytes(), &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no Dir in %q", misspellModule, out.String())
	}
	return filepath.Join(mod.Dir, "words.go"), nil
}

// loadMisspellings parses the Go file and returns the pairs of the string
// slice variable DictMain.
func loadMisspellings(path string) ([]pair, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	var lits []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "DictMain" || len(vs.Values) != 1 {
			return true
		}
		cl, ok := vs.Values[0].(*ast.CompositeLit)
		if !ok {
			return false
		}
		for _, e := range cl.Elts {
			if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if s, err := strconv.Unquote(bl.Value); err == nil {
					lits = append(lits, s)
				}
			}
		}
		return false
	})
	if len(lits) == 0 || len(lits)%2 != 0 {
		return nil, fmt.Errorf("%s: DictMain has %d strings", path, len(lits))
	}
	pairs := make([]pair, 0, len(lits)/2)
	for i := 0; i < len(lits); i += 2 {
		pairs = append(pairs, pair{typo: lits[i], word: lits[i+1]})
	}
	return pairs, nil
}
