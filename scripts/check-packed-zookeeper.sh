#!/usr/bin/env bash
# Proves that the packed @elector/zookeeper installs and loads on a machine without a
# compiler: it packs @elector/core and @elector/zookeeper (after `pnpm build`), installs both
# tarballs with npm into an empty project with CC and CXX set to /bin/false, and imports the
# backend. Needs the npm registry for @elector/core's own dependency (p-retry).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root/packages/core" && pnpm pack --pack-destination "$work" >/dev/null)
(cd "$root/packages/zookeeper" && pnpm pack --pack-destination "$work" >/dev/null)
mkdir "$work/app"
cd "$work/app"
echo '{ "name": "packed-check", "private": true, "type": "module" }' >package.json
CC=/bin/false CXX=/bin/false npm install --no-audit --no-fund --ignore-scripts=false \
  "$work"/elector-core-*.tgz "$work"/elector-zookeeper-*.tgz
node --input-type=module -e '
  const { openElector } = await import("@elector/zookeeper");
  if (typeof openElector !== "function") throw new Error("@elector/zookeeper did not load");
  console.log("@elector/zookeeper installed with no compiler and loads");
'
