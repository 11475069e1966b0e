#!/usr/bin/env bash
# Builds the etcd, ZooKeeper and PostgreSQL images that the integration tests start, from
# Debian's packages, for machines that cannot reach a container registry. Ships with
# @elector/testing as the `elector-build-images` bin; `pnpm images` runs it in the repository.
#
#   Debian 13 (trixie):   etcd 3.5.16, ZooKeeper 3.9.3    (the default servers)
#   Debian 12 (bookworm): etcd 3.4.23, ZooKeeper 3.8.0    (the older servers CI tests too)
#                         PostgreSQL 15
#
# Each image keeps the command line and environment of its official counterpart, so that
# @elector/testing runs one code path for both:
#   etcd        `etcd --flag ...` (ETCD_* variables), etcd and etcdctl on PATH
#   zookeeper   docker-entrypoint.sh + `zkServer.sh start-foreground`, ZOO_* variables
#   postgres    docker-entrypoint.sh + `postgres`, POSTGRES_* variables and PGDATA
#
# Tags come from local-images.env beside this script (ELECTOR_LOCAL_* variables; set one in
# the environment to build under another tag). A tag names the server version: the build fails
# when Debian's package is another version. An image that already exists is skipped, so a
# second run takes seconds. At the end it prints the variables that point the tests at them.
# Needs root (debootstrap, chroot), debootstrap, and a Docker engine that answers.
set -euo pipefail

here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
# The environment wins over the file.
etcd_image="${ELECTOR_LOCAL_ETCD_IMAGE:-}"
zookeeper_image="${ELECTOR_LOCAL_ZOOKEEPER_IMAGE:-}"
postgres_image="${ELECTOR_LOCAL_POSTGRES_IMAGE:-}"
etcd_3_4_image="${ELECTOR_LOCAL_ETCD_3_4_IMAGE:-}"
zookeeper_3_8_image="${ELECTOR_LOCAL_ZOOKEEPER_3_8_IMAGE:-}"
# shellcheck source=./local-images.env
source "$here/local-images.env"
etcd_image="${etcd_image:-$ELECTOR_LOCAL_ETCD_IMAGE}"
zookeeper_image="${zookeeper_image:-$ELECTOR_LOCAL_ZOOKEEPER_IMAGE}"
postgres_image="${postgres_image:-$ELECTOR_LOCAL_POSTGRES_IMAGE}"
etcd_3_4_image="${etcd_3_4_image:-$ELECTOR_LOCAL_ETCD_3_4_IMAGE}"
zookeeper_3_8_image="${zookeeper_3_8_image:-$ELECTOR_LOCAL_ZOOKEEPER_3_8_IMAGE}"

# tag suite recipe: every image this script builds.
images=(
  "$etcd_image trixie etcd"
  "$zookeeper_image trixie zookeeper"
  "$postgres_image bookworm postgres"
  "$etcd_3_4_image bookworm etcd"
  "$zookeeper_3_8_image bookworm zookeeper"
)

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "${1:-}" in
  "") ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) die "takes no arguments, got $1 (see --help)" ;;
esac

print_exports() {
  log "point the tests at them (TESTCONTAINERS_RYUK_DISABLED: Ryuk's image cannot be pulled either):"
  printf 'export ELECTOR_ETCD_IMAGE=%s ELECTOR_ZOOKEEPER_IMAGE=%s ELECTOR_POSTGRES_IMAGE=%s TESTCONTAINERS_RYUK_DISABLED=true\n' \
    "$etcd_image" "$zookeeper_image" "$postgres_image"
  log "and for the older servers: ELECTOR_ETCD_IMAGE=$etcd_3_4_image ELECTOR_ZOOKEEPER_IMAGE=$zookeeper_3_8_image"
}

docker info >/dev/null 2>&1 ||
  die "no Docker engine answers. Start one (Debian: apt-get install docker.io && dockerd &) and run again."

missing=()
for entry in "${images[@]}"; do
  read -r tag _ _ <<<"$entry"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, skipped"
  else
    missing+=("$entry")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  print_exports
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || die "building images needs root (debootstrap and chroot); run it with sudo."
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"

# The Debian mirror this machine's apt already uses, unless ELECTOR_DEBIAN_MIRROR names one.
debian_mirror() {
  if [[ -n "${ELECTOR_DEBIAN_MIRROR:-}" ]]; then
    echo "$ELECTOR_DEBIAN_MIRROR"
    return
  fi
  local uri
  uri="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)"
  [[ -n "$uri" ]] || uri="$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1)"
  [[ -n "$uri" ]] || die "no Debian mirror found in /etc/apt; set ELECTOR_DEBIAN_MIRROR"
  echo "$uri"
}

