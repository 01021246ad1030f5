#!/usr/bin/env bash
# The whole test suite, as CI runs it (expects the venv's bin first on PATH; `make test` arranges that).
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg
start=$(date +%s)

echo "== 1/4 the library is what the notebooks export"
before=$(git status --porcelain -- recap_nb 2>/dev/null || true)
nbdev-export
after=$(git status --porcelain -- recap_nb 2>/dev/null || true)
if [ "$before" != "$after" ]; then
  echo "nbdev-export changed recap_nb/: run 'make export' and commit the result"; git status --porcelain -- recap_nb; exit 1
fi

echo "== 2/4 notebooks are clean (nbdev-clean changes nothing)"
before=$(git status --porcelain -- nbs 2>/dev/null || true)
nbdev-clean
after=$(git status --porcelain -- nbs 2>/dev/null || true)
if [ "$before" != "$after" ]; then
  echo "nbdev-clean changed notebooks: run 'make clean-nbs' and commit the result"; git status --porcelain -- nbs; exit 1
fi

echo "== 3/4 notebook tests (nbdev-test; cells flagged slow/gpu are skipped)"
nbdev-test --n-workers 2 --timing

echo "== 4/4 pytest"
python -m pytest -q tests
echo "test suite finished in $(( $(date +%s) - start )) s"
