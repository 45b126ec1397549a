#!/usr/bin/env bash
# Runs one service with the PostgreSQL credentials of its own role and no other's: the
# command of supervisord's [program:<name>], and of `make rebuild-projection`.
#   run-service.sh NAME [ARGS...]    exec python -m NAME ARGS...
# The service logs in as <namespace>_<name> with WEIQUAN_PG_PASSWORD_<NAME> from
# .run/secrets.env (weiquan_shared.settings.service_settings). The provisioning role's
# password (WEIQUAN_PG_PASSWORD) and the other services' are removed from the environment
# first, so the service process cannot log in as anyone else.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
. "$HERE/env.sh"

name="${1:?usage: run-service.sh NAME [ARGS...]}"
shift
own="WEIQUAN_PG_PASSWORD_${name^^}"
if [ -z "${!own:-}" ]; then
    echo "run-service.sh: $own is not set: deploy/local/install.sh generates it into $WEIQUAN_RUN_DIR/secrets.env" >&2
    exit 1
fi
# Client secrets toward identity: a service keeps its own; identity, which checks them, all.
own_secret="WEIQUAN_SERVICE_SECRET_${name^^}"
for var in $(compgen -e); do
    case "$var" in
        "$own") ;;
        WEIQUAN_PG_PASSWORD*) unset "$var" ;;
        "$own_secret") ;;
        WEIQUAN_SERVICE_SECRET_*) [ "$name" = identity ] || unset "$var" ;;
        WEIQUAN_NOTIFICATION_SURVEY_KEY) [ "$name" = notification ] || unset "$var" ;;
    esac
done
unset WEIQUAN_PG_USER
# Identity's private signing key: generated (mode 600) on its first start, never committed.
if [ "$name" = identity ]; then
    export WEIQUAN_IDENTITY_SIGNING_KEYS_FILE="${WEIQUAN_IDENTITY_SIGNING_KEYS_FILE:-$WEIQUAN_RUN_DIR/identity-signing-keys.json}"
fi
exec "$WEIQUAN_ROOT/.venv/bin/python" -m "$name" "$@"
