# Quick start: `make demo` and `make test` on a fresh clone. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench device-venv clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[train,device,dev,torch]"
	touch $(STAMP)

demo: setup
	$(BIN)/edgecnn demo --out runs/demo

test: setup
	$(BIN)/python -m ruff check edgecnn tests benchmarks examples tools
	$(BIN)/python -m pytest -q tests

lint: setup
	$(BIN)/python -m ruff check edgecnn tests benchmarks examples tools

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs build *.egg-info
