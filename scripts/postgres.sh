#!/usr/bin/env bash
# A project-local PostgreSQL for tests and development: no Docker, no system cluster.
#
#   scripts/postgres.sh start    install (Debian package) if needed, init, start; idempotent
#   scripts/postgres.sh stop     fast shutdown
#   scripts/postgres.sh status   exit 0 when it answers on its port, 3 when it does not
#   scripts/postgres.sh url      print the connection URL
#
# Environment: JTS_PG_DIR (data folder, default <repo>/.cache/postgres/data),
# JTS_PG_PORT (default 54329). Listens on 127.0.0.1 only, user `jts`, trust auth.
# initdb and pg_ctl refuse to run as root, so as root they run as `postgres`.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$(realpath -m "${JTS_PG_DIR:-$REPO_ROOT/.cache/postgres/data}")"
PORT="${JTS_PG_PORT:-54329}"
PG_USER="jts"
HOST="127.0.0.1"
LOG_FILE="$DATA_DIR/server.log"
LOCK_FILE="${DATA_DIR%/}.lock"
START_TIMEOUT=60

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

find_bindir() {
    local initdb
    initdb="$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$initdb" ]] && dirname "$initdb"
}

install_postgres() {
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
    log "installing PostgreSQL from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

BINDIR=""
require_bindir() {
    BINDIR="$(find_bindir || true)"
    if [[ -z "$BINDIR" ]]; then
        install_postgres
        BINDIR="$(find_bindir || true)"
        [[ -n "$BINDIR" ]] || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found"
    fi
}

# Run a server binary as the data folder's owner: `postgres` when we are root. The
# start lock (fd 9) is closed for it, or the server would inherit and hold it forever.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@") 9>&-
    else
        "$@" 9>&-
    fi
}

is_ready() {
    pg_isready_bin -q -h "$HOST" -p "$PORT" -U "$PG_USER" -d postgres
}

pg_isready_bin() {
    if [[ -n "$BINDIR" && -x "$BINDIR/pg_isready" ]]; then
        "$BINDIR/pg_isready" "$@"
    else
        pg_isready "$@"
    fi
}

# True when the pid file names a live process that is a postgres server of this folder.
server_process_alive() {
    local pidfile="$DATA_DIR/postmaster.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "postgres" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DATA_DIR"
}

# After a crash or a machine restart the pid (or socket lock) file may name a dead or
# unrelated process; the server would then refuse to start or wait on nothing.
clear_stale_locks() {
    if [[ -f "$DATA_DIR/postmaster.pid" ]] && ! server_process_alive; then
        log "removing stale $DATA_DIR/postmaster.pid"
        rm -f "$DATA_DIR/postmaster.pid"
    fi
    if [[ -f "$DATA_DIR/.s.PGSQL.$PORT.lock" ]] && ! server_process_alive; then
        rm -f "$DATA_DIR/.s.PGSQL.$PORT.lock" "$DATA_DIR/.s.PGSQL.$PORT"
    fi
}

init_cluster() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
    log "initialising a cluster in $DATA_DIR"
    mkdir -p "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres:postgres "$DATA_DIR"
    fi
    as_owner "$BINDIR/initdb" -D "$DATA_DIR" -U "$PG_USER" -A trust -E UTF8 --locale=C.UTF-8 \
        >"$DATA_DIR.initdb.log" 2>&1 || {
        cat "$DATA_DIR.initdb.log" >&2
        die "initdb failed"
    }
}

wait_ready() {
    local waited=0
    until is_ready; do
        if (( waited >= START_TIMEOUT * 10 )); then
            [[ -f "$LOG_FILE" ]] && tail -n 20 "$LOG_FILE" >&2
            die "server did not answer on $HOST:$PORT within ${START_TIMEOUT}s"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

cmd_start() {
    require_bindir
    mkdir -p "$(dirname "$DATA_DIR")"
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "another start holds $LOCK_FILE"
    init_cluster
    if server_process_alive && is_ready; then
        log "already running on $HOST:$PORT"
        return 0
    fi
    if is_ready; then
        die "something else answers on $HOST:$PORT; set JTS_PG_PORT to a free port"
    fi
    clear_stale_locks
    if [[ "$(id -u)" -eq 0 ]]; then
        chown -R postgres:postgres "$DATA_DIR"
    fi
    as_owner "$BINDIR/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT" \
        -o "-p $PORT -k $DATA_DIR -c listen_addresses=$HOST" start >/dev/null || {
        [[ -f "$LOG_FILE" ]] && tail -n 20 "$LOG_FILE" >&2
        die "pg_ctl start failed"
    }
    wait_ready
    log "running on $HOST:$PORT (data in $DATA_DIR)"
}

cmd_stop() {
    BINDIR="$(find_bindir || true)"
    if [[ -z "$BINDIR" || ! -f "$DATA_DIR/PG_VERSION" ]] || ! server_process_alive; then
        log "not running"
        return 0
    fi
    as_owner "$BINDIR/pg_ctl" -D "$DATA_DIR" -m fast -w stop >/dev/null
    log "stopped"
}

cmd_status() {
    BINDIR="$(find_bindir || true)"
    if server_process_alive && is_ready; then
        echo "running on $HOST:$PORT (data in $DATA_DIR)"
        return 0
    fi
    echo "not running"
    return 3
}

cmd_url() {
    echo "postgresql://$PG_USER@$HOST:$PORT/postgres"
}

main() {
    case "${1:-}" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        url) cmd_url ;;
        *)
            echo "usage: $0 {start|stop|status|url}" >&2
            exit 2
            ;;
    esac
}

main "$@"
