#!/usr/bin/env bash
# The stack's single-node Kafka (KRaft, broker + controller in one JVM), run from the
# jars install.sh put in $KAFKA_LIBS. State lives in $WEIQUAN_RUN_DIR/kafka.
#   kafka.sh run    write server.properties, format storage on first start, exec the broker
#                   in the foreground (what supervisord runs)
#   kafka.sh wait   block until the broker answers a metadata request (90 s max)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
. "$HERE/env.sh"

KAFKA_DIR="$WEIQUAN_RUN_DIR/kafka"
DATA_DIR="$KAFKA_DIR/data"
PROPS="$KAFKA_DIR/server.properties"
LOG4J="$HERE/kafka/log4j2.yaml"
BROKER_HOST="${WEIQUAN_KAFKA_BOOTSTRAP%:*}"
BROKER_PORT="${WEIQUAN_KAFKA_BOOTSTRAP##*:}"

die() { echo "kafka.sh: ERROR: $*" >&2; exit 1; }

# sed replacement text must not be read as sed syntax (&, \ and the | delimiter).
sed_escape() { printf '%s' "$1" | sed -e 's/[&|\\]/\\&/g'; }

write_properties() {
    install -d -m 700 "$KAFKA_DIR"
    # Regenerated on every start, so a changed template or port takes effect on restart.
    sed -e "s|@HOST@|$(sed_escape "$BROKER_HOST")|g" \
        -e "s|@BROKER_PORT@|$(sed_escape "$BROKER_PORT")|g" \
        -e "s|@CONTROLLER_PORT@|$(sed_escape "$KAFKA_CONTROLLER_PORT")|g" \
        -e "s|@DATA_DIR@|$(sed_escape "$DATA_DIR")|g" \
        "$HERE/kafka/server.properties" >"$PROPS.tmp"
    if grep -q '@[A-Z_]*@' "$PROPS.tmp"; then
        die "unsubstituted placeholder in $PROPS.tmp: $(grep -o '@[A-Z_]*@' "$PROPS.tmp" | head -1)"
    fi
    mv "$PROPS.tmp" "$PROPS"
}

# Kafka 4 is KRaft only: storage must be formatted with a cluster id before the first
# start. meta.properties is written by the format; without it the data dir holds at most
# the debris of an interrupted format, so it is cleared and formatted again.
format_once() {
    if [ -f "$DATA_DIR/meta.properties" ]; then
        return
    fi
    echo "kafka.sh: formatting new KRaft storage in $DATA_DIR"
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
    local java_opts=(-Xmx256m -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J" -cp "$KAFKA_LIBS/*")
    local cluster_id
    cluster_id="$(java "${java_opts[@]}" kafka.tools.StorageTool random-uuid)"
    java "${java_opts[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$PROPS"
}

cmd_run() {
    [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] \
        || die "Kafka $KAFKA_VERSION jars not found in $KAFKA_LIBS; run deploy/local/install.sh"
    command -v java >/dev/null 2>&1 || die "java not found; run deploy/local/install.sh"
    # The broker needs no application secrets; do not hand them down.
    unset WEIQUAN_PII_KEYS WEIQUAN_PII_INDEX_KEY
    # Every PostgreSQL password: the provisioning role's and each service's.
    for var in $(compgen -e); do
        case "$var" in WEIQUAN_PG_PASSWORD*) unset "$var" ;; esac
    done
    # Every file the broker writes (its logs hold the events) is the stack user's only.
    umask 077
    write_properties
    format_once
    # exec: supervisord must signal (and see the death of) the JVM itself, not a shell.
    # Heap sized for a 2-core dev box (starting small: idle memory is budgeted, the heap
    # grows under load); G1 with short pauses as Kafka's own scripts use;
    # ExitOnOutOfMemoryError so supervisord restarts a broken JVM instead of leaving it.
    exec java -Xms128m -Xmx512m \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$PROPS"
}

cmd_wait() {
    local py="$WEIQUAN_ROOT/.venv/bin/python"
    [ -x "$py" ] || die "$py not found; run deploy/local/install.sh"
    # One Python process for the whole wait (importing aiokafka costs ~0.5 s): first the
    # TCP port, then a real metadata round trip, since the port opens before the broker
    # can serve requests.
    # exec: stack.sh may kill this wait early (when supervisord gives up on Kafka).
    exec "$py" - "$BROKER_HOST" "$BROKER_PORT" 90 "$DATA_DIR/meta.properties" <<'PY'
import asyncio
import logging
import socket
import sys
import time

host, port, timeout, meta_path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
deadline = time.monotonic() + timeout
logging.disable(logging.CRITICAL)  # aiokafka logs every refused connection while we poll


def fail(why: str) -> int:
    print(f"kafka.sh: Kafka is not ready on {host}:{port}: {why}", file=sys.stderr)
    return 1


def own_cluster_id() -> str | None:
    """This stack's cluster id, written by the storage format; None before the first format."""
    try:
        with open(meta_path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


async def main() -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                return fail(f"port still closed after {timeout:.0f} s ({exc})")
            await asyncio.sleep(0.5)

    last = "no answer"
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=f"{host}:{port}", request_timeout_ms=5000)
        try:
            await asyncio.wait_for(admin.start(), 10)
            topics = await asyncio.wait_for(admin.list_topics(), 10)
            # A foreign Kafka on our port would answer too: compare cluster ids.
            cluster = await asyncio.wait_for(admin.describe_cluster(), 10)
            theirs, ours = cluster.get("cluster_id"), own_cluster_id()
            if ours is not None and theirs != ours:
                return fail(f"the broker there has cluster id {theirs}, not this stack's "
                            f"{ours}: is another Kafka using the port?")
            print(f"kafka: ready on {host}:{port} ({len(topics)} topics)")
            return 0
        except Exception as exc:  # broker still starting: retry until the deadline
            last = f"{type(exc).__name__}: {exc}"
        finally:
            try:
                await admin.close()
            except Exception:
                pass
        await asyncio.sleep(1)
    return fail(f"no answer after {timeout:.0f} s ({last})")


sys.exit(asyncio.run(main()))
PY
}

case "${1:-}" in
    run) cmd_run ;;
    wait) cmd_wait ;;
    *) echo "usage: $0 run|wait" >&2; exit 2 ;;
esac
