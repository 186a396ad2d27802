#!/usr/bin/env bash
# Benchmark: brickyard up/down vs docker compose up -d --wait / down, on one
# compose file of 5 services with healthchecks (a dependency chain of three
# levels), alternating the tools run by run on the same machine; plus a
# no-op `brickyard up` on the running stack. Prints medians and ratios.
# Targets: up <= 0.7x compose, down <= 1.0x compose, no-op up <= 300 ms.
# Usage: bench/up.sh [RUNS]   (INTERVAL=5s sets the healthcheck interval)
# Needs: a Docker engine, docker compose v2, busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
interval="${INTERVAL:-5s}"
cargo build --release --quiet
bin="$PWD/target/release/brickyard"
image=brickyard-test/busybox:1
bash .ci/busybox-image.sh "$image" >/dev/null
work="$(mktemp -d)"; trap 'cd /; docker compose -p bench-compose down -t 1 >/dev/null 2>&1 || true; "$bin" -C "$work/bench-brickyard" down -q >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

svc() { # name port deps
  cat <<YAML
  $1:
    image: $image
    init: true
    command: [httpd, -f, -p, "80", -h, /www]
    ports: ["127.0.0.1:$2:80"]
    healthcheck: {test: [CMD, wget, -q, -O, /dev/null, "http://127.0.0.1/"], interval: $interval, timeout: 3s, retries: 20}
YAML
  [ -n "${3:-}" ] && { echo "    depends_on:"; for d in $3; do echo "      $d: {condition: service_healthy}"; done; }
  return 0
}
compose_file() {
  echo "services:"
  svc db 18101; svc cache 18102; svc queue 18103
  svc api 18104 "db cache queue"
  svc web 18105 "api"
}
for p in bench-compose bench-brickyard; do mkdir -p "$work/$p"; compose_file > "$work/$p/compose.yaml"; done

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
declare -a cu cd bu bd bn
for i in $(seq "$runs"); do
  if (( i % 2 )); then
    cu+=("$(ms docker compose --project-directory "$work/bench-compose" -p bench-compose up -d --wait)")
    cd+=("$(ms docker compose --project-directory "$work/bench-compose" -p bench-compose down)")
    bu+=("$(ms "$bin" -C "$work/bench-brickyard" up)")
    bn+=("$(ms "$bin" -C "$work/bench-brickyard" up)")
    bd+=("$(ms "$bin" -C "$work/bench-brickyard" down)")
  else
    bu+=("$(ms "$bin" -C "$work/bench-brickyard" up)")
    bn+=("$(ms "$bin" -C "$work/bench-brickyard" up)")
    bd+=("$(ms "$bin" -C "$work/bench-brickyard" down)")
    cu+=("$(ms docker compose --project-directory "$work/bench-compose" -p bench-compose up -d --wait)")
    cd+=("$(ms docker compose --project-directory "$work/bench-compose" -p bench-compose down)")
  fi
  echo "run $i: compose up ${cu[-1]} ms, down ${cd[-1]} ms | brickyard up ${bu[-1]} ms, no-op up ${bn[-1]} ms, down ${bd[-1]} ms" >&2
done
python3 - "${cu[*]}" "${cd[*]}" "${bu[*]}" "${bd[*]}" "${bn[*]}" "$interval" "$runs" <<'PY'
import statistics as st, sys
cu, cd, bu, bd, bn = ([int(x) for x in a.split()] for a in sys.argv[1:6])
m = lambda v: st.median(v)
print(f"5 services, healthcheck interval {sys.argv[6]}, {sys.argv[7]} runs each, medians:")
print(f"  up:       brickyard {m(bu):7.0f} ms   compose {m(cu):7.0f} ms   ratio {m(bu)/m(cu):.2f}  (target <= 0.70)")
print(f"  down:     brickyard {m(bd):7.0f} ms   compose {m(cd):7.0f} ms   ratio {m(bd)/m(cd):.2f}  (target <= 1.00)")
print(f"  no-op up: brickyard {m(bn):7.0f} ms                                  (target <= 300)")
PY
