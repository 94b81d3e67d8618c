#!/usr/bin/env bash
# Captures the request frames real Kafka clients send (docs/protocol-captures.md).
#   tests/clients/capture/capture.sh [CLIENT...]    (default: all five)
# Needs: cc, librdkafka-dev, kcat, python3-confluent-kafka, python3-kafka, node + npm
# (kafkajs 2.2.4 and @platformatic/kafka 2.12.1 are installed into a scratch directory).
# ADVERTISE=kafka3 makes the proxy advertise Kafka 3.7's newest versions instead of the
# mock's, so clients send their newest requests; those sessions are labelled
# "<client>+kafka3".
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
cc -O1 -o "$work/mock_cluster" "$here/mock_cluster.c" -lrdkafka
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

port=39092
advertise="${ADVERTISE:-mock}"
for client in "${clients[@]}"; do
    label="$client"
    [ "$advertise" = kafka3 ] && label="$client+kafka3"
    rm -rf "${out:?}/$label"
    [ -f "$out/manifest.tsv" ] && { grep -v -P "^\Q$label\E/" "$out/manifest.tsv" > "$work/manifest.tmp" || true; mv "$work/manifest.tmp" "$out/manifest.tsv"; }
    coproc MOCK { exec "$work/mock_cluster" 1 captures; }
    read -r upstream <&"${MOCK[0]}"
    $py "$here/record_proxy.py" --upstream "$upstream" --listen "$port" --client "$label" --advertise "$advertise" \
        --client-version "$(version_of "$client")" --out "$out" > "$work/proxy-$label.log" 2>&1 &
    proxy=$!
    sleep 1
    echo "capture: $client via 127.0.0.1:$port -> $upstream"
    timeout 120 bash -c "$(declare -f drive); py='$py' here='$here' work='$work' drive '$client' 127.0.0.1:$port" || echo "capture: $client driver exited with $?"
    kill "$proxy" 2>/dev/null || true
    wait "$proxy" 2>/dev/null || true
    eval "exec ${MOCK[1]}>&-"
    wait "$MOCK_PID" 2>/dev/null || true
    echo "capture: $label: $(ls "$out/$label" | wc -l) frames"
    port=$((port + 1))
done
sort -t/ -k1,1 -s "$out/manifest.tsv" -o "$out/manifest.tsv"
