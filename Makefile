# Nectar: `make install`, then `nectar serve` (.venv/bin/nectar) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The CPU torch wheel lies in /opt/wheels on these machines; elsewhere pip resolves torch==2.13.0 from PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

# Client-only venvs for the tests/clients suite: each SDK in its own interpreter, exactly as users run it.
CLIENTS := .venv-clients
PY313 := $(shell PYENV_VERSION=3.13.0 python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3.13)

.PHONY: install clients test lint typecheck check bench bench-peers clean screenshots

install: $(BIN)/nectar

$(BIN)/nectar: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(FIND_LINKS) -e '.[dev]'
	touch $(BIN)/nectar

clients: $(CLIENTS)/ragflow-sdk-0.27.3/bin/python $(CLIENTS)/ragflow-sdk-0.22.1/bin/python \
	$(CLIENTS)/abeja-sdk-2.3.6/bin/python $(CLIENTS)/schemathesis-4.32.5/bin/schemathesis

$(CLIENTS)/ragflow-sdk-0.27.3/bin/python:  # 0.27 needs Python >= 3.13
	$(PY313) -m venv $(CLIENTS)/ragflow-sdk-0.27.3
	$(CLIENTS)/ragflow-sdk-0.27.3/bin/pip install --quiet ragflow-sdk==0.27.3

$(CLIENTS)/ragflow-sdk-0.22.1/bin/python:  # the newest release that installs on Python 3.11
	$(PYTHON) -m venv $(CLIENTS)/ragflow-sdk-0.22.1
	$(CLIENTS)/ragflow-sdk-0.22.1/bin/pip install --quiet ragflow-sdk==0.22.1

$(CLIENTS)/abeja-sdk-2.3.6/bin/python:  # the OpsBee LLM clients (abeja.opsbeellm)
	$(PYTHON) -m venv $(CLIENTS)/abeja-sdk-2.3.6
	$(CLIENTS)/abeja-sdk-2.3.6/bin/pip install --quiet abeja-sdk==2.3.6

$(CLIENTS)/schemathesis-4.32.5/bin/schemathesis:  # fuzzes the published OpenAPI document (tests/clients)
	$(PYTHON) -m venv $(CLIENTS)/schemathesis-4.32.5
	$(CLIENTS)/schemathesis-4.32.5/bin/pip install --quiet schemathesis==4.32.5

test: install clients
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check service workers tests bench
	$(BIN)/ruff format --check service workers tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.retrieval_latency
	$(BIN)/python -m bench.chat
	$(BIN)/python -m bench.history_search

# LlamaIndex and LangChain for bench/peers.py, in their own venv: never among Nectar's dependencies.
PEERS := .venv-peers

$(PEERS)/bin/python: bench/peers-requirements.txt
	test -x $@ || $(PYTHON) -m venv --copies $(PEERS)  # a copied python: touching it cannot touch the system's
	$(PEERS)/bin/pip install --quiet $(FIND_LINKS) -r bench/peers-requirements.txt
	touch -h $@

bench-peers: install $(PEERS)/bin/python
	$(BIN)/python -m bench.peers

screenshots: install  # the console's pages in headless Chromium, saved to tests/console/screenshots/
	NECTAR_SCREENSHOTS=1 $(BIN)/pytest -q tests/console

clean:
	rm -rf $(VENV) $(CLIENTS) $(PEERS) .nectar .pytest_cache .mypy_cache .ruff_cache
