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

phase "services: intake, triage, mediation, legal aid, notification, projection, identity, audit; the reverse proxy"
bash "$HERE/stack.sh" services-up
phase_done

phase "demo accounts (one per role; passwords generated once into $WEIQUAN_RUN_DIR/demo-accounts.txt)"
"$WEIQUAN_ROOT/.venv/bin/python" -m identity demo-accounts "$WEIQUAN_RUN_DIR/demo-accounts.txt"
phase_done

phase "demo data (Chinese demo cases through the intake API, with notes, contacts, consent and a voided test call; mediation rooms, roster and sessions; the legal-aid panel and applications)"
"$WEIQUAN_ROOT/.venv/bin/python" "$HERE/demo_data.py"
"$WEIQUAN_ROOT/.venv/bin/python" "$HERE/demo_legal_aid.py"
phase_done

bash "$HERE/welcome.sh"
echo "make up took $((SECONDS - T0)) s"