work="$(mktemp -d /var/tmp/elector-images.XXXXXX)"
cleanup() {
  for dir in "$work"/*/; do
    mountpoint -q "${dir}proc" 2>/dev/null && umount "${dir}proc"
  done
  rm -rf "$work"
}
trap cleanup EXIT

mirror="$(debian_mirror)"

# base SUITE: a minimal Debian SUITE, bootstrapped once per run.
base() {
  local suite="$1"
  [[ -d "$work/base-$suite" ]] && return
  log "debootstrap $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$work/base-$suite" "$mirror" >"$work/debootstrap-$suite.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap-$suite.log" >&2; die "debootstrap $suite failed"; }
}

# rootfs NAME SUITE PACKAGES...: a copy of SUITE's base with PACKAGES installed, services not
# started.
rootfs() {
  local name="$1" suite="$2"
  shift 2
  local root="$work/$name"
  base "$suite"
  cp -a "$work/base-$suite" "$root"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  if ! chroot "$root" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >"$work/$name.log" 2>&1; then
    tail -n 20 "$work/$name.log" >&2
    die "installing $* on $suite failed"
  fi
  umount "$root/proc"
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/sbin/policy-rc.d
}

# check_version NAME PACKAGE TAG: the version in TAG ("name:3.5.16-debian") is the upstream
# version of PACKAGE in rootfs NAME, so that a tag never lies about the server it runs.
check_version() {
  local name="$1" package="$2" tag="$3"
  local wanted="${tag##*:}"
  wanted="${wanted%-debian}"
  local installed
  installed="$(chroot "$work/$name" dpkg-query -W -f '${Version}' "$package")"
  local upstream="${installed#*:}"
  upstream="${upstream%%[-+~]*}"
  [[ "$upstream" == "$wanted" || "$upstream" == "$wanted".* ]] ||
    die "$tag: Debian's $package is $installed, not $wanted; tag it by the version it runs (set ELECTOR_LOCAL_*_IMAGE)"
  log "$tag: $package $installed"
}

# import NAME TAG CHANGE...: the rootfs as a single-layer image.
import() {
  local name="$1" tag="$2"
  shift 2
  local changes=()
  for change in "$@"; do changes+=(--change "$change"); done
  log "importing $tag"
  tar -C "$work/$name" --numeric-owner -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  rm -rf "${work:?}/$name"
}

build_etcd() {
  local tag="$1" suite="$2"
  rootfs etcd "$suite" etcd-server etcd-client ca-certificates
  check_version etcd etcd-server "$tag"
  # The official image keeps its binaries in /usr/local/bin and its data in /var/lib/etcd.
  ln -s /usr/bin/etcd "$work/etcd/usr/local/bin/etcd"
  ln -s /usr/bin/etcdctl "$work/etcd/usr/local/bin/etcdctl"
  mkdir -p "$work/etcd/var/lib/etcd" "$work/etcd/var/etcd"
  import etcd "$tag" \
    'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV ETCDCTL_API=3' \
    'WORKDIR /var/etcd' \
    'EXPOSE 2379 2380' \
    'CMD ["/usr/local/bin/etcd"]'
}

build_zookeeper() {
  local tag="$1" suite="$2"
  rootfs zookeeper "$suite" zookeeper default-jre-headless netcat-openbsd
  check_version zookeeper zookeeper "$tag"
  install -m 0755 "$here/zookeeper/docker-entrypoint.sh" "$work/zookeeper/docker-entrypoint.sh"
  install -m 0755 "$here/zookeeper/zkServer.sh" "$work/zookeeper/usr/local/bin/zkServer.sh"
  mkdir -p "$work/zookeeper"/{conf,data,datalog,logs}
  import zookeeper "$tag" \
    'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV ZOO_CONF_DIR=/conf ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog ZOO_LOG_DIR=/logs' \
    'ENV ZOO_TICK_TIME=2000 ZOO_INIT_LIMIT=5 ZOO_SYNC_LIMIT=2 ZOO_AUTOPURGE_PURGEINTERVAL=0' \
    'ENV ZOO_AUTOPURGE_SNAPRETAINCOUNT=3 ZOO_MAX_CLIENT_CNXNS=60 ZOO_STANDALONE_ENABLED=true' \
    'ENV ZOO_ADMINSERVER_ENABLED=true' \
    'EXPOSE 2181 2888 3888 8080' \
    'ENTRYPOINT ["/docker-entrypoint.sh"]' \
    'CMD ["zkServer.sh", "start-foreground"]'
}

build_postgres() {
  local tag="$1" suite="$2"
  local major="${tag##*:}"
  major="${major%%[-.]*}"
  rootfs postgres "$suite" "postgresql-$major" util-linux
  check_version postgres "postgresql-$major" "$tag"
  install -m 0755 "$here/postgres/docker-entrypoint.sh" "$work/postgres/usr/local/bin/docker-entrypoint.sh"
  # Debian's package made a cluster of its own; the entrypoint initialises PGDATA instead.
  rm -rf "$work/postgres/var/lib/postgresql/$major" "$work/postgres/etc/postgresql/$major"
  import postgres "$tag" \
    "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" \
    'ENV PGDATA=/var/lib/postgresql/data' \
    'EXPOSE 5432' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' \
    'CMD ["postgres"]'
}

for entry in "${missing[@]}"; do
  read -r tag suite recipe <<<"$entry"
  log "building $tag on Debian $suite"
  "build_$recipe" "$tag" "$suite"
done

log "done"
print_exports
