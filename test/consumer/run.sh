#!/usr/bin/env bash
# The consumer test: what a stranger gets from npm. Packs every package, checks what each
# tarball ships, installs the tarballs with plain npm into a scratch app outside the
# workspace, and runs there, against memory and a real etcd container:
#   - an ESM TypeScript program, type-checked with nodenext and strict (and the types again
#     with node10), then run;
#   - a CommonJS program that require()s the packages;
#   - the `elector` CLI.
# Fails on any type error, any missing file, and on any native build in the packages that
# must install without a compiler (NATIVE_FREE: installed with CC=/bin/false CXX=/bin/false and
# install scripts on).
#
# Needs the workspace installed (pnpm install), a Docker engine and the etcd image of
# ELECTOR_ETCD_IMAGE (as the integration tests do), and the npm registry for the packages'
# own dependencies.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/test/consumer"
# The packages installed into the app, none of which may build anything native.
# @elector/zookeeper is among them: its ZooKeeper client is TypeScript, nothing is compiled.
NATIVE_FREE=(core etcd zookeeper fencing cli)
# Packed and checked too, installed beside the app (testcontainers brings optional native
# speed-ups of ssh2 that have nothing to do with elector itself).
OTHERS=(testing metrics)

log() { printf '[consumer %ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/elector-consumer.XXXXXX")"
etcd_pid=""
cleanup() {
  if [[ -n "$etcd_pid" ]]; then
    kill "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
case "$work" in "$repo"/*) die "the scratch directory must be outside the workspace" ;; esac

log "packing into $work/tarballs"
# One at a time: each prepack builds its project references, which packages share.
for name in "${NATIVE_FREE[@]}" "${OTHERS[@]}"; do
  (cd "$repo/packages/$name" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
tarball() { ls "$work/tarballs"/elector-"$1"-*.tgz; }

for name in "${NATIVE_FREE[@]}" "${OTHERS[@]}"; do
  mkdir -p "$work/unpacked/$name"
  tar -xzf "$(tarball "$name")" -C "$work/unpacked/$name"
  node "$here/check-tarball.mjs" "$work/unpacked/$name/package"
done

version() { node -p "require('$repo/node_modules/$1/package.json').version"; }
typescript="typescript@$(version typescript)"
types_node="@types/node@$(version @types/node)"

log "installing ${NATIVE_FREE[*]} with npm, with no compiler"
mkdir -p "$work/app"
cp "$here/app/"* "$work/app/"
printf '{ "name": "elector-consumer", "private": true, "type": "module" }\n' >"$work/app/package.json"
app_tarballs=()
for name in "${NATIVE_FREE[@]}"; do app_tarballs+=("$(tarball "$name")"); done
(
  cd "$work/app"
  CC=/bin/false CXX=/bin/false npm install --no-audit --no-fund --foreground-scripts \
    "${app_tarballs[@]}" "$typescript" "$types_node" >"$work/app-install.log" 2>&1
) || { tail -n 30 "$work/app-install.log" >&2; die "npm install of ${NATIVE_FREE[*]} failed"; }
if grep -nE 'node-gyp|gyp info|prebuild-install|cmake-js' "$work/app-install.log" >&2; then
  die "installing ${NATIVE_FREE[*]} tried to build something native (above)"
fi
native="$(find "$work/app/node_modules" \( -name '*.node' -o -name binding.gyp \) -print)"
[[ -z "$native" ]] || die "native code in the app's dependencies: $native"
log "$(cd "$work/app" && npm ls --all --parseable | tail -n +2 | wc -l) packages installed, nothing native"
node "$here/install-sizes.mjs" "$work/app" "${NATIVE_FREE[@]/#/@elector/}"

log "installing @elector/testing beside it, to start etcd"
mkdir -p "$work/harness"
cp "$here/harness/"* "$work/harness/"
printf '{ "name": "elector-consumer-harness", "private": true, "type": "module" }\n' >"$work/harness/package.json"
# --ignore-scripts: the harness only starts etcd, so ssh2's optional native speed-ups (which
# compile for a minute here) need not build.
(cd "$work/harness" && npm install --no-audit --no-fund --ignore-scripts "$(tarball testing)" \
  >"$work/harness-install.log" 2>&1) ||
  { tail -n 30 "$work/harness-install.log" >&2; die "npm install of @elector/testing failed"; }
node "$here/install-sizes.mjs" "$work/harness" @elector/testing
(cd "$work/harness" && ./node_modules/.bin/elector-build-images --help | head -n 1) ||
  die "the elector-build-images bin of @elector/testing does not run"

log "type-checking: nodenext strict, then node10"
(cd "$work/app" && ./node_modules/.bin/tsc -p tsconfig.json && ./node_modules/.bin/tsc -p tsconfig.node10.json) ||
  die "the consumer programs do not type-check against the packed packages"

log "starting etcd"
mkfifo "$work/etcd-in"
node "$work/harness/start-etcd.mjs" <"$work/etcd-in" >"$work/etcd-endpoint" 2>"$work/etcd.log" &
etcd_pid=$!
exec {hold}>"$work/etcd-in" # start-etcd.mjs removes etcd when this closes
for _ in $(seq 1 120); do
  [[ -s "$work/etcd-endpoint" ]] && break
  kill -0 "$etcd_pid" 2>/dev/null || { cat "$work/etcd.log" >&2; die "etcd did not start"; }
  sleep 1
done
endpoint="$(head -n 1 "$work/etcd-endpoint")"
[[ -n "$endpoint" ]] || die "etcd did not start within 120 s"
export ETCD_ENDPOINT="$endpoint"
log "etcd at $endpoint"

cd "$work/app"
node out/main.js
node main.cjs

cli=./node_modules/.bin/elector
etcd_url="etcd://${endpoint#*://}/consumer-cli"
for url in memory:// "$etcd_url"; do
  # memory:// is refused without --allow-memory: it elects within one process only.
  allow=()
  [[ "$url" == memory://* ]] && allow=(--allow-memory)
  output="$("$cli" run --url "$url" --election cli --once --quiet "${allow[@]}" -- \
    node -e 'console.log(`token=${process.env.ELECTOR_FENCING_TOKEN}`)')"
  [[ "$output" =~ ^token=[0-9]+$ ]] || die "elector run on $url printed \"$output\""
  log "cli run on ${url%%://*}: $output"
done
leader="$("$cli" leader --url "$etcd_url" --election cli 2>&1 || true)"
log "cli leader on etcd after the run: $leader"
"$cli" --help >/dev/null || die "elector --help failed"

exec {hold}>&-
wait "$etcd_pid" && etcd_pid=""
log "passed"
