#!/usr/bin/env bash
# Benchmark: `brickyard update` on the full preset (everything rendered
# again and merged three ways with the files on disk), next to `new`.
# Prints medians (release build). Usage: bench/update.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --quiet
bin="$PWD/target/release/brickyard"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$bin" new "$work/p" --preset full --yes -q
# A person's edits, so the merges have work to do.
printf '\nOur own notes.\n' >> "$work/p/README.md"
sed -i 's/^services:/services:\n  worker:\n    image: busybox:1/' "$work/p/compose.yaml"
hyperfine --warmup 2 --runs "$runs" --shell=none --export-json "$work/r.json" \
  "$bin new $work/n --preset full --yes -q --dry-run" \
  "$bin -C $work/p update -q" \
  "$bin -C $work/p update --check -q" >/dev/null 2>&1
python3 - "$work/r.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['median'] * 1000:7.1f} ms  {r['command'].split(' ', 1)[1]}")
PY
