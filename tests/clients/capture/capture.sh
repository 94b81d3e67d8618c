#!/usr/bin/env bash
# Captures the request frames real Kafka clients send (docs/protocol-captures.md).
#   tests/clients/capture/capture.sh [CLIENT...]    (default: all five)
# Needs: cc, librdkafka-dev, kcat, python3-confluent-kafka, python3-kafka, node + npm
# (kafkajs 2.2.4 and @platformatic/kafka 2.12.1 are installed into a scratch directory).
# ADVERTISE=kafka3 makes the proxy advertise Kafka 3.7's newest versions instead of the
# mock's, so clients send their newest requests; those sessions are labelled
# "<client>+kafka3".
# TARGET=keel puts the proxy in front of a real single-node `keel server` (KEEL=, default
# build/rel/cli/keel) instead of the mock: the proxy passes Keel's ApiVersions through (adding
# only DeleteRecords, which Keel does not serve yet),
# and after the client's driver an admin driver (drivers/admin_*) calls the admin APIs
# Keel answers and the mock lacks (CreatePartitions, AlterConfigs, DeleteRecords, groups).
# Those sessions are labelled "<client>+keel"; kcat has no admin API and is skipped.
# Writes tests/protocol/captures/<client>/*.bin and rewrites those clients' lines of
# tests/protocol/captures/manifest.tsv. Not run by `make test`: it needs network installs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/tests/protocol/captures"
py="${PYTHON:-/usr/bin/python3}"  # Debian's, which has the client packages
work="${CAPTURE_WORK:-/tmp/keel-capture}"
clients=("$@")
[ ${#clients[@]} -eq 0 ] && clients=(kcat confluent-kafka kafka-python kafkajs platformatic-kafka)
mkdir -p "$work" "$out"
target="${TARGET:-mock}"
keel="${KEEL:-$root/build/rel/cli/keel}"
if [ "$target" = keel ]; then
    [ -x "$keel" ] || { echo "capture: no keel binary at $keel (build it or set KEEL=)"; exit 1; }
    keep=()
    for c in "${clients[@]}"; do [ "$c" = kcat ] || keep+=("$c"); done
    clients=("${keep[@]}")
else
    cc -O1 -o "$work/mock_cluster" "$here/mock_cluster.c" -lrdkafka
fi
if [ ! -d "$work/node_modules/kafkajs" ] || [ ! -d "$work/node_modules/@platformatic/kafka" ]; then
    (cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund kafkajs@2.2.4 @platformatic/kafka@2.12.1)
fi

version_of() {
    case "$1" in
        kcat) echo "kcat $(dpkg-query -W -f='${Version}' kcat) librdkafka $(dpkg-query -W -f='${Version}' librdkafka1)" ;;
        confluent-kafka) echo "confluent-kafka $($py -c 'import confluent_kafka as c; print(c.version()[0])') librdkafka $($py -c 'import confluent_kafka as c; print(c.libversion()[0])')" ;;
        kafka-python) echo "kafka-python $($py -c 'import kafka; print(kafka.__version__)')" ;;
        kafkajs) echo "kafkajs $(node -p "require('$work/node_modules/kafkajs/package.json').version") node $(node --version)" ;;
        platformatic-kafka) echo "@platformatic/kafka $(node -p "require('$work/node_modules/@platformatic/kafka/package.json').version") node $(node --version)" ;;
    esac
}

drive() {
    local client="$1" broker="$2"
    case "$client" in
        kcat) bash "$here/drivers/kcat.sh" "$broker" ;;
        confluent-kafka) $py "$here/drivers/drive_confluent_kafka.py" "$broker" ;;
        kafka-python) $py "$here/drivers/drive_kafka_python.py" "$broker" ;;
        kafkajs) NODE_PATH="$work/node_modules" node "$here/drivers/kafkajs.js" "$broker" ;;
        platformatic-kafka) cp "$here/drivers/platformatic_kafka.mjs" "$work/" && node "$work/platformatic_kafka.mjs" "$broker" ;;
    esac
}

