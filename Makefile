# recap_nb: `make demo` (set up + run the main job) and `make test` (set up + run every test).
# Both create or reuse the local virtual environment .venv and install the package from this checkout.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# The tested set: exact versions of everything .venv holds (torch's CPU build included), written by `make lock`
# from pyproject.toml + requirements/cpu.in for CPython 3.11 on Linux x86-64. Never edit it by hand.
LOCK   := requirements/lock-cpu.txt
# Where pip finds the lock's CPU build of torch: this machine kind keeps it in /opt/wheels, elsewhere PyTorch's CPU index.
TORCH_INDEX ?= $(if $(wildcard /opt/wheels/torch-*+cpu-*),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)
PIP    := $(BIN)/python -m pip install -qq -c $(LOCK) $(TORCH_INDEX)
OUT    ?= runs/demo

.PHONY: setup lock demo test test-fast test-slow clean-nbs export notebooks docs docs-check clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(LOCK)
	@echo "setting up $(VENV) from $(LOCK) (quiet; a few minutes the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) pip setuptools
	@$(PIP) --no-build-isolation torch -e ".[dev]" uv
	@touch $@

# Regenerate the lock after changing pyproject.toml or requirements/cpu.in (keeps every pin that still fits).
lock: setup
	$(BIN)/uv pip compile pyproject.toml requirements/cpu.in --extra dev --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 $(TORCH_INDEX) --custom-compile-command "make lock" -q -o $(LOCK)

# The main job (README): the whole RECAP pipeline on the mini world -> $(OUT)/report.md and report.html (Table 1 with
# 95% intervals, Table 3 of the recaptions, a same-seed grid). Rerun after an interrupt: finished stages are skipped.
demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/recap-nb run --preset mini --out $(OUT)

# Every test CI runs: the library matches the notebooks, notebooks are clean, notebook tests, pytest.
test: setup
	HF_HUB_OFFLINE=1 PATH="$(abspath $(BIN)):$$PATH" bash scripts/test.sh

# Cells flagged slow (minutes on a CPU) and gpu (need CUDA); never part of CI. No cell time limit: the training cells
# of the pretraining notebooks run for tens of minutes (pyproject's cell_timeout = 600 s is for `make test`).
test-slow: setup
	HF_HUB_OFFLINE=1 $(BIN)/nbdev-test --flags "slow gpu" --n-workers 1 --cell-timeout 0

# Execute every notebook on the CPU (cells flagged slow/gpu skipped) and write the outputs back, as committed: the
# lessons show their plots and tables on GitHub and in the docs. A notebook that fails keeps its old outputs.
notebooks: setup
	@HF_HUB_OFFLINE=1 MPLBACKEND=Agg $(BIN)/nbdev-test --save --n-workers 2 --timing; rc=$$?; $(BIN)/nbdev-clean; exit $$rc

# The documentation site: the notebooks with their committed outputs, built offline (open docs/site/index.html).
docs: setup
	$(BIN)/python scripts/build_docs.py

# The docs checks alone: the site builds, every lesson has its Colab badge and install cell, and its figures.
docs-check: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q tests/test_docs.py

export: setup
	$(BIN)/nbdev-export

clean-nbs: setup
	$(BIN)/nbdev-clean

clean:
	rm -rf $(VENV) runs
