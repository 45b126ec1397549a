#!/usr/bin/env bash
# The stack's own PostgreSQL cluster: data in $WEIQUAN_PG_DIR/pgdata (outside the private
# run dir, see env.sh), TCP on 127.0.0.1:$WEIQUAN_PG_PORT only. Never touches Debian's
# system cluster.
#   postgres.sh init   as root: create the cluster and the `weiquan` role (once)
# `weiquan` is the provisioning role (CREATEDB CREATEROLE): deploy scripts and the test
# harness use it to give each service its own role and database (weiquan_shared.db); no
# running service logs in as it.
#   postgres.sh bin    print the directory of the server binaries to run the cluster with
#   postgres.sh wait   block until the server accepts connections (60 s max)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# runuser (and apt-get, on some images) live in sbin, missing from some root PATHs.
PATH="$PATH:/usr/sbin:/sbin"

PGDATA_DIR="$WEIQUAN_PG_DIR/pgdata"
# Our own socket dir: Debian's /var/run/postgresql may not exist (tmpfs, containers).
SOCKET_DIR="$WEIQUAN_PG_DIR/pgsocket"
# Where init records a hash of the password and attributes it gave the role, to notice a
# new secrets.env or a new attribute.
ROLE_FINGERPRINT="$WEIQUAN_PG_DIR/pg-role.sha256"
ROLE_ATTRIBUTES="LOGIN CREATEDB CREATEROLE"
role_fingerprint() { printf '%s %s' "${WEIQUAN_PG_PASSWORD:-}" "$ROLE_ATTRIBUTES" | sha256sum | cut -d' ' -f1; }

die() { echo "postgres.sh: ERROR: $*" >&2; exit 1; }