drive_admin() {  # TARGET=keel: the admin APIs only a real server answers
    local client="$1" broker="$2"
    case "$client" in
        confluent-kafka) $py "$here/drivers/admin_confluent_kafka.py" "$broker" ;;
        kafka-python) $py "$here/drivers/admin_kafka_python.py" "$broker" ;;
        kafkajs) NODE_PATH="$work/node_modules" node "$here/drivers/admin_kafkajs.js" "$broker" ;;
        platformatic-kafka) cp "$here/drivers/admin_platformatic_kafka.mjs" "$work/" && node "$work/admin_platformatic_kafka.mjs" "$broker" ;;
    esac
}

# Starts a single-node `keel server` on client port $1 (controller $1+1, controller RPC
# $1+2) in $work/keel-$2, waits until it serves the topic `captures`; sets keel_pid.
start_keel() {
    local kport="$1" dir="$work/keel-$2"
    rm -rf "$dir"
    mkdir -p "$dir"
    cat > "$dir/server.properties" <<PROPS
# written by tests/clients/capture/capture.sh (TARGET=keel)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((kport + 1))
listeners=PLAINTEXT://127.0.0.1:$kport,CONTROLLER://127.0.0.1:$((kport + 1))
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
cluster.id=keel-captures
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
PROPS
    "$keel" server --config "$dir/server.properties" > "$dir/server.log" 2>&1 &
    keel_pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$kport") 2>/dev/null && break
        kill -0 "$keel_pid" 2>/dev/null || break
        sleep 0.2
    done
    # A controller elected and the topic `captures` served (not recorded: no proxy).
    $py "$here/keel_ready.py" "127.0.0.1:$kport" 60 && return 0
    echo "capture: keel server did not start; see $dir/server.log"
    return 1
}

port=39092
kport=19192  # TARGET=keel: the keel server's client port (+1 controller, +2 controller RPC)
advertise="${ADVERTISE:-mock}"
[ "$target" = keel ] && { advertise=keel; port=19292; }
for client in "${clients[@]}"; do
    label="$client"
    [ "$advertise" = kafka3 ] && label="$client+kafka3"
    [ "$target" = keel ] && label="$client+keel"
    rm -rf "${out:?}/$label"
    [ -f "$out/manifest.tsv" ] && { grep -v -P "^\Q$label\E/" "$out/manifest.tsv" > "$work/manifest.tmp" || true; mv "$work/manifest.tmp" "$out/manifest.tsv"; }
    if [ "$target" = keel ]; then
        start_keel "$kport" "$label" || { kill "$keel_pid" 2>/dev/null; wait "$keel_pid" 2>/dev/null; exit 1; }
        upstream="127.0.0.1:$kport"
    else
        coproc MOCK { exec "$work/mock_cluster" 1 captures; }
        read -r upstream <&"${MOCK[0]}"
    fi
    $py "$here/record_proxy.py" --upstream "$upstream" --listen "$port" --client "$label" --advertise "$advertise" \
        --client-version "$(version_of "$client")" --out "$out" > "$work/proxy-$label.log" 2>&1 &
    proxy=$!
    sleep 1
    echo "capture: $client via 127.0.0.1:$port -> $upstream ($target)"
    timeout 120 bash -c "$(declare -f drive); py='$py' here='$here' work='$work' drive '$client' 127.0.0.1:$port" || echo "capture: $client driver exited with $?"
    if [ "$target" = keel ]; then
        timeout 120 bash -c "$(declare -f drive_admin); py='$py' here='$here' work='$work' drive_admin '$client' 127.0.0.1:$port" || echo "capture: $client admin driver exited with $?"
    fi
    kill "$proxy" 2>/dev/null || true
    wait "$proxy" 2>/dev/null || true
    if [ "$target" = keel ]; then
        kill "$keel_pid" 2>/dev/null || true
        wait "$keel_pid" 2>/dev/null || true
        kport=$((kport + 10))
    else
        eval "exec ${MOCK[1]}>&-"
        wait "$MOCK_PID" 2>/dev/null || true
    fi
    echo "capture: $label: $(ls "$out/$label" | wc -l) frames"
    port=$((port + 1))
done
sort -t/ -k1,1 -s "$out/manifest.tsv" -o "$out/manifest.tsv"
