#!/usr/bin/env bash
# Starts and stops the local stack under supervisord (deploy/local/supervisord.conf).
#   stack.sh infra-up      install what is missing, init PostgreSQL, start supervisord,
#                          PostgreSQL and Kafka, and wait until both answer
#   stack.sh services-up   provision each service's PostgreSQL role and database, start
#                          every service (weiquan_shared.settings.SERVICE_PORTS) and wait for
#                          their /readyz, then the reverse proxy (nginx) on the one address
#   stack.sh down          stop everything (supervisord included)
#   stack.sh status        supervisorctl status
#   stack.sh logs          where the logs are
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
. "$HERE/env.sh"

CONF="$HERE/supervisord.conf"
SUPERVISORD="$WEIQUAN_ROOT/.venv/bin/supervisord"
SUPERVISORCTL="$WEIQUAN_ROOT/.venv/bin/supervisorctl"
# The services and their HTTP ports, from the one list (deploy/local/services.py reads
# weiquan_shared.settings.SERVICE_PORTS); supervisord's programs for them are generated too.
SERVICES_CONF="$WEIQUAN_RUN_DIR/supervisord-services.conf"
declare -A SERVICE_PORTS=()
SERVICES=()
# Needs the virtualenv (install.sh makes it): before it exists there is nothing to list.
read_services() {
    [ -x "$WEIQUAN_ROOT/.venv/bin/python" ] || return 0
    local name port prefix
    while read -r name port prefix; do
        SERVICES+=("$name")
        SERVICE_PORTS[$name]="$port"
    done < <("$WEIQUAN_ROOT/.venv/bin/python" "$HERE/services.py" list)
    [ "${#SERVICES[@]}" -gt 0 ] || die "deploy/local/services.py listed no services"
}
write_services_conf() {
    "$WEIQUAN_ROOT/.venv/bin/python" "$HERE/services.py" supervisor "$SERVICES_CONF" \
        || die "could not write $SERVICES_CONF"
}

say() { echo "stack: $*"; }
die() { echo "stack: ERROR: $*" >&2; exit 1; }
sctl() { "$SUPERVISORCTL" -c "$CONF" "$@"; }

# Running = the control socket answers with a pid (a stale pid file or socket is not enough).
supervisord_running() {
    [ -x "$SUPERVISORCTL" ] || return 1
    local out
    out="$(sctl pid 2>/dev/null)" || return 1
    [[ "$out" =~ ^[0-9]+$ ]]
}

tail_log() {
    local name="$1" log="$WEIQUAN_LOG_DIR/$1.log"
    if [ -f "$log" ]; then
        echo "----- last 20 lines of $log -----" >&2
        tail -n 20 "$log" >&2
        # A crash-looping JVM buries its reason under the next start's lines.
        if grep -qE ' ERROR |^Caused by|Traceback|FATAL' "$log"; then
            echo "----- last errors in $log -----" >&2
            grep -E ' ERROR |^Caused by|FATAL|Error:' "$log" | tail -n 5 >&2
        fi
        echo "-----" >&2
    else
        echo "(no log yet at $log)" >&2
    fi
}

# True if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Who listens on PORT, for error messages (best effort: ss may be missing).
port_owner() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -1
}

# Fail fast, and say why, if a port of ours is taken: the program would crash-loop and
# a readiness check could even be answered by the intruder.
require_free_port() {
    local port="$1" what="$2"
    if port_in_use "$port"; then
        die "port $port ($what) is already in use by another process $(port_owner "$port"); stop it or free the port"
    fi
}

