# The two commands a new user needs: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
TEST_STAMP := $(VENV)/.installed-test-$(SUM)

.PHONY: run test lint bench train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make run` installs what running needs; `make test` adds the test tools and the benchmark peers.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-run-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/factbot run

lint: $(TEST_STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

test: lint
	$(BIN)/factbot check
	$(BIN)/pytest -q

bench: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,bench-numba,train]'
	$(BIN)/python -m bench.run_all

# Refit the ranker, confidence and short-answer models in bot/engine/models/ on the 27 SQuAD articles in ../shared/eval,
# printing their cross-validated figures first (about 10 minutes on 2 cores).
train: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,train]'
	$(BIN)/python -m bench.train --write

clean:
	rm -rf $(VENV) .factbot-cache .pytest_cache
