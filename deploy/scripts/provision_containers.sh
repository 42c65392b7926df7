#!/usr/bin/env bash
# Install and configure podman, and make the base images the cluster's images start from.
# No image registry is reachable: base images are Debian root filesystems from Debian's archive
# (debootstrap), imported into podman. Idempotent and cached under /var/cache/ariscale.
set -euo pipefail

CACHE_DIR="${ARISCALE_CACHE_DIR:-/var/cache/ariscale}"
MIRROR="http://deb.debian.org/debian"
BOOKWORM="$CACHE_DIR/rootfs-bookworm"
SID="$CACHE_DIR/rootfs-sid"

log() { printf '[provision-containers] %s\n' "$*" >&2; }
die() { printf '[provision-containers] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root"
[[ -x "$SID/usr/sbin/asterisk" ]] || die "no Asterisk rootfs in $SID: run deploy/scripts/provision.sh first"

missing=()
for pkg in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# crun refuses this machine's hybrid cgroups ("cgroups in hybrid mode not supported"): runc works.
# Raising rlimits is not permitted here, so containers keep the limits they are given.
conf=/etc/containers/containers.conf
if [[ ! -e $conf ]]; then
  log "writing $conf (runtime runc, no default ulimits)"
  mkdir -p /etc/containers
  cat > "$conf" <<'CONF'
# Written by ariscale's deploy/scripts/provision_containers.sh.
[containers]
# Raising the file and process limits is not permitted on these machines.
default_ulimits = []

[engine]
# crun refuses hybrid cgroups; runc works.
runtime = "runc"
CONF
elif ! grep -q '^runtime *= *"runc"' "$conf" || ! grep -q '^default_ulimits *= *\[\]' "$conf"; then
  die "$conf exists without runtime = \"runc\" and default_ulimits = []: add them by hand"
fi

# Images live under the cache too, so a fresh clone on this machine reuses them.
storage=/etc/containers/storage.conf
if [[ ! -e $storage && ! -d /var/lib/containers/storage ]]; then
  log "writing $storage (images under $CACHE_DIR/containers)"
  cat > "$storage" <<CONF
# Written by ariscale's deploy/scripts/provision_containers.sh.
[storage]
driver = "overlay"
graphroot = "$CACHE_DIR/containers/storage"
runroot = "/run/containers/storage"
CONF
fi

image_exists() { podman image exists "$1"; }

# Python services and Kamailio: a minimal bookworm (the same Python 3.11 as the workspace).
if ! image_exists localhost/ariscale-bookworm; then
  if [[ ! -x "$BOOKWORM/usr/bin/apt-get" ]]; then
    log "debootstrap bookworm into $BOOKWORM (first run only)"
    rm -rf "$BOOKWORM.partial"
    debootstrap --variant=minbase bookworm "$BOOKWORM.partial" "$MIRROR" >/dev/null
    rm -rf "$BOOKWORM.partial/var/cache/apt/archives/"*.deb
    mv "$BOOKWORM.partial" "$BOOKWORM"
  fi
  log "importing localhost/ariscale-bookworm"
  tar --one-file-system -C "$BOOKWORM" -c . | podman import -q - localhost/ariscale-bookworm >/dev/null
fi

# Asterisk: the sid rootfs the native cluster uses, without /proc and the native nodes' files.
# Imported again when provision.sh has changed its packages (the label holds their checksum).
sid_packages=$(md5sum < "$SID/var/lib/dpkg/status" | cut -d' ' -f1)
imported=$(podman image inspect --format '{{index .Labels "ariscale.packages"}}' localhost/ariscale-sid 2>/dev/null || true)
if [[ "$imported" != "$sid_packages" ]]; then
  log "importing localhost/ariscale-sid from $SID"
  tar --one-file-system --exclude=./var/lib/ariscale --exclude=./usr/sbin/policy-rc.d \
    -C "$SID" -c . | podman import -q --change "LABEL ariscale.packages=$sid_packages" - localhost/ariscale-sid >/dev/null
fi
log "ready: $(podman --version), base images localhost/ariscale-bookworm, localhost/ariscale-sid"