# The binaries matching the cluster's major version if it exists (a later apt install of
# a newer PostgreSQL must not break an existing cluster), else the newest installed.
pg_bin() {
    local v
    if [ -r "$PGDATA_DIR/PG_VERSION" ]; then
        v="$(cat "$PGDATA_DIR/PG_VERSION")"
        if [ -x "/usr/lib/postgresql/$v/bin/postgres" ]; then
            echo "/usr/lib/postgresql/$v/bin"
            return
        fi
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_postgres() { runuser -u postgres -- "$@"; }

# Creates the role, or resets its password and attributes. The password travels on psql's
# stdin: it never shows in `ps`, and the server logs no statement holding it.
# sync_role BIN: on a private, temporary server (the cluster is not running).
sync_role() {
    local bin="$1" tmp_sock
    [ -n "${WEIQUAN_PG_PASSWORD:-}" ] || die "WEIQUAN_PG_PASSWORD is not set (run deploy/local/install.sh)"
    tmp_sock="$WEIQUAN_PG_DIR/pgsocket-init"
    install -d -o postgres -g postgres -m 700 "$tmp_sock"
    # pg_ctl opens its log file as postgres; the logs dir belongs to root.
    install -o postgres -g postgres -m 600 /dev/null "$WEIQUAN_PG_DIR/postgres-init.log"
    # A private, socket-only server (no TCP) so nothing else can connect meanwhile.
    as_postgres "$bin/pg_ctl" -D "$PGDATA_DIR" -w -t 60 -l "$WEIQUAN_PG_DIR/postgres-init.log" \
        -o "-c listen_addresses='' -c unix_socket_directories='$tmp_sock' -c port=$WEIQUAN_PG_PORT -c log_statement=none" \
        start >/dev/null
    local rc=0
    role_sql "$bin" "$tmp_sock" || rc=$?
    as_postgres "$bin/pg_ctl" -D "$PGDATA_DIR" -w -m fast stop >/dev/null
    rmdir "$tmp_sock" 2>/dev/null || true
    [ "$rc" -eq 0 ] || die "could not create role $WEIQUAN_PG_USER (see $WEIQUAN_PG_DIR/postgres-init.log)"
    (umask 077; role_fingerprint >"$ROLE_FINGERPRINT")
}

# role_sql BIN SOCKET_DIR: the statements, as the postgres superuser over a Unix socket.
role_sql() {
    local bin="$1" sock="$2" pw
    # Password as a psql variable; :'pw' quotes it safely. Errors must not echo the
    # statement into the log either: log_min_error_statement=panic.
    # In \set's single-quoted argument, backslash and quote need a backslash.
    pw="${WEIQUAN_PG_PASSWORD//\\/\\\\}"
    pw="${pw//\'/\\\'}"
    { printf "\\set pw '%s'\n" "$pw"
      cat <<SQL
SET log_min_error_statement = panic;
SELECT format('CREATE ROLE %I $ROLE_ATTRIBUTES', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH $ROLE_ATTRIBUTES PASSWORD :'pw';
SQL
    } | as_postgres "$bin/psql" -X -q -v ON_ERROR_STOP=1 -v role="$WEIQUAN_PG_USER" \
            -h "$sock" -p "$WEIQUAN_PG_PORT" -d postgres >/dev/null
}

# True if a postmaster (ours, supervised or not) is running on the data dir.
server_running() {
    local pid
    [ -f "$PGDATA_DIR/postmaster.pid" ] || return 1
    pid="$(head -1 "$PGDATA_DIR/postmaster.pid")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cmd_init() {
    [ "$(id -u)" -eq 0 ] || die "init must run as root (it runs initdb as the postgres user)"
    # Commands run as postgres need a cwd that user can read.
    cd /
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user; run deploy/local/install.sh"
    local bin
    bin="$(pg_bin)"
    [ -x "$bin/initdb" ] || die "PostgreSQL server binaries not found; run deploy/local/install.sh"

    # The postgres user needs x on every directory down to pgdata (see WEIQUAN_PG_DIR in
    # env.sh); nobody else needs anything in there. install.sh made the run dir.
    install -d -m 711 "$WEIQUAN_PG_DIR"
    # Which stack a directory under /var/lib/weiquan belongs to (they are named by a hash).
    if [ "$WEIQUAN_PG_DIR" != "$WEIQUAN_RUN_DIR" ]; then
        printf '%s\n' "$WEIQUAN_RUN_DIR" >"$WEIQUAN_PG_DIR/run-dir"
    fi
    install -d -o postgres -g postgres -m 700 "$SOCKET_DIR"
    as_postgres test -x "$WEIQUAN_PG_DIR" \
        || die "user postgres cannot reach $WEIQUAN_PG_DIR; set WEIQUAN_PG_DIR to a directory it can reach"

    if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
        # Warm path: nothing to do unless secrets.env was regenerated, or the role needs a new
        # attribute (CREATEROLE came with per-service roles), since the role was made.
        local want have=""
        want="$(role_fingerprint)"
        [ -f "$ROLE_FINGERPRINT" ] && have="$(cat "$ROLE_FINGERPRINT")"
        if [ "$want" = "$have" ]; then
            echo "postgres: cluster already initialised ($PGDATA_DIR)"
        elif server_running; then
            echo "postgres: password or attributes of role $WEIQUAN_PG_USER changed; updating it on the running server"
            [ -n "${WEIQUAN_PG_PASSWORD:-}" ] || die "WEIQUAN_PG_PASSWORD is not set (run deploy/local/install.sh)"
            role_sql "$bin" "$SOCKET_DIR" || die "could not update role $WEIQUAN_PG_USER (see $WEIQUAN_LOG_DIR/postgres.log)"
            (umask 077; role_fingerprint >"$ROLE_FINGERPRINT")
        else
            echo "postgres: password or attributes of role $WEIQUAN_PG_USER changed; updating it"
            sync_role "$bin"
        fi
        return
    fi

    echo "postgres: creating cluster in $PGDATA_DIR ($bin)"
    [ -n "${WEIQUAN_PG_PASSWORD:-}" ] || die "WEIQUAN_PG_PASSWORD is not set (run deploy/local/install.sh)"
    # An interrupted initdb leaves a dir without PG_VERSION; initdb wants it empty.
    rm -rf "$PGDATA_DIR"
    install -d -o postgres -g postgres -m 700 "$PGDATA_DIR"
    local locale=C
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
    install -m 600 /dev/null "$WEIQUAN_LOG_DIR/initdb.log"
    (as_postgres "$bin/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale="$locale" \
        --auth-host=scram-sha-256 --auth-local=peer) >"$WEIQUAN_LOG_DIR/initdb.log" 2>&1 \
        || die "initdb failed; see $WEIQUAN_LOG_DIR/initdb.log"
    sync_role "$bin"
    echo "postgres: cluster ready, role $WEIQUAN_PG_USER created (locale $locale)"
}

cmd_bin() {
    pg_bin
}

# Our own postmaster says it is ready: postmaster.pid names a live process and its
# status line (line 8) reads "ready". Guards against a foreign server on our port, which
# pg_isready alone would accept. Skipped when the data dir is unreadable (not root).
own_server_ready() {
    local pidfile="$PGDATA_DIR/postmaster.pid" pid
    [ -r "$PGDATA_DIR" ] && [ -x "$PGDATA_DIR" ] || return 0
    [ -f "$pidfile" ] || return 1
    pid="$(sed -n 1p "$pidfile")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(sed -n 8p "$pidfile" | tr -d ' ')" = ready ]
}

cmd_wait() {
    local bin deadline why
    bin="$(pg_bin)"
    deadline=$((SECONDS + 60))
    while true; do
        if "$bin/pg_isready" -q -h "$WEIQUAN_PG_HOST" -p "$WEIQUAN_PG_PORT" -t 2; then
            own_server_ready && break
            why="something accepts connections there, but it is not this stack's server ($PGDATA_DIR is not running): is another PostgreSQL using the port?"
        else
            why="not accepting connections"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "postgres.sh: PostgreSQL is not ready on $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT after 60 s: $why" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "postgres: ready on $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT"
}

case "${1:-}" in
    init) cmd_init ;;
    bin) cmd_bin ;;
    wait) cmd_wait ;;
    *) echo "usage: $0 init|bin|wait" >&2; exit 2 ;;
esac
