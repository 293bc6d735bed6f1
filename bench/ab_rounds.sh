#!/bin/bash
# Alternating rounds of the page and flash-sale benchmarks: an older tree ($1) against this checkout.
# One JSON line per run on stdout: {"round", "side", "bench", "result"}.
set -euo pipefail
old=${1:?usage: bench/ab_rounds.sh OLD_TREE [ROUNDS]}
rounds=${2:-3}
new=$(cd "$(dirname "$0")/.." && pwd)
python=$new/.venv/bin/python
for round in $(seq "$rounds"); do
  for side in old new; do
    dir=$old
    [ "$side" = new ] && dir=$new
    for bench in popup_page flash_sale; do
      line=$(cd "$dir" && PYTHONPATH=$dir "$python" "bench/$bench.py" 2>/dev/null | tail -1)
      echo "{\"round\": $round, \"side\": \"$side\", \"bench\": \"$bench\", \"result\": $line}"
    done
  done
done
