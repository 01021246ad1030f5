#!/usr/bin/env bash
# The checkpoint curve of the protocol, unattended: for each step, wait until every arm has its checkpoint (the
# trainings run beside it), measure, then draw the curve. Resumable: `measure` skips what is already done.
#   bash experiments/recap_compare/curve_chain.sh runs/recap_compare
set -euo pipefail
D=${1:-runs/recap_compare}; PY=${PYTHON:-.venv/bin/python}; C=experiments/recap_compare/compare.py
all_have() { for A in alttext recap oracle; do [ -f "$D/$A/finetune/checkpoints/$1/trainer_state.json" ] || return 1; done; }
for S in 500 1000 2000 4000; do
  ck=$(printf 'step-%07d' "$S")
  until all_have "$ck"; do sleep 60; done
  echo "$(date -u +%FT%TZ) measure --at $S"; "$PY" $C measure "$D" --at "$S"
  "$PY" $C curve "$D"
done
