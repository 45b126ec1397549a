#!/usr/bin/env bash
# Installs what the local stack needs, idempotently: uv and the workspace venv,
# the PostgreSQL server binaries, chromium and CJK fonts for the browser tests, nginx (the
# reverse proxy), the Kafka jars, and the local secrets; makes the run dir private.
# Safe to run again and again; every step prints one line saying what it did.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# runuser (and apt-get, on some images) live in sbin, missing from some root PATHs.
PATH="$PATH:/usr/sbin:/sbin"

UV_VERSION=0.13.8
say() { echo "install: $*"; }
die() { echo "install: ERROR: $*" >&2; exit 1; }

# apt-get update only once per run, and only if something has to be installed.
APT_UPDATED=0
apt_install() {
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# The run dir (secrets, Kafka's data, logs, supervisord's socket) is the stack user's only.
mkdir -p "$WEIQUAN_RUN_DIR" "$WEIQUAN_LOG_DIR"
if [ "$WEIQUAN_PG_DIR" = "$WEIQUAN_RUN_DIR" ]; then
    # PostgreSQL's cluster still lives inside (made before the run dir became private;
    # stack.sh moves it out at the next start): the postgres user must be able to pass
    # through, not to list or read. Kafka's dir and the logs stay private on their own.
    chmod 711 "$WEIQUAN_RUN_DIR"
    say "run dir $WEIQUAN_RUN_DIR passable by user postgres until PostgreSQL's data moves to $WEIQUAN_PG_HOME"
else
    chmod 700 "$WEIQUAN_RUN_DIR"
fi
chmod 700 "$WEIQUAN_LOG_DIR"
# Kafka's files were created readable by everyone before kafka.sh set a private umask.
if [ -d "$WEIQUAN_RUN_DIR/kafka" ]; then
    chmod -R go= "$WEIQUAN_RUN_DIR/kafka"
fi

# --- (a) uv -----------------------------------------------------------------
UV=uv
if command -v uv >/dev/null 2>&1; then
    say "uv already present ($(uv --version))"
else
    say "installing uv $UV_VERSION with pip"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    # Debian's system Python is "externally managed" (PEP 668); uv is a self-contained
    # binary wheel, so installing it there cannot break anything.
    python3 -m pip install -q "uv==$UV_VERSION" 2>/dev/null \
        || python3 -m pip install -q --break-system-packages "uv==$UV_VERSION"
    # pip may put the binary in a directory that is not on PATH (~/.local/bin).
    UV="$(python3 -c 'import uv; print(uv.find_uv_bin())')"
fi

# --- (b) the workspace venv (.venv: services, supervisord, aiokafka) ----------
cd "$WEIQUAN_ROOT"
if [ -f uv.lock ]; then
    say "uv sync --frozen (workspace venv in .venv)"
    "$UV" sync --frozen --quiet
else
    say "uv.lock missing: uv sync (resolves and writes uv.lock)"
    "$UV" sync --quiet
fi

# --- (c) PostgreSQL server binaries -------------------------------------------
if compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
    say "postgresql already present ($(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1))"
else
    say "installing postgresql with apt-get"
    apt_install postgresql
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null \
        || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres exists"
    # Debian creates (and may start) a system cluster on port 5432. We leave it alone and
    # never use it: our cluster has its own data dir under .run and listens on 54320.
    say "postgresql installed; Debian's own cluster (port 5432), if any, is left alone and not used"
fi
id postgres >/dev/null 2>&1 || die "no 'postgres' system user (it comes with the Debian postgresql package)"
command -v runuser >/dev/null 2>&1 || die "runuser not found (package util-linux)"

# --- Java (Kafka runs on it); curl (readiness checks) --------------------------
if command -v java >/dev/null 2>&1; then
    say "java already present"
else
    say "installing a Java runtime with apt-get"
    apt_install openjdk-17-jre-headless
fi
if command -v curl >/dev/null 2>&1; then
    say "curl already present"
else
    say "installing curl with apt-get"
    apt_install curl ca-certificates
fi

# --- test tools, only for make test/chaos/bench (WEIQUAN_INSTALL_TEST_TOOLS=1, set by the
# Makefile's install target): make up needs neither a browser nor Keycloak, and stays fast
# on a fresh machine.
TEST_TOOLS="${WEIQUAN_INSTALL_TEST_TOOLS:-0}"

# --- browser tests: Debian's chromium (Playwright drives it, never downloads a browser of
# its own) and CJK fonts, so pages and screenshots show Chinese instead of empty boxes.
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
missing=()
for pkg in chromium fonts-noto-cjk; do
    deb_installed "$pkg" || missing+=("$pkg")
done
if [ "$TEST_TOOLS" != 1 ]; then
    say "browser-test packages not needed to run the stack (make test installs them)"
elif [ "${#missing[@]}" -eq 0 ]; then
    say "chromium and fonts-noto-cjk already present (browser tests)"
else
    say "installing ${missing[*]} with apt-get (browser tests)"
    apt_install "${missing[@]}"
fi

# --- mediation's 调解协议书: WeasyPrint renders HTML to PDF with Debian's pango and the CJK
# fonts (a service need, so make up installs them); the tests turn a PDF page into a PNG
# and read its text with poppler-utils (pdftoppm, pdftotext).
missing=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk; do
    deb_installed "$pkg" || missing+=("$pkg")
done
if [ "$TEST_TOOLS" = 1 ]; then
    deb_installed poppler-utils || missing+=(poppler-utils)
fi
if [ "${#missing[@]}" -eq 0 ]; then
    say "pango and fonts-noto-cjk already present (mediation's agreement PDF)"
else
    say "installing ${missing[*]} with apt-get (mediation's agreement PDF)"
    apt_install "${missing[@]}"
fi

# --- the reverse proxy: Debian's nginx (the light flavour where the release has one).
# Debian's own site on port 80 is not used; the stack runs its own nginx with its own
# config (stack.sh services-up).
nginx_installed() {
    local pkg
    for pkg in nginx-light nginx-core nginx-full nginx-extras nginx; do
        deb_installed "$pkg" && return 0
    done
    return 1
}
if nginx_installed; then
    say "nginx already present (the reverse proxy)"
else
    if apt-cache show nginx-light >/dev/null 2>&1; then pkg=nginx-light; else pkg=nginx; fi
    say "installing $pkg with apt-get (the reverse proxy)"
    apt_install "$pkg"
fi

# --- (d) Kafka jars ---------------------------------------------------------------
kafka_present() { [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]; }
if kafka_present; then
    say "Kafka $KAFKA_VERSION jars already present in $KAFKA_LIBS"
else
    command -v mvn >/dev/null 2>&1 || { say "installing maven with apt-get"; apt_install maven; }
    cache_dir="$(dirname "$KAFKA_LIBS")"
    mkdir -p "$cache_dir"
    # The cache is shared by every clone: a lock keeps two concurrent installs from
    # racing, and the second one finds the jars already there.
    exec 9>"$cache_dir/.fetch.lock"
    flock 9
    if kafka_present; then
        say "Kafka $KAFKA_VERSION jars already present in $KAFKA_LIBS (fetched concurrently)"
    else
        say "fetching Kafka $KAFKA_VERSION jars from Maven Central"
        # Download into a temp dir and rename it into place at the end: an interrupted
        # fetch leaves only a *.tmp dir, never a half-filled libs dir that looks complete.
        tmp="$(mktemp -d "$cache_dir/libs.XXXXXX.tmp")"
        trap 'rm -rf "$tmp"' EXIT
        # Maven's output (even with -q it emits colour codes) goes to a log shown on failure.
        if ! mvn -q -B -Dstyle.color=never -f "$WEIQUAN_ROOT/deploy/kafka/pom.xml" \
                dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime \
                >"$WEIQUAN_LOG_DIR/kafka-fetch.log" 2>&1; then
            tail -n 30 "$WEIQUAN_LOG_DIR/kafka-fetch.log" >&2
            die "mvn could not fetch the Kafka jars (is Maven Central reachable?); full output in $WEIQUAN_LOG_DIR/kafka-fetch.log"
        fi
        [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] \
            || die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
        chmod 755 "$tmp"
        rm -rf "$KAFKA_LIBS"   # a leftover without the broker jar is incomplete anyway
        mv -T "$tmp" "$KAFKA_LIBS"
        trap - EXIT
        say "Kafka jars ready: $(ls "$KAFKA_LIBS" | wc -l) jars in $KAFKA_LIBS"
    fi
    exec 9>&-
fi

# --- Keycloak (the test of a union's own identity provider; Keycloak 26 needs Java 21+) ---
if [ "$TEST_TOOLS" != 1 ]; then
    say "Keycloak not needed to run the stack (make test fetches it)"
else
    if bash "$WEIQUAN_ROOT/deploy/local/keycloak.sh" java-home >/dev/null; then
        command -v mvn >/dev/null 2>&1 || { say "installing maven with apt-get"; apt_install maven; }
    fi
    bash "$WEIQUAN_ROOT/deploy/local/keycloak.sh" fetch | sed 's/^keycloak: /install: /'
fi

# --- (e) secrets -----------------------------------------------------------------------
secrets="$WEIQUAN_RUN_DIR/secrets.env"
if [ -f "$secrets" ]; then
    say "secrets already present ($secrets)"
else
    say "generating local secrets in $secrets (mode 600; values are never printed)"
    # umask before the file exists, so it is never readable by others, not even briefly.
    (
        umask 077
        python3 - >"$secrets.tmp" <<'PY'
import base64, json, secrets

def key32() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()

print(f"WEIQUAN_PG_PASSWORD={secrets.token_hex(24)}")
# Single quotes: the JSON has double quotes and must reach the services verbatim.
print(f"WEIQUAN_PII_KEYS='{json.dumps({'k1': key32()})}'")
print("WEIQUAN_PII_ACTIVE_KEY_ID=k1")
print(f"WEIQUAN_PII_INDEX_KEY={key32()}")
PY
        chmod 600 "$secrets.tmp"
        mv "$secrets.tmp" "$secrets"
    )
fi
# The WeChat official account's callback secrets (intake's /wechat/callback): added to an
# existing secrets file too, so a stack installed before they existed gets them.
if ! grep -q '^WEIQUAN_WECHAT_TOKEN=' "$secrets"; then
    say "adding WeChat callback secrets (token, EncodingAESKey, AppID) to $secrets"
    (
        umask 077
        python3 - >>"$secrets" <<'PY'
import base64, secrets

# Token: 3-32 letters or digits; EncodingAESKey: 43 characters (base64 of 32 bytes, no '=').
# A real account's AppID comes from WeChat; the local stack gets a made-up one.
print(f"WEIQUAN_WECHAT_TOKEN={secrets.token_hex(16)}")
print(f"WEIQUAN_WECHAT_ENCODING_AES_KEY={base64.b64encode(secrets.token_bytes(32)).decode().rstrip('=')}")
print(f"WEIQUAN_WECHAT_APP_ID=wx{secrets.token_hex(8)}")
PY
    )
fi
# Each service's own PostgreSQL role password (weiquan_shared.db provisions the roles), one
# per service of weiquan_shared.settings.SERVICE_PORTS: added when missing, so a service
# added later gets its own on the next run. Only that service and provisioning read it.
(
    umask 077
    "$WEIQUAN_ROOT/.venv/bin/python" - "$secrets" <<'PY'
import secrets, sys
from pathlib import Path

from weiquan_shared.service_client import SERVICE_CLIENTS, service_secret_variable
from weiquan_shared.settings import SERVICE_PORTS, service_password_variable

path = Path(sys.argv[1])
present = {line.split("=", 1)[0] for line in path.read_text().splitlines()}
with path.open("a") as out:
    for name in SERVICE_PORTS:
        variable = service_password_variable(name)
        if variable not in present:
            out.write(f"{variable}={secrets.token_hex(24)}\n")
            print(f"install: added {variable} (the password of {name}'s own PostgreSQL role)")
    # Client secrets of the services that call others as themselves (identity's
    # client-credentials grant; weiquan_shared.service_client).
    for name in SERVICE_CLIENTS:
        variable = service_secret_variable(name)
        if variable not in present:
            out.write(f"{variable}={secrets.token_hex(32)}\n")
            print(f"install: added {variable} (the client secret of {name} at identity)")
    if "WEIQUAN_NOTIFICATION_SURVEY_KEY" not in present:
        out.write(f"WEIQUAN_NOTIFICATION_SURVEY_KEY={secrets.token_hex(32)}\n")
        print("install: added WEIQUAN_NOTIFICATION_SURVEY_KEY (signs survey links)")
PY
)
say "done"
