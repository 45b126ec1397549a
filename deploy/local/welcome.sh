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
# The services from the one list (deploy/local/services.py): "name port prefix" per line.
prefixes="" ports="" metrics="" identity_port=""
while read -r name port prefix; do
    prefixes+="$prefix/  "
    ports+="$name :$port  "
    metrics+=":$port/metrics  "
    [ "$name" = identity ] && identity_port="$port"
done < <("$WEIQUAN_ROOT/.venv/bin/python" "$(dirname "${BASH_SOURCE[0]}")/services.py" list)
ports="${ports%  }" metrics="${metrics%  }"
cat <<TXT

Behind that address (reverse proxy: nginx, $WEIQUAN_RUN_DIR/nginx.conf):
  $prefixes each service's pages, API and /docs
For operations and tests (not for users; each service's own port):
  services                         $ports
  metrics                          http://127.0.0.1$metrics
  OIDC discovery                   http://127.0.0.1:$identity_port/.well-known/openid-configuration
  Kafka                            $WEIQUAN_KAFKA_BOOTSTRAP
  PostgreSQL                       $WEIQUAN_PG_HOST:$WEIQUAN_PG_PORT (user $WEIQUAN_PG_USER, password in $WEIQUAN_RUN_DIR/secrets.env)
  logs                             $WEIQUAN_LOG_DIR  (make logs)
  make status shows the processes; make down stops everything.
TXT
