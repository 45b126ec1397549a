#!/usr/bin/env bash
# What `make up` tells people at the end: the one address first, then a demo account per
# role, then what operations and tests use. Also on its own: `bash deploy/local/welcome.sh`.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/env.sh"

cat <<TXT

Weiquan is up. Open one address (sign in, then the navigation bar leads to your pages):

    http://$WEIQUAN_PROXY_LISTEN/

Demo accounts (演示账户, one per role; local stack only, from $WEIQUAN_RUN_DIR/demo-accounts.txt):
TXT
sed 's/^/  /' "$WEIQUAN_RUN_DIR/demo-accounts.txt"
cat <<TXT

Behind that address (reverse proxy: nginx, $WEIQUAN_RUN_DIR/nginx.conf):
  /intake/  /triage/  /projection/  /identity/  /audit/  /mediation/  /notification/  /legal-aid/   each service's pages, API and /docs
For operations and tests (not for users; each service's own port):
  services                         intake :8101  triage :8102  projection :8106  identity :8107  audit :8108  mediation :8103  notification :8105  legal_aid :8104
  metrics                          http://127.0.0.1:8101/metrics  :8102/metrics  :8106/metrics  :8107/metrics  :8108/metrics  :8103/metrics  :8105/metrics  :8104/metrics
  OIDC discovery                   http://127.0.0.1:8107/.well-known/openid-configuration
  Kafka                            $WEIQUAN_KAFKA_BOOTSTRAP
  PostgreSQL                       $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT (user $WEIQUAN_PG_USER, password in $WEIQUAN_RUN_DIR/secrets.env)
  logs                             $WEIQUAN_LOG_DIR  (make logs)
  make status shows the processes; make down stops everything.
TXT
