# Nectar: `make install`, then `nectar serve` (.venv/bin/nectar) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The CPU torch wheel lies in /opt/wheels on these machines; elsewhere pip resolves torch==2.13.0 from PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: install test lint typecheck check bench clean

install: $(BIN)/nectar

$(BIN)/nectar: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(FIND_LINKS) -e '.[dev]'
	touch $(BIN)/nectar

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check service workers tests bench
	$(BIN)/ruff format --check service workers tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/retrieval_latency.py

clean:
	rm -rf $(VENV) .nectar .pytest_cache .mypy_cache .ruff_cache
