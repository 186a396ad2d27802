#!/usr/bin/env bash
# Tags offline stand-in images under every image name a compose file (and the
# Dockerfiles beside it) uses, so a generated stack builds and boots with no
# registry. Wraps ../shared/offline-images/seed.sh and adds one thing: the
# python and node stand-ins get this machine's CA bundle, because package
# registries are reached through a TLS-intercepting proxy here, and pip/npm
# inside a build would otherwise refuse its certificate.
# Usage: .ci/stand-ins.sh COMPOSE_FILE
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shared="${BRICKYARD_SHARED:-$here/../../shared}"
file="$1"
bundle=/etc/ssl/certs/ca-certificates.crt

with_ca() { # stand-in -> stand-in with the host's CA bundle
  local src="$1" dst="brickyard-ci/${1#seed/}-ca"
  if ! docker image inspect "$dst" >/dev/null 2>&1; then
    local ctx; ctx="$(mktemp -d)"
    cp "$bundle" "$ctx/ca-certificates.crt"
    cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $src
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    npm_config_cafile=/etc/ssl/certs/ca-certificates.crt
DOCKERFILE
    docker build -q -t "$dst" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$dst"
}

# Grafana has no Debian package, so seed/generic plays it; this adds static
# answers on the datasource API paths brickyard's checks read (one per
# datasource uid the catalog provisions). It proves the check's wiring
# against a stand-in, not real Grafana.
grafana() {
  local dst=brickyard-ci/grafana
  if ! docker image inspect "$dst" >/dev/null 2>&1; then
    local ctx; ctx="$(mktemp -d)"
    cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM seed/generic
RUN mkdir -p /www/api/datasources/uid \
 && echo '{"uid":"prometheus","name":"Prometheus","type":"prometheus"}' > /www/api/datasources/uid/prometheus \
 && echo '{"uid":"graphite","name":"Graphite","type":"graphite"}' > /www/api/datasources/uid/graphite \
 && echo '{"uid":"influxdb","name":"InfluxDB","type":"influxdb"}' > /www/api/datasources/uid/influxdb
DOCKERFILE
    docker build -q -t "$dst" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$dst"
}

# Mailpit, MinIO and CouchDB have no Debian package either: .ci/fakes/NAME.py plays
# the parts brickyard's apps and checks use (see each file), on the python
# stand-in (with the CA bundle, for pip). Rebuilt when the script changes.
fake() {
  local name="$1" extra="${2:-}" dst="brickyard-ci/$1"
  local hash; hash="$(sha256sum < "$here/fakes/$name.py" | cut -c1-16)"
  if [ "$(docker image inspect -f '{{index .Config.Labels "fake.hash"}}' "$dst" 2>/dev/null)" != "$hash" ]; then
    local ctx base; ctx="$(mktemp -d)"; base="$(with_ca seed/python)"
    cp "$here/fakes/$name.py" "$ctx/$name"
    cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $base
${extra:+RUN $extra}
COPY $name /usr/local/bin/$name
RUN chmod 755 /usr/local/bin/$name && ln -s /usr/local/bin/$name /$name
LABEL fake.hash="$hash"
USER 1000
ENTRYPOINT ["/usr/local/bin/$name"]
DOCKERFILE
    docker build -q -t "$dst" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$dst"
}

# WireMock has no Debian package, but npm's `wiremock` ships its standalone
# jar: the real WireMock, on the java stand-in (seed.sh builds it on first
# use), started as the upstream image starts it (args, then WIREMOCK_OPTIONS).
wiremock() {
  local ref="$1" version="${1##*:}" dst="brickyard-ci/wiremock:${1##*:}"
  if ! docker image inspect "$dst" >/dev/null 2>&1; then
    bash "$shared/offline-images/seed.sh" java >&2
    local ctx; ctx="$(mktemp -d)"
    (cd "$ctx" && npm pack --silent "wiremock@$version" >/dev/null && tar xzf wiremock-*.tgz)
    cp "$ctx"/package/build/wiremock-standalone-*.jar "$ctx/wiremock.jar"
    cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM seed/java
COPY wiremock.jar /var/wiremock/lib/wiremock-standalone.jar
RUN mkdir -p /home/wiremock/mappings /home/wiremock/__files
WORKDIR /home/wiremock
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c", "exec java $JAVA_OPTS -jar /var/wiremock/lib/wiremock-standalone.jar --port 8080 \"$@\" $WIREMOCK_OPTIONS", "wiremock"]
DOCKERFILE
    docker build -q -t "$dst" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$dst"
}

# seed/buildbot runs the master in /buildbot; upstream's image in
# /var/lib/buildbot, where compose.yaml mounts master.cfg. Same start script.
buildbot_master() {
  local dst=brickyard-ci/buildbot-master
  if ! docker image inspect "$dst" >/dev/null 2>&1; then
    docker image inspect seed/buildbot >/dev/null 2>&1 || bash "$shared/offline-images/seed.sh" buildbot >&2
    local ctx; ctx="$(mktemp -d)"
    printf 'FROM seed/buildbot\nWORKDIR /var/lib/buildbot\n' > "$ctx/Dockerfile"
    docker build -q -t "$dst" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$dst"
}

# The images this script provides itself never go through seed.sh's retag:
# tagged there first and re-tagged here, a stack booting beside this one could
# get the plain stand-in in between (Grafana without its datasource answers).
own='(grafana/|buildbot/buildbot-master|wiremock/wiremock|couchdb|axllent/mailpit|minio/minio)'
rest="$(dirname "$file")/.stand-ins-$$.yaml"
trap 'rm -f "$rest"' EXIT
grep -Ev "^[[:space:]]*image:[[:space:]]*[\"']?$own" "$file" > "$rest" || true
{
  bash "$shared/offline-images/seed.sh" refs "$file" | grep -E "^$own" || true
  bash "$shared/offline-images/seed.sh" retag "$rest"
} | while read -r ref arrow src; do
  [ "$arrow" = "<-" ] || continue
  case "$ref" in
    grafana/*) docker tag "$(grafana)" "$ref"; echo "$ref <- seed/generic + Grafana API answers"; continue ;;
    buildbot/buildbot-master*) docker tag "$(buildbot_master)" "$ref"; echo "$ref <- seed/buildbot in /var/lib/buildbot"; continue ;;
    wiremock/wiremock*) docker tag "$(wiremock "$ref")" "$ref"; echo "$ref <- WireMock from npm on seed/java"; continue ;;
    couchdb*) docker tag "$(fake couchdb "apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null && rm -rf /var/lib/apt/lists/*")" "$ref"
      echo "$ref <- .ci/fakes/couchdb.py"; continue ;;
    axllent/mailpit*) docker tag "$(fake mailpit)" "$ref"; echo "$ref <- .ci/fakes/mailpit.py"; continue ;;
    minio/minio*) docker tag "$(fake minio "pip install --no-cache-dir --break-system-packages botocore==1.35.63 && ln -s /usr/local/bin/minio /usr/local/bin/mc")" "$ref"
      echo "$ref <- .ci/fakes/minio.py"; continue ;;
  esac
  case "$src" in
    seed/python|seed/node)
      if [ -f "$bundle" ]; then docker tag "$(with_ca "$src")" "$ref"; echo "$ref <- $src + CA bundle"; continue; fi ;;
  esac
  echo "$ref <- $src"
done
