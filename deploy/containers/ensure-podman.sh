#!/usr/bin/env bash
# Makes sure this machine can build and run Trellis images without an image registry: podman,
# buildah and runc (Debian's packages; runc because crun refuses hosts whose cgroups are in hybrid
# mode), and a Debian bookworm base image, localhost/trellis-base:bookworm, made with debootstrap
# (minbase, without apt's caches and docs, like debian:bookworm-slim) and imported into podman.
# Installs and makes what is missing; quick when everything is there. Needs root.
set -euo pipefail

BASE_IMAGE=${TRELLIS_BASE_IMAGE:-localhost/trellis-base:bookworm}
MIRROR=${TRELLIS_DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { echo "[containers] $*"; }

missing=()
for program in podman buildah runc debootstrap; do command -v "$program" >/dev/null || missing+=("$program"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "${missing[*]} missing; install them (needs root: apt-get install -y ${missing[*]})"; exit 1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if podman image exists "$BASE_IMAGE"; then log "base image: $BASE_IMAGE"; exit 0; fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs" "$rootfs.tar"' EXIT
log "base image: debootstrap --variant=minbase bookworm from $MIRROR (a minute or two)"
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -cf "$rootfs.tar" .
podman import --quiet "$rootfs.tar" "$BASE_IMAGE" >/dev/null
log "base image: $BASE_IMAGE imported ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"
