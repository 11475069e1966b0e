#!/usr/bin/env bash
# Builds the etcd, ZooKeeper and PostgreSQL images that the integration tests start, from
# Debian's packages, for machines that cannot reach a container registry.
#
# Each image keeps the command line and environment of its official counterpart, so that
# @elector/testing runs one code path for both:
#   etcd        `etcd --flag ...` (ETCD_* variables), etcd and etcdctl on PATH
#   zookeeper   docker-entrypoint.sh + `zkServer.sh start-foreground`, ZOO_* variables
#   postgres    docker-entrypoint.sh + `postgres`, POSTGRES_* variables and PGDATA
#
# Tags come from ELECTOR_ETCD_IMAGE, ELECTOR_ZOOKEEPER_IMAGE and ELECTOR_POSTGRES_IMAGE, or the
# local defaults below. An image that already exists is skipped, so a second run takes seconds.
# Needs root (debootstrap, chroot), debootstrap, and a Docker engine that answers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
images_dir="$(cd "$here/../images" && pwd)"
source "$here/local-images.env"

etcd_image="${ELECTOR_ETCD_IMAGE:-$ELECTOR_LOCAL_ETCD_IMAGE}"
zookeeper_image="${ELECTOR_ZOOKEEPER_IMAGE:-$ELECTOR_LOCAL_ZOOKEEPER_IMAGE}"
postgres_image="${ELECTOR_POSTGRES_IMAGE:-$ELECTOR_LOCAL_POSTGRES_IMAGE}"
suite="bookworm"

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

docker info >/dev/null 2>&1 ||
  die "no Docker engine answers. Start one (Debian: apt-get install docker.io && dockerd &) and run again."

missing=()
for image in "$etcd_image" "$zookeeper_image" "$postgres_image"; do
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "$image exists, skipped"
  else
    missing+=("$image")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

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
log "debootstrap $suite from $mirror"
debootstrap --variant=minbase "$suite" "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

# rootfs NAME PACKAGES...: a copy of the base with PACKAGES installed, services not started.
rootfs() {
  local name="$1"
  shift
  local root="$work/$name"
  cp -a "$work/base" "$root"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  if ! chroot "$root" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >"$work/$name.log" 2>&1; then
    tail -n 20 "$work/$name.log" >&2
    die "installing $* failed"
  fi
  umount "$root/proc"
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/sbin/policy-rc.d
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

wanted() { [[ " ${missing[*]} " == *" $1 "* ]]; }

if wanted "$etcd_image"; then
  log "building $etcd_image"
  rootfs etcd etcd-server etcd-client ca-certificates
  # The official image keeps its binaries in /usr/local/bin and its data in /var/lib/etcd.
  ln -s /usr/bin/etcd "$work/etcd/usr/local/bin/etcd"
  ln -s /usr/bin/etcdctl "$work/etcd/usr/local/bin/etcdctl"
  mkdir -p "$work/etcd/var/lib/etcd" "$work/etcd/var/etcd"
  import etcd "$etcd_image" \
    'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV ETCDCTL_API=3' \
    'WORKDIR /var/etcd' \
    'EXPOSE 2379 2380' \
    'CMD ["/usr/local/bin/etcd"]'
fi

if wanted "$zookeeper_image"; then
  log "building $zookeeper_image"
  rootfs zookeeper zookeeper default-jre-headless netcat-openbsd
  install -m 0755 "$images_dir/zookeeper/docker-entrypoint.sh" "$work/zookeeper/docker-entrypoint.sh"
  install -m 0755 "$images_dir/zookeeper/zkServer.sh" "$work/zookeeper/usr/local/bin/zkServer.sh"
  mkdir -p "$work/zookeeper"/{conf,data,datalog,logs}
  import zookeeper "$zookeeper_image" \
    'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV ZOO_CONF_DIR=/conf ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog ZOO_LOG_DIR=/logs' \
    'ENV ZOO_TICK_TIME=2000 ZOO_INIT_LIMIT=5 ZOO_SYNC_LIMIT=2 ZOO_AUTOPURGE_PURGEINTERVAL=0' \
    'ENV ZOO_AUTOPURGE_SNAPRETAINCOUNT=3 ZOO_MAX_CLIENT_CNXNS=60 ZOO_STANDALONE_ENABLED=true' \
    'ENV ZOO_ADMINSERVER_ENABLED=true' \
    'EXPOSE 2181 2888 3888 8080' \
    'ENTRYPOINT ["/docker-entrypoint.sh"]' \
    'CMD ["zkServer.sh", "start-foreground"]'
fi

if wanted "$postgres_image"; then
  log "building $postgres_image"
  rootfs postgres postgresql-15 util-linux
  install -m 0755 "$images_dir/postgres/docker-entrypoint.sh" "$work/postgres/usr/local/bin/docker-entrypoint.sh"
  # Debian's package made a cluster of its own; the entrypoint initialises PGDATA instead.
  rm -rf "$work/postgres/var/lib/postgresql/15" "$work/postgres/etc/postgresql/15"
  import postgres "$postgres_image" \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV PGDATA=/var/lib/postgresql/data' \
    'EXPOSE 5432' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' \
    'CMD ["postgres"]'
fi

log "done"
