#!/usr/bin/env bash
# Runs the unit tests on the other supported Node.js lines, 22 and 24, besides the machine's
# own. The binaries come from the npm registry (the node-linux-<arch> packages), the only
# place this machine can download from, into .cache/, once.
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
    mkdir -p "$dir"
    tar -xzf ".cache/$tarball" -C "$dir" --strip-components=1
    rm ".cache/$tarball"
  fi
  echo "unit tests on Node $("$dir/bin/node" --version)"
  PATH="$PWD/$dir/bin:$PATH" pnpm exec vitest run --project unit --reporter=dot || status=1
done
exit "$status"
