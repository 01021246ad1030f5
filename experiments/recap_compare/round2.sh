#!/usr/bin/env bash
# Round 2 of the comparison (issue 19 item 6 on item 5's new base): the same protocol and commands as round 1, with
# PIPELINE = stage 7 of experiments/mini_base (rebuild it first on a fresh machine: cd experiments/mini_base &&
# python stage7.py ../../runs/mini_base 1). Resumable: rerun this script; finished steps are skipped by compare.py.
# WITHDRAWN 2026-12-07: the seeded stage 7 does not meet item 5's rule (experiments/mini_base/README.md); kept as the record of how round 2 ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-runs/recap_compare_s7}
P=runs/mini_base/stage7/run/mini/finetune/pipeline
C=experiments/recap_compare/compare.py
test -f $P/model_index.json || { echo "$P missing: run experiments/mini_base/stage7.py first"; exit 1; }
python $C captions $DIR
for S in 500 1000 2000 4000; do
  for ARM in alttext recap oracle; do python $C train $DIR $ARM --base $P --steps $S; done
  python $C measure $DIR --at $S
done
python $C curve $DIR
