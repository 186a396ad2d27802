#!/usr/bin/env bash
# Benchmark: `brickyard export kubernetes` on a release build, for each
# preset (the full one is the figure the issue asks for), with the
# resources written and the report's counts beside the time. Also `config`
# on the same project: the load alone, which the export does twice (once
# with .env values as markers).
# Usage: bench/export.sh [RUNS]   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
cargo build --release --quiet
bin="$PWD/target/release/brickyard"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for preset in minimal demo full; do
  "$bin" new "$work/$preset" --preset "$preset" --yes --quiet
  # Each run writes afresh: a second export that changes nothing is faster.
  hyperfine --warmup 3 --runs "$runs" --shell=none \
    --prepare "rm -rf $work/$preset/k8s" \
    --export-json "$work/$preset.json" \
    "$bin -C $work/$preset export kubernetes --quiet" >&2
  hyperfine --warmup 3 --runs "$runs" --shell=none \
    --export-json "$work/$preset-config.json" \
    "$bin -C $work/$preset config" >&2
  "$bin" -C "$work/$preset" export kubernetes --json -o "$work/$preset-k8s" > "$work/$preset-report.json"
done
python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
for preset in ["minimal", "demo", "full"]:
    r = json.load(open(os.path.join(work, f"{preset}.json")))["results"][0]
    c = json.load(open(os.path.join(work, f"{preset}-config.json")))["results"][0]
    rep = json.load(open(os.path.join(work, f"{preset}-report.json")))
    kinds = ", ".join(f"{n} {k}" for k, n in rep["resources"].items())
    n = rep["counts"]
    print(f"{preset}: export kubernetes median {r['median']*1000:.1f} ms (config alone {c['median']*1000:.1f} ms) "
          f"over {len(r['times'])} runs; {sum(rep['resources'].values())} resources ({kinds}); "
          f"report {n['translated']} translated / {n['approximated']} approximated / {n['not_translated']} not translated")
PY
