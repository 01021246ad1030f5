# recap_nb: `make demo` (set up + run the main job) and `make test` (set up + run every test).
# Both create or reuse the local virtual environment .venv and install the package from this checkout.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch, pinned for a reproducible CPU setup (the package itself asks only torch>=2.4).
TORCH  ?= torch==2.13.0
OUT    ?= runs/demo

.PHONY: setup demo test test-fast test-slow clean-nbs export docs-check clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

# The main job: build the mini world and write the report (picture of scenes, the paper's Table 3 per caption style).
demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/recap-nb demo --out $(OUT)

# Every test CI runs: the library matches the notebooks, notebooks are clean, notebook tests, pytest.
test: setup
	HF_HUB_OFFLINE=1 PATH="$(abspath $(BIN)):$$PATH" bash scripts/test.sh

# Cells flagged slow (minutes on a CPU) and gpu (need CUDA); never part of CI.
test-slow: setup
	HF_HUB_OFFLINE=1 $(BIN)/nbdev-test --flags "slow gpu" --n-workers 1

export: setup
	$(BIN)/nbdev-export

clean-nbs: setup
	$(BIN)/nbdev-clean

clean:
	rm -rf $(VENV) runs
