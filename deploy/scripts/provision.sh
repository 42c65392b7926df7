#!/usr/bin/env bash
# Install everything the native cluster needs, from Debian's archive only.
# Idempotent: each step checks first and does nothing when already done.
# Never touches a Redis / RabbitMQ / PostgreSQL that is already running.
set -euo pipefail

CACHE_DIR="${ARISCALE_CACHE_DIR:-/var/cache/ariscale}"
ROOTFS="$CACHE_DIR/rootfs-sid"
CONSUL_DIR="$CACHE_DIR/consul-1.8.7"
MIRROR="http://deb.debian.org/debian"
CHROOT_PKGS=(asterisk asterisk-modules asterisk-core-sounds-en asterisk-moh-opsound-wav)

log() { printf '[provision] %s\n' "$*" >&2; }
die() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (it installs Debian packages and runs Asterisk in a chroot)"
[[ -r /etc/debian_version ]] || die "this is not Debian: make up needs Debian bookworm"
command -v apt-get >/dev/null || die "apt-get not found: make up needs Debian bookworm"

mkdir -p "$CACHE_DIR"

APT_UPDATED=0
apt_update_once() {
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
}

# Packages installed from bookworm: do not let their postinst start daemons with
# the distribution's default config (we start our own instances on our own ports).
install_host_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  apt_update_once
  log "installing ${missing[*]}"
  local created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
  return 0
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Redis and RabbitMQ: install only when nothing answers on their port.
host_pkgs=(kamailio kamailio-extra-modules sip-tester sox debootstrap ca-certificates procps iproute2
  prometheus chromium fonts-dejavu-core)  # prometheus: make up; chromium: the dashboard and /docs tests
port_open 6379 || host_pkgs+=(redis-server)
port_open 5672 || host_pkgs+=(rabbitmq-server)
# Node.js runs npm's ARI client in the compatibility tests; a machine that has its own node keeps it.
command -v node >/dev/null || host_pkgs+=(nodejs)
command -v npm >/dev/null || host_pkgs+=(npm)
install_host_packages "${host_pkgs[@]}"

# Redis and RabbitMQ missing: start them as the machine's own (daemons that outlive make down
# and the test session), exactly as the development machines run them.
if ! port_open 6379; then
  log "starting Redis on 6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --logfile /var/log/redis/ariscale.log
fi
if ! port_open 5672; then
  log "starting RabbitMQ on 5672"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do port_open 5672 && break; sleep 1; done
  port_open 5672 || die "RabbitMQ did not start: see /var/log/rabbitmq/"
fi

# PostgreSQL (the registry's production database; the tests run against it too): only when
# nothing answers on 5432. A server we install is ours to set up: local TCP logins as postgres
# without a password, as on the development machines.
if ! port_open 5432; then
  install_host_packages postgresql
  pg_version=$(ls /etc/postgresql | sort -V | tail -1)
  hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
  grep -q "ariscale" "$hba" || sed -i '1i host all postgres 127.0.0.1/32 trust  # ariscale: tests log in without a password' "$hba"
  log "starting PostgreSQL $pg_version"
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
fi

# Consul 1.8.7 lives only in bullseye: fetch the .deb with a private apt state, unpack it.
if [[ ! -x "$CONSUL_DIR/usr/bin/consul" ]]; then
  log "fetching consul 1.8.7 from bullseye"
  apt_dir="$CACHE_DIR/apt-bullseye"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb $MIRROR bullseye main" > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=-"
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
            -o "Acquire::Check-Valid-Until=false")
  apt-get "${apt_opts[@]}" update -qq >/dev/null
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" download consul >/dev/null)
  rm -rf "$CONSUL_DIR" && mkdir -p "$CONSUL_DIR"
  dpkg -x "$apt_dir"/consul_*.deb "$CONSUL_DIR"
fi

# Asterisk 22 lives only in sid: a minbase chroot, cached outside the clone.
if [[ ! -x "$ROOTFS/usr/sbin/asterisk" ]]; then
  log "building the sid rootfs for Asterisk 22 in $ROOTFS (first run only, ~2 min)"
  rm -rf "$ROOTFS.partial"
  debootstrap --variant=minbase sid "$ROOTFS.partial" "$MIRROR" >/dev/null
  mountpoint -q "$ROOTFS.partial/proc" || mount -t proc proc "$ROOTFS.partial/proc"
  printf '#!/bin/sh\nexit 101\n' > "$ROOTFS.partial/usr/sbin/policy-rc.d"
  chmod +x "$ROOTFS.partial/usr/sbin/policy-rc.d"
  # The mirror's sid Release file can be past its Valid-Until date.
  chroot "$ROOTFS.partial" apt-get -qq -o Acquire::Check-Valid-Until=false update >/dev/null
  DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS.partial" apt-get install -y -qq --no-install-recommends \
    "${CHROOT_PKGS[@]}" >/dev/null
  chroot "$ROOTFS.partial" apt-get clean
  umount "$ROOTFS.partial/proc"
  mv "$ROOTFS.partial" "$ROOTFS"
fi
mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"
# Packages added to the rootfs after it was first built (cached rootfs from an older checkout).
chroot_missing=()
for pkg in "${CHROOT_PKGS[@]}"; do
  chroot "$ROOTFS" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || chroot_missing+=("$pkg")
done
if [[ ${#chroot_missing[@]} -gt 0 ]]; then
  log "adding ${chroot_missing[*]} to the rootfs"
  chroot "$ROOTFS" apt-get -qq -o Acquire::Check-Valid-Until=false update >/dev/null
  DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get install -y -qq --no-install-recommends \
    "${chroot_missing[@]}" >/dev/null
  chroot "$ROOTFS" apt-get clean
fi

# The Python workspace: uv from PyPI, then the locked environment.
if ! command -v uv >/dev/null; then
  log "installing uv"
  python3 -m pip install -q uv
fi
log "ready: rootfs=$ROOTFS consul=$CONSUL_DIR/usr/bin/consul"
