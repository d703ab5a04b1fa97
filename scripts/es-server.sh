#!/usr/bin/env bash
# Start the test Elasticsearch by hand, in the foreground, on 127.0.0.1 (Ctrl-C stops it):
#   scripts/es-server.sh [PORT]        (default 9200; data kept in .cache/elasticsearch/dev)
#   scripts/es-server.sh --wipe [PORT] (start on an empty data directory)
# The same distribution and settings as the tests (tests/integration/esserver.py):
# single node, security off, 512 MB heap, run as ronda-es when started as root.
# Installs it first if needed (scripts/install-elasticsearch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
wipe=0
if [ "${1:-}" = --wipe ]; then wipe=1; shift; fi
port=${1:-9200}
scripts/install-elasticsearch.sh
version=${RONDA_ES_VERSION:-8.19.21}
home="$PWD/.cache/elasticsearch/elasticsearch-$version"
dev="$PWD/.cache/elasticsearch/dev"
[ "$wipe" = 1 ] && rm -rf "$dev"
mkdir -p "$dev/data" "$dev/logs" "$dev/tmp"
[ -d "$dev/config" ] || cp -r "$home/config" "$dev/config"
run=()
if [ "$(id -u)" = 0 ]; then
  user=${RONDA_ES_USER:-ronda-es}
  chown -R "$user:" "$dev"
  run=(setpriv "--reuid=$user" "--regid=$(id -g "$user")" --init-groups)
fi
java=$(readlink -f "$(command -v java)")
export ES_JAVA_HOME=${ES_JAVA_HOME:-$(dirname "$(dirname "$java")")}
export ES_JAVA_OPTS=${ES_JAVA_OPTS:--Xms512m -Xmx512m}
export ES_PATH_CONF="$dev/config" ES_TMPDIR="$dev/tmp"
echo "es-server.sh: Elasticsearch $version on http://127.0.0.1:$port (data in $dev)" >&2
exec "${run[@]}" "$home/bin/elasticsearch" \
  -Ecluster.name=ronda-dev -Ediscovery.type=single-node -Enetwork.host=127.0.0.1 \
  -Ehttp.port="$port" -Epath.data="$dev/data" -Epath.logs="$dev/logs" \
  -Expack.security.enabled=false -Ecluster.routing.allocation.disk.threshold_enabled=false
