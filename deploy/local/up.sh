#!/usr/bin/env bash
# `make up`: the whole local stack, from a fresh clone to loaded demo data.
# Infrastructure first, then the topics, then the services, then demo cases.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
. "$HERE/env.sh"
cd "$WEIQUAN_ROOT"

T0=$SECONDS
PHASE_T0=$SECONDS
PHASE=start
phase() {
    PHASE="$*"
    PHASE_T0=$SECONDS
    echo "==> [$(date +%H:%M:%S)] $*"
}
# Whatever already started keeps running after a failure, so say how to look and stop.
trap 'echo "make up FAILED in phase \"$PHASE\" after $((SECONDS - T0)) s; logs: $WEIQUAN_LOG_DIR (make logs); make down stops what was started" >&2' ERR
phase_done() { echo "    done in $((SECONDS - PHASE_T0)) s"; }

phase "infrastructure: install, PostgreSQL, Kafka"
bash "$HERE/stack.sh" infra-up
# Secrets may have been generated just now: the Python steps below need them too.
. "$HERE/env.sh"
phase_done

phase "Kafka topics"
"$WEIQUAN_ROOT/.venv/bin/python" -m weiquan_shared.topics create
phase_done

phase "services: intake, triage, projection, identity; the reverse proxy"
bash "$HERE/stack.sh" services-up
phase_done

phase "demo accounts (one per role; passwords generated once into $WEIQUAN_RUN_DIR/demo-accounts.txt)"
"$WEIQUAN_ROOT/.venv/bin/python" -m identity demo-accounts "$WEIQUAN_RUN_DIR/demo-accounts.txt"
phase_done

phase "demo data (Chinese demo cases through the intake API)"
"$WEIQUAN_ROOT/.venv/bin/python" "$HERE/demo_data.py"
phase_done

cat <<TXT

Weiquan is up. Open one address (sign in, then the navigation bar leads to your pages):

    http://$WEIQUAN_PROXY_LISTEN/

Demo accounts (演示账户, one per role; local stack only, from $WEIQUAN_RUN_DIR/demo-accounts.txt):
TXT
sed 's/^/  /' "$WEIQUAN_RUN_DIR/demo-accounts.txt"
cat <<TXT

Behind that address (reverse proxy: nginx, $WEIQUAN_RUN_DIR/nginx.conf):
  /intake/  /triage/  /projection/  /identity/   each service's pages, API and /docs
For operations and tests (not for users; each service's own port):
  services                         intake :8101  triage :8102  projection :8106  identity :8107
  metrics                          http://127.0.0.1:8101/metrics  :8102/metrics  :8106/metrics  :8107/metrics
  OIDC discovery                   http://127.0.0.1:8107/.well-known/openid-configuration
  Kafka                            $WEIQUAN_KAFKA_BOOTSTRAP
  PostgreSQL                       $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT (user $WEIQUAN_PG_USER, password in $WEIQUAN_RUN_DIR/secrets.env)
  logs                             $WEIQUAN_LOG_DIR  (make logs)
  make status shows the processes; make down stops everything.

make up took $((SECONDS - T0)) s
TXT