# PostgreSQL or Kafka processes of this stack left behind by a supervisord that died
# (kill -9, OOM): they hold the ports and data dirs, so a new supervisord could not
# start its own. Stop them, by pid, before starting anything.
stop_orphans() {
    local pid
    if [ -f "$WEIQUAN_PG_DIR/pgdata/postmaster.pid" ]; then
        pid="$(head -1 "$WEIQUAN_PG_DIR/pgdata/postmaster.pid")"
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
            say "stopping orphaned PostgreSQL (pid $pid)"
            kill -INT "$pid" 2>/dev/null || true   # fast shutdown
            wait_gone "$pid" 30 || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    for pid in $(pgrep -f "kafka\.Kafka $WEIQUAN_RUN_DIR/kafka/server\.properties" || true); do
        say "stopping orphaned Kafka (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" 30 || kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -f "$WEIQUAN_RUN_DIR/nginx.pid" ]; then
        pid="$(head -1 "$WEIQUAN_RUN_DIR/nginx.pid")"
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ]; then
            say "stopping orphaned reverse proxy (nginx pid $pid)"
            kill -QUIT "$pid" 2>/dev/null || true
            wait_gone "$pid" 15 || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Services may equally be a developer's own debugging run: only warn.
    [ "${#SERVICES[@]}" -gt 0 ] || return 0
    local pattern
    pattern="$(IFS='|'; echo "${SERVICES[*]}")"
    for pid in $(pgrep -f "^$WEIQUAN_ROOT/\.venv/bin/python -m ($pattern)\$" || true); do
        # Children of a supervisord (another stack of this clone, e.g. the fault tests') are fine.
        [ "$(ps -o comm= -p "$(ps -o ppid= -p "$pid" | tr -d ' ')" 2>/dev/null)" = supervisord ] && continue
        echo "stack: WARNING: a service runs outside supervisord: pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))" >&2
    done
}

# A cluster made before the run dir became private lives in $WEIQUAN_RUN_DIR/pgdata: move it
# to $WEIQUAN_PG_HOME (see env.sh), so the run dir can be closed to everyone else. Only
# while nothing of the stack runs. A rename on one filesystem; across two, a copy renamed
# into place before the original is removed, so an interruption never leaves a half cluster
# where env.sh would pick it.
move_cluster_out_of_run_dir() {
    [ "${WEIQUAN_PG_DIR_CHOSEN:-}" = 1 ] && [ "$WEIQUAN_PG_DIR" = "$WEIQUAN_RUN_DIR" ] || return 0
    local from="$WEIQUAN_RUN_DIR" to="$WEIQUAN_PG_HOME"
    say "moving PostgreSQL's data out of the run dir (now private to $(id -un)) to $to"
    install -d -m 711 "$to"
    if [ "$(stat -c %d "$from")" = "$(stat -c %d "$to")" ]; then
        mv -T "$from/pgdata" "$to/pgdata"
    else
        rm -rf "$to/pgdata.moving"
        cp -a "$from/pgdata" "$to/pgdata.moving"
        mv -T "$to/pgdata.moving" "$to/pgdata"
        rm -rf "$from/pgdata"
    fi
    if [ -f "$from/pg-role.sha256" ]; then
        mv "$from/pg-role.sha256" "$to/"
    fi
    rm -rf "$from/pgsocket" "$from/pgsocket-init" "$from/postgres-init.log"
    . "$HERE/env.sh"
    chmod 700 "$WEIQUAN_RUN_DIR"
}

