#!/usr/bin/env bash
# Runs the unit tests on the other supported Node.js lines, 22 and 24, besides the machine's
# own. The binaries come from the npm registry, the only place this machine can download
# from: the node-linux-<arch> packages, official Node.js builds repackaged by the maintainers
# of the npm package "node" (npm checks the tarball against the registry's integrity hash,
# not against nodejs.org's checksums). They are kept in .cache/; delete it to refresh.
# Usage: bash scripts/test-other-nodes.sh [major…]   (default: 22 24)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
majors=("$@")
[[ ${#majors[@]} -gt 0 ]] || majors=(22 24)
mkdir -p .cache
status=0
for major in "${majors[@]}"; do
  dir=".cache/node-$major"
  if [[ ! -x "$dir/bin/node" ]]; then
    tarball=$(cd .cache && npm pack "node-linux-$arch@$major" --silent)
    # Unpacked beside it and moved into place whole: an interrupted unpack leaves no half.
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    tar -xzf ".cache/$tarball" -C "$dir.partial" --strip-components=1
    rm ".cache/$tarball"
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  echo "unit tests on Node $("$dir/bin/node" --version)"
  results=".cache/test-results-node-$major.json"
  PATH="$PWD/$dir/bin:$PATH" pnpm exec vitest run --project unit --reporter=dot \
    --reporter=json --outputFile.json="$results" || status=1
  # The names of failed tests, kept for the recap at the end of .ci/run.
  node scripts/test-summary.mjs "$results" >".cache/test-summary-node-$major.txt" || status=1
  cat ".cache/test-summary-node-$major.txt"
done
exit "$status"
