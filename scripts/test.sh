#!/usr/bin/env bash
# The whole test suite, as CI runs it (expects the venv's bin first on PATH; `make test` arranges that).
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg
start=$(date +%s)

# Run a command that must leave the files under a folder unchanged; `fix` says how to repair it.
must_not_change() {
  local folder=$1 fix=$2; shift 2
  local before after
  before=$(git status --porcelain -- "$folder" 2>/dev/null || true)
  "$@"
  after=$(git status --porcelain -- "$folder" 2>/dev/null || true)
  if [ "$before" != "$after" ]; then
    echo "'$*' changed $folder/: run '$fix' and commit the result"; git status --porcelain -- "$folder"; exit 1
  fi
}

echo "== 0/4 the environment is the locked one (requirements/lock-cpu.txt)"
python -m pytest -q tests/test_lock.py
echo "== 1/4 the library is what the notebooks export"
must_not_change recap_nb "make export" nbdev-export
echo "== 2/4 notebooks are clean"
must_not_change nbs "make clean-nbs" nbdev-clean
echo "== 3/4 notebook tests (nbdev-test; cells flagged slow/gpu are skipped)"
nbdev-test --n-workers 2 --timing
echo "== 4/4 pytest (tests/test_browser.py drives Chromium through Voila: it must run under CI=1, elsewhere it may skip)"
python -m pytest -q -rs tests --deselect tests/test_lock.py::test_environment_is_the_locked_one
if [ -f runs/test-artifacts/caption_compare.png ]; then echo "browser test screenshots: runs/test-artifacts/"; fi
echo "test suite finished in $(( $(date +%s) - start )) s"
