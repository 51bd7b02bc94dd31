#!/usr/bin/env bash
# Makes sure the services the integration tests use are running on this machine:
# PostgreSQL on 127.0.0.1:5432 and NATS with JetStream on 127.0.0.1:4222; the oldest protoc
# the contracts must compile with (3.5, Debian's python3-grpc-tools); and Slurm's programs with
# munged running (each compute-slurm spec starts its own slurmctld, slurmd and slurmrestd); and
# Debian's python3-onnx, which writes the ONNX models of the runtime-onnx specs; and Debian's
# chromium, which the web UI's specs drive headless (through playwright-core, which never
# downloads a browser).
# Starts them when they are down and installs them (Debian packages) when they are missing.
# Override the addresses with TRELLIS_TEST_PG_URL / TRELLIS_TEST_NATS_URL to use servers elsewhere;
# then this script only checks them.
set -euo pipefail

log() { echo "[services] $*"; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local host=$1 port=$2 name=$3
  for _ in $(seq 1 100); do
    if port_open "$host" "$port"; then return 0; fi
    sleep 0.2
  done
  log "$name did not come up on $host:$port"; return 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then log "$* is missing; install it (needs root: apt-get install -y $*)"; exit 1; fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if [ -n "${TRELLIS_TEST_PG_URL:-}" ]; then log "PostgreSQL: using TRELLIS_TEST_PG_URL"; return; fi
  if port_open 127.0.0.1 5432; then log "PostgreSQL: up on 127.0.0.1:5432"; return; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  log "PostgreSQL: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster "$version" main start
  wait_port 127.0.0.1 5432 PostgreSQL
  # A fresh Debian cluster only trusts the postgres user over the socket; the tests connect over TCP.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    log "PostgreSQL: allowing trust on 127.0.0.1 for tests ($hba)"
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload || pg_ctlcluster "$version" main reload
  fi
}

ensure_nats() {
  if [ -n "${TRELLIS_TEST_NATS_URL:-}" ]; then log "NATS: using TRELLIS_TEST_NATS_URL"; return; fi
  if port_open 127.0.0.1 4222; then log "NATS: up on 127.0.0.1:4222"; return; fi
  if [ ! -x /usr/sbin/nats-server ] && ! command -v nats-server >/dev/null; then apt_install nats-server; fi
  local bin; bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  local store=${TRELLIS_NATS_STORE:-/var/lib/nats-server}
  mkdir -p "$store"
  log "NATS: starting with JetStream (store $store)"
  start-stop-daemon --start --oknodo --background --exec "$bin" -- -a 127.0.0.1 -p 4222 -js -sd "$store" \
    || (nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$store" >/tmp/trellis-nats.log 2>&1 &)
  wait_port 127.0.0.1 4222 NATS
}

# The contracts compile with protoc 3.5 (docs/api-style.md); tools/lint/protoc-compat.spec.ts checks it.
ensure_old_protoc() {
  if /usr/bin/python3 -c 'import grpc_tools.protoc' >/dev/null 2>&1; then log "protoc 3.5: python3-grpc-tools installed"; return; fi
  apt_install python3-grpc-tools
}

# plugins/runtime-onnx's specs and bench write their ONNX models with Debian's python3-onnx
# (run as `command -p python3`: the system interpreter, which sees Debian's modules).
ensure_python_onnx() {
  if PATH=$(getconf PATH) python3 -c 'import onnx' >/dev/null 2>&1; then log "python3-onnx: installed"; return; fi
  apt_install python3-onnx
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then log "chromium: installed"; return; fi
  apt_install chromium
}

# Slurm's daemons are started per spec file by @trellis/plugin-compute-slurm/testing; they all
# authenticate through the one munged of the machine.
ensure_slurm() {
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v slurmrestd >/dev/null || ! command -v munged >/dev/null; then
    apt_install slurm-wlm munge slurmrestd
  fi
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then log "Slurm: installed, munged up"; return; fi
  if [ "$(id -u)" != 0 ]; then log "munged is not running; start it (needs root: runuser -u munge -- munged)"; exit 1; fi
  log "Slurm: starting munged"
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- munged
  munge -n | unmunge >/dev/null
}

ensure_postgres
ensure_nats
ensure_old_protoc
ensure_python_onnx
ensure_chromium
ensure_slurm
