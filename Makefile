# Developer entry points. `make demo` sets everything up and runs the main job;
# `make test` runs every test (Rust core, then the Python package). .ci/run calls `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup build test test-rust test-python demo bench lint clean

setup: $(VENV)/.deps-stamp build

$(VENV)/.deps-stamp: requirements/dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

# One optimised build of the extension per run; tests and benchmarks use it.
build: $(VENV)/.deps-stamp
	maturin develop --release --quiet

test: setup test-rust test-python

test-rust:
	cargo test --no-default-features --quiet

test-python:
	$(PY) -m pytest -q

demo: setup
	$(PY) -m hftws demo --duration 20

bench: setup
	$(PY) benches/run.py

lint: setup
	cargo clippy --all-targets -- -D warnings
	cargo fmt --check
	$(VENV)/bin/ruff check python tests benches examples
	$(VENV)/bin/ruff format --check python tests benches examples
	$(PY) -m mypy --strict python/hftws tests/python
	$(PY) -m mypy.stubtest hftws._core

clean:
	rm -rf $(VENV) target
