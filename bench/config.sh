#!/usr/bin/env bash
# Benchmark: reading compose files. `brickyard config` against `docker
# compose config` (both printing YAML) on three projects: a real-sized
# stack from the corpus, 200 services sharing anchors and an extends chain,
# and 2,000 services. Prints medians and ratios (release build).
# Usage: bench/config.sh [RUNS]   (needs hyperfine and docker compose v2)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --quiet
bin="$PWD/target/release/brickyard"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

mkdir -p "$work/stack" "$work/s200" "$work/s2000"
cp -r tests/fixtures/compose/stack-supabase-lite/. "$work/stack/"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
s = "x-base: &base\n  image: app:1\n  restart: unless-stopped\n  environment: {LOG: info}\nservices:\n"
for i in range(200):
    s += f"  s{i}:\n    <<: *base\n    ports: [\"127.0.0.1:{20000+i}:80\"]\n"
    if i:
        s += f"    depends_on: [s{i-1}]\n"
for i in range(20):
    s += f"  e{i}:\n    extends: {'s0' if i == 0 else 'e' + str(i-1)}\n"
open(f"{work}/s200/compose.yaml", "w").write(s)
s = "services:\n" + "".join(f"  s{i}:\n    image: app:1\n    environment: {{N: \"{i}\"}}\n" for i in range(2000))
open(f"{work}/s2000/compose.yaml", "w").write(s)
PY
for p in stack s200 s2000; do
  hyperfine --warmup 2 --runs "$runs" --shell=none --export-json "$work/$p.json" \
    "docker compose --project-directory $work/$p config" \
    "$bin -C $work/$p config" >/dev/null 2>&1
  python3 - "$work/$p.json" "$p" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
c, b = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"{sys.argv[2]:>6}: docker compose config {c:7.1f} ms | brickyard config {b:7.1f} ms | ratio {b / c:.2f}")
PY
done