# wait_gone PID SECONDS: true once PID has exited.
wait_gone() {
    local pid="$1" deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# supervisord's state of one program (RUNNING, STARTING, BACKOFF, FATAL, ...).
program_state() { sctl status "$1" 2>/dev/null | awk '{print $2}' || true; }

# wait_infra NAME LABEL: run NAME.sh wait, but give up early if supervisord gives up on
# the program (FATAL), e.g. when its port is taken.
wait_infra() {
    local name="$1" label="$2" wpid ticks=0
    bash "$HERE/$name.sh" wait &
    wpid=$!
    # Notice the end of the wait within 0.2 s; ask supervisord (a Python process per
    # call, not free on 2 cores) only every 2 s.
    while kill -0 "$wpid" 2>/dev/null; do
        sleep 0.2
        ticks=$((ticks + 1))
        [ $((ticks % 10)) -eq 0 ] || continue
        if [ "$(program_state "infra:$name")" = FATAL ]; then
            kill "$wpid" 2>/dev/null || true
            wait "$wpid" 2>/dev/null || true
            echo "stack: $label failed to start (supervisord gave up: FATAL)" >&2
            tail_log "$name"
            exit 1
        fi
    done
    if ! wait "$wpid"; then
        echo "stack: $label failed to start" >&2
        tail_log "$name"
        exit 1
    fi
}

cmd_infra_up() {
    local t0=$SECONDS
    [ "$(id -u)" -eq 0 ] || die "run as root: PostgreSQL is initialised and supervised as user postgres"
    bash "$HERE/install.sh"
    read_services
    # install.sh may have just written secrets.env: load it into this shell, which
    # supervisord (and through it every service) inherits.
    . "$HERE/env.sh"
    local running=0
    supervisord_running && running=1
    # Before init: an orphaned server would make init believe PostgreSQL is managed.
    if [ "$running" -eq 0 ]; then
        stop_orphans
        move_cluster_out_of_run_dir
        require_free_port "$WEIQUAN_PG_PORT" PostgreSQL
        require_free_port "${WEIQUAN_KAFKA_BOOTSTRAP##*:}" Kafka
        require_free_port "$KAFKA_CONTROLLER_PORT" "Kafka controller"
    fi
    bash "$HERE/postgres.sh" init
    WEIQUAN_PG_BIN="$(bash "$HERE/postgres.sh" bin)"
    export WEIQUAN_PG_BIN

    if [ "$running" -eq 1 ]; then
        say "supervisord already running"
    else
        say "starting supervisord"
        write_services_conf
        # Daemonizes; children inherit this shell's environment (env.sh + secrets).
        # umask 077: supervisord opens its own log before it applies the config's umask.
        (cd "$WEIQUAN_ROOT" && umask 077 && "$SUPERVISORD" -c "$CONF")
        local deadline=$((SECONDS + 15))
        until supervisord_running; do
            [ "$SECONDS" -lt "$deadline" ] || { tail_log supervisord; die "supervisord did not come up"; }
            sleep 0.2
        done
    fi
    # autostart=true already starts them with supervisord; this covers a stack whose
    # infra was stopped by hand. "already started" is not an error.
    sctl start 'infra:*' >/dev/null || true

    wait_infra postgres PostgreSQL
    wait_infra kafka Kafka
    say "infra up (PostgreSQL $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT, Kafka $WEIQUAN_KAFKA_BOOTSTRAP) in $((SECONDS - t0)) s"
}

cmd_services_up() {
    supervisord_running || die "supervisord is not running; run 'stack.sh infra-up' first"
    local name port deadline state
    for name in "${SERVICES[@]}"; do
        state="$(program_state "services:$name")"
        case "$state" in
            RUNNING|STARTING) ;;
            *) require_free_port "${SERVICE_PORTS[$name]}" "service $name" ;;
        esac
    done
    # A supervisord started before supervisord.conf changed (a service added, a command
    # changed) still runs the old programs: apply the new config to the services' group.
    write_services_conf
    sctl update services >/dev/null || die "supervisorctl update services failed (see $WEIQUAN_LOG_DIR/supervisord.log)"
    # Each service's own role and database, made by the provisioning role (weiquan_shared.db).
    "$WEIQUAN_ROOT/.venv/bin/python" -m weiquan_shared.db provision \
        || die "could not provision the services' PostgreSQL roles and databases"
    # Prints one line per service; a service that dies at once is reported below.
    # On a re-run the services are up already, which is not worth an "ERROR" line.
    sctl start 'services:*' 2>&1 | grep -v 'ERROR (already started)' || true
    for name in "${SERVICES[@]}"; do
        port="${SERVICE_PORTS[$name]}"
        deadline=$((SECONDS + 60))
        until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
            state="$(program_state "services:$name")"
            if [ "$state" = FATAL ]; then
                echo "stack: service $name failed to start (supervisord state FATAL)" >&2
                tail_log "$name"
                exit 1
            fi
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "stack: service $name is not ready: http://127.0.0.1:$port/readyz did not return 200 within 60 s (state ${state:-unknown})" >&2
                tail_log "$name"
                exit 1
            fi
            sleep 0.5
        done
        say "$name ready on http://127.0.0.1:$port"
    done
    proxy_up
}

