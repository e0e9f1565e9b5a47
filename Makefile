# Two commands on a fresh machine with Python 3.11:
#   make run    set up .venv and run the default study   (CORES=2 by default)
#   make test   set up .venv and run the whole test suite
#   make explore  the zoom explorer on 127.0.0.1 (docs/explorer.md; EXPLORE="--port 9000" etc.)
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: run test lint bench explore clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/snakefmt --check Snakefile workflow/rules && $(BIN)/snakemake --lint

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/throughput.py

explore: $(VENV)/.installed
	$(BIN)/python -m trainability explore $(EXPLORE)

clean:
	rm -rf results .snakemake
