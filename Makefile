# The two commands a new user needs: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint bench train clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/factbot run

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

test: lint
	$(BIN)/factbot check
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,bench-numba,train]'
	$(BIN)/python -m bench.run_all

# Refit the ranker, confidence and short-answer models in bot/models/ on the 27 SQuAD articles in ../shared/eval,
# printing their cross-validated figures first (about 10 minutes on 2 cores).
train: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,train]'
	$(BIN)/python -m bench.train --write

clean:
	rm -rf $(VENV) .factbot-cache .pytest_cache
