#!/usr/bin/env bash
# Installs the Debian packages Keel needs, if any is missing. As root it runs apt-get;
# with sudo it uses sudo; otherwise it prints the one command to run and fails.
set -euo pipefail
packages=(g++ make cmake ninja-build libboost-context-dev googletest libgtest-dev librapidcheck-dev
          graphviz zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
          clang libclang-rt-14-dev librdkafka-dev
          kcat python3-confluent-kafka)  # real Kafka clients (tests/clients/)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "keel: installing missing packages: ${missing[*]}"
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
