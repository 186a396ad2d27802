#!/usr/bin/env bash
# Benchmark: `brickyard new --preset full --yes` on a release build, and
# `catalog list` (loading and checking the whole built-in catalog, then
# printing it: the catalog's load time, plus a little).
# Prints the median wall time of repeated runs (target for new: under 20 ms).
# Usage: bench/new.sh [RUNS]   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
cargo build --release --quiet
bin="$PWD/target/release/brickyard"
# In memory where the machine has it: on a shared disk the file system's
# noise (10 to 25 ms here) is larger than what is measured.
work="$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)"; trap 'rm -rf "$work"' EXIT
hyperfine --warmup 5 --runs "$runs" --shell=none \
  --prepare "rm -rf $work/p" \
  --export-json "$work/result.json" \
  "$bin new $work/p --preset full --yes --quiet" >&2
hyperfine --warmup 5 --runs "$runs" --shell=none \
  --export-json "$work/catalog.json" \
  "$bin catalog list --json" >&2
python3 - "$work/result.json" "$work/catalog.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"brickyard new --preset full --yes: median {r['median']*1000:.2f} ms, "
      f"mean {r['mean']*1000:.2f} ms, min {r['min']*1000:.2f} ms over {len(r['times'])} runs (target < 20 ms)")
r = json.load(open(sys.argv[2]))["results"][0]
print(f"brickyard catalog list --json (catalog load): median {r['median']*1000:.2f} ms, "
      f"min {r['min']*1000:.2f} ms over {len(r['times'])} runs")
PY