# The reverse proxy: its config generated from the template (ports from SERVICE_PORTS),
# checked by nginx, then started (or reloaded, when already running) by supervisord.
proxy_up() {
    local conf="$WEIQUAN_RUN_DIR/nginx.conf" state
    "$WEIQUAN_ROOT/.venv/bin/python" -m weiquan_shared.proxy "$conf" \
        --listen "$WEIQUAN_PROXY_LISTEN" --pid-file "$WEIQUAN_RUN_DIR/nginx.pid"
    /usr/sbin/nginx -t -q -c "$conf" -p "$WEIQUAN_RUN_DIR" -e stderr \
        || die "the generated proxy config $conf is invalid (nginx -t above)"
    # A supervisord started before the proxy existed learns of it here.
    if ! sctl avail 2>/dev/null | grep -q '^web:proxy '; then
        sctl reread >/dev/null && sctl add web >/dev/null
    fi
    state="$(program_state web:proxy)"
    case "$state" in
        RUNNING|STARTING) sctl signal HUP web:proxy >/dev/null ;;
        *)
            require_free_port "${WEIQUAN_PROXY_LISTEN##*:}" "reverse proxy"
            sctl start web:proxy >/dev/null || { tail_log proxy; die "the reverse proxy did not start"; }
            ;;
    esac
    local deadline=$((SECONDS + 15))
    until curl -fsS -o /dev/null --max-time 2 "http://$WEIQUAN_PROXY_LISTEN/identity/healthz" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { tail_log proxy; die "the reverse proxy on $WEIQUAN_PROXY_LISTEN does not answer"; }
        sleep 0.3
    done
    say "proxy ready on http://$WEIQUAN_PROXY_LISTEN"
}

cmd_down() {
    if supervisord_running; then
        local pid
        pid="$(sctl pid)"
        say "stopping services, Kafka, PostgreSQL and supervisord"
        # supervisord stops one group at a time, by priority: the services first, then
        # PostgreSQL and Kafka together.
        sctl shutdown >/dev/null
        # Kafka (30 s) + PostgreSQL (30 s) + services (15 s) stop timeouts, plus slack.
        wait_gone "$pid" 120 || die "supervisord (pid $pid) still running after 120 s; see $WEIQUAN_LOG_DIR/supervisord.log"
        stop_orphans
        say "stack stopped"
    else
        stop_orphans
        say "stack was not running"
    fi
}

cmd_status() {
    if supervisord_running; then
        # Exit code 3 only means some program is stopped (services before services-up).
        sctl status || true
    else
        say "stack is not running"
    fi
}

cmd_logs() {
    local name
    echo "Logs in $WEIQUAN_LOG_DIR:"
    for name in supervisord postgres kafka "${SERVICES[@]}" proxy; do
        printf '  %-12s %s\n' "$name" "$WEIQUAN_LOG_DIR/$name.log"
    done
    echo "Follow one with: tail -F $WEIQUAN_LOG_DIR/<name>.log"
}

[ "${1:-}" = infra-up ] || read_services
case "${1:-}" in
    infra-up) cmd_infra_up ;;
    services-up) cmd_services_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs ;;
    *) echo "usage: $0 infra-up|services-up|down|status|logs" >&2; exit 2 ;;
esac
