#!/bin/sh
# zkpool prover: install the agent from this pool and connect, in one command:
#
#   curl -fsSL @POOL@/install.sh | sh -s -- --key zkp_prover_…
#
# Everything comes from the pool that served this script: the `zkpool` binary it runs
# (checked against the sha256 below), nothing from anywhere else. The binary goes to
# ~/.local/bin/zkpool, the key to ~/.config/zkpool/prover.env (mode 0600; never on a command
# line), and the agent starts as a systemd user unit where systemd runs, in the foreground
# otherwise.
set -eu

POOL='@POOL@'
SHA256='@SHA256@'
BUILT_FOR='@OS@ @ARCH@'
SIZE='@SIZE@'

KEY="${ZKPOOL_KEY:-}"
NAME=""
MODE=auto
PREFIX="${HOME}/.local"

usage() {
    cat <<USAGE
zkpool prover install (from ${POOL})

  curl -fsSL ${POOL}/install.sh | sh -s -- --key KEY [options]

  --key KEY       your prover access key (zkp_prover_…; the pool operator gives it), or ZKPOOL_KEY
  --name NAME     this machine's name on the dashboard (default: the hostname)
  --pool URL      the pool's URL (default: ${POOL})
  --prefix DIR    install into DIR/bin (default: ~/.local)
  --foreground    run the agent in this terminal, never as a service
  --systemd       run it as a systemd user unit (fail if systemd is not there)
  --no-start      install only
USAGE
}

die() {
    echo "zkpool install: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --key) [ $# -ge 2 ] || die "--key needs a value"; KEY="$2"; shift 2 ;;
        --name) [ $# -ge 2 ] || die "--name needs a value"; NAME="$2"; shift 2 ;;
        --pool) [ $# -ge 2 ] || die "--pool needs a value"; POOL="$2"; shift 2 ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; PREFIX="$2"; shift 2 ;;
        --foreground) MODE=foreground; shift ;;
        --systemd) MODE=systemd; shift ;;
        --no-start) MODE=none; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option $1" ;;
    esac
done

[ -n "$KEY" ] || die "give your prover key: --key zkp_prover_… (the pool operator creates it with 'zkpool keys create --role prover')"
case "$KEY" in
    zkp_prover_*) ;;
    *) die "that is not a prover key (it should start with zkp_prover_)" ;;
esac

here="$(uname -s) $(uname -m)"
[ "$here" = "$BUILT_FOR" ] || die "this pool serves an agent built for ${BUILT_FOR}; this machine is ${here}"

if command -v sha256sum >/dev/null 2>&1; then
    sha() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    die "need sha256sum or shasum to check the download"
fi
if command -v curl >/dev/null 2>&1; then
    fetch() { curl -fsSL "$1" -o "$2"; }
elif command -v wget >/dev/null 2>&1; then
    fetch() { wget -q "$1" -O "$2"; }
else
    die "need curl or wget"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "downloading the zkpool agent (${SIZE} bytes) from ${POOL}"
fetch "${POOL}/v1/agent/zkpool" "$tmp/zkpool" || die "download from ${POOL} failed"
got="$(sha "$tmp/zkpool")"
[ "$got" = "$SHA256" ] || die "the download's sha256 is ${got}, the pool announced ${SHA256}: not installed"

mkdir -p "$PREFIX/bin"
chmod 0755 "$tmp/zkpool"
mv -f "$tmp/zkpool" "$PREFIX/bin/zkpool"
echo "installed $PREFIX/bin/zkpool (sha256 ${SHA256})"

conf="${XDG_CONFIG_HOME:-$HOME/.config}/zkpool"
mkdir -p "$conf"
env_file="$conf/prover.env"
(
    umask 077
    {
        echo "ZKPOOL_POOL=${POOL}"
        echo "ZKPOOL_KEY=${KEY}"
        [ -z "$NAME" ] || echo "ZKPOOL_NAME=${NAME}"
    } >"$env_file.tmp"
)
mv -f "$env_file.tmp" "$env_file"

has_systemd() {
    command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1
}

case "$MODE" in
    none)
        echo "start it with: set -a; . $env_file; set +a; $PREFIX/bin/zkpool prover"
        exit 0
        ;;
    auto)
        if has_systemd; then MODE=systemd; else MODE=foreground; fi
        ;;
    systemd)
        has_systemd || die "systemd (user instance) is not running here; use --foreground"
        ;;
esac

if [ "$MODE" = systemd ]; then
    unit_dir="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
    mkdir -p "$unit_dir"
    cat >"$unit_dir/zkpool-prover.service" <<UNIT
[Unit]
Description=zkpool prover agent for ${POOL}
After=network-online.target

[Service]
EnvironmentFile=${env_file}
ExecStart=${PREFIX}/bin/zkpool prover
Restart=on-failure
RestartSec=5

[Install]
WantedBy=default.target
UNIT
    systemctl --user daemon-reload
    systemctl --user enable --now zkpool-prover.service
    echo "the agent runs as the systemd user unit zkpool-prover (journalctl --user -u zkpool-prover -f)"
    echo "dashboard: ${POOL}/"
    exit 0
fi

echo "starting the agent in the foreground (Ctrl-C stops it); dashboard: ${POOL}/"
set -a
. "$env_file"
set +a
exec "$PREFIX/bin/zkpool" prover
