#!/usr/bin/env bash
# A project-local Apache Kafka 4.4 broker (KRaft, one node) for tests and development.
# No Docker: Kafka's jars come from Maven Central (scripts/kafka/pom.xml, fetched once
# into the user's cache) and run on the machine's Java 17+.
#
#   scripts/kafka.sh start       fetch jars if needed, format storage once, start; idempotent
#   scripts/kafka.sh stop        SIGTERM (controlled shutdown), SIGKILL after a grace period
#   scripts/kafka.sh restart     stop, then start (tests restart the broker mid-run)
#   scripts/kafka.sh status      exit 0 when the broker answers, 3 when it does not
#   scripts/kafka.sh bootstrap   print the bootstrap address
#
# Environment: JTS_KAFKA_DIR (data folder, default <repo>/.cache/kafka), JTS_KAFKA_PORT
# (default 59092; the controller listens on the next port), JTS_KAFKA_CACHE (jars,
# default ${XDG_CACHE_HOME:-~/.cache}/jts/kafka-4.4.0). Listens on 127.0.0.1 only.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="4.4.0"
DATA_DIR="$(realpath -m "${JTS_KAFKA_DIR:-$REPO_ROOT/.cache/kafka}")"
PORT="${JTS_KAFKA_PORT:-59092}"
CONTROLLER_PORT="$((PORT + 1))"
HOST="127.0.0.1"
CACHE="$(realpath -m "${JTS_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jts/kafka-$VERSION}")"
LIBS="$CACHE/libs"
PID_FILE="$DATA_DIR/kafka.pid"
LOG_FILE="$DATA_DIR/kafka.log"
PROPS="$DATA_DIR/server.properties"
LOG4J="$DATA_DIR/log4j2.yaml"
PYTHON="${JTS_PYTHON:-$REPO_ROOT/.venv/bin/python}"
START_TIMEOUT=90

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local major
    major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
    [[ -n "$major" && "$major" -ge 17 ]]
}

fetch_jars() {
    [[ -f "$CACHE/.complete" ]] && return 0
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed once to fetch Kafka's jars from Maven Central"
    log "fetching Kafka $VERSION jars from Maven Central into $LIBS"
    rm -rf "$LIBS"
    mkdir -p "$LIBS"
    mvn -q -B -f "$REPO_ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$CACHE/mvn.log" 2>&1 ||
        { tail -n 30 "$CACHE/mvn.log" >&2; die "mvn could not fetch Kafka's jars"; }
    ls "$LIBS"/kafka_2.13-"$VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$VERSION.jar missing after mvn"
    touch "$CACHE/.complete"
}

kafka_java() { java -Xmx512m -Dlog4j2.configurationFile="$LOG4J" -cp "$LIBS/*" "$@"; }

write_config() {
    mkdir -p "$DATA_DIR/logs"
    cat >"$PROPS" <<PROPS
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
log.dirs=$DATA_DIR/logs
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
    cat >"$LOG4J" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
YAML
}

format_storage() {
    [[ -f "$DATA_DIR/logs/meta.properties" ]] && return 0
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    log "formatting storage in $DATA_DIR/logs (cluster $cluster_id)"
    kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$PROPS" >/dev/null
}

running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_taken() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

answers() {
    "$PYTHON" - "$HOST:$PORT" <<'PY' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0}).list_topics(timeout=3)
PY
}

start() {
    if running_pid >/dev/null && answers; then
        return 0
    fi
    java_ok || die "Kafka $VERSION needs Java 17 or newer on PATH"
    if ! running_pid >/dev/null && { port_taken "$PORT" || port_taken "$CONTROLLER_PORT"; }; then
        die "port $PORT or $CONTROLLER_PORT is taken by another program; set JTS_KAFKA_PORT"
    fi
    fetch_jars
    write_config
    format_storage
    if ! running_pid >/dev/null; then
        log "starting Kafka $VERSION on $HOST:$PORT (data $DATA_DIR)"
        nohup java -Xmx512m -Dlog4j2.configurationFile="$LOG4J" -cp "$LIBS/*" \
            kafka.Kafka "$PROPS" >>"$LOG_FILE" 2>&1 </dev/null &
        echo $! >"$PID_FILE"
    fi
    local waited=0
    until answers; do
        if ! running_pid >/dev/null; then
            tail -n 40 "$LOG_FILE" >&2
            die "Kafka exited while starting (log: $LOG_FILE)"
        fi
        ((waited++ < START_TIMEOUT)) || { tail -n 40 "$LOG_FILE" >&2; die "Kafka did not answer within ${START_TIMEOUT}s"; }
        sleep 1
    done
}

stop() {
    local pid
    pid="$(running_pid)" || { rm -f "$PID_FILE"; return 0; }
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; return 0; }
        sleep 0.5
    done
    log "Kafka did not stop within 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) if running_pid >/dev/null && answers; then echo "running on $HOST:$PORT"; else exit 3; fi ;;
    bootstrap) echo "$HOST:$PORT" ;;
    *) die "usage: $0 start|stop|restart|status|bootstrap" ;;
esac
