#!/usr/bin/env bash
# words.sh makes the word list and the misspellings used by bench/search
# available on this machine, through the package managers only:
#   - /usr/share/dict/american-english from Debian's wamerican (104,334 words)
#   - the Go module github.com/golangci/misspell@v0.8.0 in the module cache,
#     whose words.go holds DictMain (28,096 typo -> word pairs)
# It prints the two paths, one a line: WORDS=<file> and MISSPELL=<file>.
set -euo pipefail

words=/usr/share/dict/american-english
if [[ ! -s $words ]]; then
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q wamerican >/dev/null 2>&1; then
		apt-get update -q >/dev/null
		apt-get install -y -q wamerican >/dev/null
	fi
fi
[[ -s $words ]] || { echo "words.sh: $words missing after installing wamerican" >&2; exit 1; }

# Run outside any module so that no go.mod is touched.
moddir=$(cd / && GO111MODULE=on GOFLAGS= go mod download -json github.com/golangci/misspell@v0.8.0 |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n $moddir && -s $moddir/words.go ]] || { echo "words.sh: misspell module has no words.go" >&2; exit 1; }

echo "WORDS=$words"
echo "MISSPELL=$moddir/words.go"
