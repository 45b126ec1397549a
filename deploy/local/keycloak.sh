#!/usr/bin/env bash
# Keycloak for the test that proves a union's own OpenID Connect provider works with
# Weiquan's token verification (tests/integration/test_identity_keycloak.py). Keycloak 26
# needs Java 21+; without one nothing is fetched and that test skips, saying so.
#   keycloak.sh java-home   print the JAVA_HOME of a Java 21+ (exit 1 if there is none)
#   keycloak.sh fetch       unpack keycloak-quarkus-dist from Maven Central into the cache
#   keycloak.sh home        print where Keycloak is (or would be) unpacked
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
. "$HERE/env.sh"

KEYCLOAK_VERSION=26.7.3
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/weiquan"
KEYCLOAK_HOME="$CACHE/keycloak-$KEYCLOAK_VERSION"
say() { echo "keycloak: $*"; }

java_major() { "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }

# The newest JDK or JRE with a major version of 21 or more: the default java, JAVA_HOME,
# or one installed beside it under /usr/lib/jvm.
java_home() {
    local candidate best="" best_major=0 major
    for candidate in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java || echo /nonexistent)")")")" /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
        major="$(java_major "$candidate")"
        [ -n "$major" ] && [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ] || continue
        best="$candidate" best_major="$major"
    done
    [ -n "$best" ] || return 1
    echo "$best"
}

fetch() {
    if [ -x "$KEYCLOAK_HOME/bin/kc.sh" ]; then
        say "Keycloak $KEYCLOAK_VERSION already present in $KEYCLOAK_HOME"
        return
    fi
    if ! java_home >/dev/null; then
        say "no Java 21+ on this machine: Keycloak not fetched (its test will skip)"
        return
    fi
    mkdir -p "$CACHE" "$WEIQUAN_LOG_DIR"
    exec 8>"$CACHE/.keycloak-fetch.lock"
    flock 8
    if [ -x "$KEYCLOAK_HOME/bin/kc.sh" ]; then
        say "Keycloak $KEYCLOAK_VERSION already present (fetched concurrently)"
        return
    fi
    say "fetching Keycloak $KEYCLOAK_VERSION (keycloak-quarkus-dist) from Maven Central"
    # Unpacked into a temp dir and renamed into place: an interrupted fetch never leaves a
    # half-unpacked Keycloak that looks complete.
    KC_TMP="$(mktemp -d "$CACHE/keycloak.XXXXXX.tmp")"
    trap 'rm -rf "$KC_TMP"' EXIT
    if ! mvn -q -B -Dstyle.color=never -f "$WEIQUAN_ROOT/deploy/keycloak/pom.xml" \
            dependency:unpack -Dkeycloak.version="$KEYCLOAK_VERSION" -DoutputDirectory="$KC_TMP" \
            >"$WEIQUAN_LOG_DIR/keycloak-fetch.log" 2>&1; then
        tail -n 30 "$WEIQUAN_LOG_DIR/keycloak-fetch.log" >&2
        echo "keycloak: ERROR: mvn could not fetch Keycloak; see $WEIQUAN_LOG_DIR/keycloak-fetch.log" >&2
        exit 1
    fi
    [ -x "$KC_TMP/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ] || { echo "keycloak: ERROR: no bin/kc.sh in the unpacked distribution" >&2; exit 1; }
    mv -T "$KC_TMP/keycloak-$KEYCLOAK_VERSION" "$KEYCLOAK_HOME"
    say "Keycloak ready in $KEYCLOAK_HOME"
}

case "${1:-}" in
    java-home) java_home ;;
    fetch) fetch ;;
    home) echo "$KEYCLOAK_HOME" ;;
    *) echo "usage: $0 java-home|fetch|home" >&2; exit 2 ;;
esac
