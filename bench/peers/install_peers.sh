#!/usr/bin/env bash
# Installs the peers `make bench-peers` compares Keel with, if missing: nats-server (NATS
# with JetStream) and redis-server + redis-tools, from Debian. Not part of the default
# dependencies (cmake/install_deps.sh): only the benchmark needs them. As root it runs
# apt-get; with sudo it uses sudo; otherwise it prints the command to run and fails.
set -euo pipefail
packages=(nats-server redis-server redis-tools)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "keel: installing the benchmark peers: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
    echo "keel: not root; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
