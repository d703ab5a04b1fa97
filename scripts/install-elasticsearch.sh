#!/usr/bin/env bash
# Put Elasticsearch (the integ-test zip: no x-pack, Apache-licensed, runs on the machine's
# JDK 17) into .cache/elasticsearch/elasticsearch-$ES_VERSION, downloaded once from Maven
# Central and checked against the .sha1 beside it. Makes sure the unprivileged system user
# the tests run it as (ronda-es; Elasticsearch refuses to run as root) exists and can read
# it. Nothing is started and nothing listens. Used by scripts/test.sh; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${RONDA_ES_VERSION:-8.19.21}
es_user=${RONDA_ES_USER:-ronda-es}
cache=.cache/elasticsearch
home="$cache/elasticsearch-$version"
base=https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch
zip="elasticsearch-$version.zip"

die() { echo "install-elasticsearch.sh: $*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || die "no java on PATH; install a JDK 17 (apt-get install openjdk-17-jre-headless)"

ensure_user() {
  [ "$(id -u)" = 0 ] || return 0   # a non-root user runs Elasticsearch as itself
  if ! id -u "$es_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$es_user"
  fi
  # The tests run bin/elasticsearch as $es_user, with their own copy of config/: every
  # directory down to the distribution must be traversable and the distribution readable.
  local dir
  dir=$(cd "$cache" && pwd)
  while [ "$dir" != / ]; do
    if [ "$(stat -c %A "$dir" | cut -c10)" != x ]; then
      echo "install-elasticsearch.sh: chmod o+x $dir (so $es_user can reach the distribution)" >&2
      chmod o+x "$dir"
    fi
    dir=$(dirname "$dir")
  done
  chmod -R o+rX "$home"
}

if [ -x "$home/bin/elasticsearch" ]; then
  ensure_user
  exit 0
fi

command -v unzip >/dev/null 2>&1 || {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip
  else
    die "unzip is missing (apt-get install unzip)"
  fi
}
mkdir -p "$cache"
if [ ! -f "$cache/$zip" ]; then
  echo "install-elasticsearch.sh: downloading Elasticsearch $version (about 110 MB)" >&2
  curl -fsSL --retry 3 -o "$cache/$zip.part" "$base/$version/$zip" || die "download of $zip failed"
  curl -fsSL --retry 3 -o "$cache/$zip.sha1" "$base/$version/$zip.sha1" || die "download of $zip.sha1 failed"
  want=$(tr -d ' \n' < "$cache/$zip.sha1" | cut -c1-40)
  got=$(sha1sum "$cache/$zip.part" | cut -d' ' -f1)
  if [ "$want" != "$got" ]; then
    rm -f "$cache/$zip.part"
    die "$zip: sha1 $got does not match the published $want"
  fi
  mv "$cache/$zip.part" "$cache/$zip"
fi
rm -rf "$home.part"
mkdir -p "$home.part"
unzip -q "$cache/$zip" -d "$home.part"
mv "$home.part/elasticsearch-$version" "$home"
rmdir "$home.part"
rm -f "$cache/$zip"
ensure_user
echo "install-elasticsearch.sh: Elasticsearch $version in $home" >&2
