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

phase "services: intake, triage, projection, identity"
bash "$HERE/stack.sh" services-up
phase_done

phase "demo accounts (one per role; passwords generated once into $WEIQUAN_RUN_DIR/demo-accounts.txt)"
"$WEIQUAN_ROOT/.venv/bin/python" -m identity demo-accounts "$WEIQUAN_RUN_DIR/demo-accounts.txt"
phase_done

phase "demo data (Chinese demo cases through the intake API)"
"$WEIQUAN_ROOT/.venv/bin/python" "$HERE/demo_data.py"
phase_done

cat <<TXT

Weiquan is up.
  值班 operator: intake API docs   http://127.0.0.1:8101/docs
  triage API docs                  http://127.0.0.1:8102/docs
  supervisor dashboard             http://127.0.0.1:8106/dashboard
  projection API docs              http://127.0.0.1:8106/docs
  sign-in page (登录)              http://127.0.0.1:8107/login
  identity API docs, OIDC          http://127.0.0.1:8107/docs  http://127.0.0.1:8107/.well-known/openid-configuration
  metrics                          http://127.0.0.1:8101/metrics  :8102/metrics  :8106/metrics  :8107/metrics
  Kafka                            $WEIQUAN_KAFKA_BOOTSTRAP
  PostgreSQL                       $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT (provisioning role $WEIQUAN_PG_USER, each service its own role ${WEIQUAN_NAMESPACE:-weiquan}_<service>; passwords in $WEIQUAN_RUN_DIR/secrets.env)
  logs                             $WEIQUAN_LOG_DIR  (make logs)
  make status shows the processes; make down stops everything.

make up took $((SECONDS - T0)) s

Demo accounts (演示账户; local stack only, from $WEIQUAN_RUN_DIR/demo-accounts.txt):
TXT
sed 's/^/  /' "$WEIQUAN_RUN_DIR/demo-accounts.txt"
