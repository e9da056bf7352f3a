# Developer entry points. `make demo` sets everything up and runs the main job;
# `make test` runs every test (Rust core, then the Python package); `make wheel` builds the
# release wheel and `make wheel-check` runs the demo from it. .ci/run: test, lint, wheel-check.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup build test test-rust test-python demo bench lint wheel wheel-check clean

setup: $(VENV)/.deps-stamp build

$(VENV)/.deps-stamp: requirements/dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

# One optimised build of the extension per run; tests and benchmarks use it.
build: $(VENV)/.deps-stamp
	maturin develop --release --quiet
	@# The extension is abi3 now; a per-version one left by an older build would shadow it.
	rm -f python/hftws/_core.cpython-*.so

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
	$(VENV)/bin/ruff check python tests benches examples .ci
	$(VENV)/bin/ruff format --check python tests benches examples .ci
	$(PY) -m mypy --strict python/hftws tests/python
	$(PY) -m mypy.stubtest hftws._core
	$(PY) .ci/notices.py --check

# The release wheel: one abi3 wheel (CPython >= 3.11) tagged manylinux2014 (glibc >= 2.17),
# linked by zig from PyPI (no system toolchain or other download), checked by auditwheel.
WHEEL_DIR ?= dist

$(VENV)/.wheel-stamp: requirements/wheel.txt $(VENV)/.deps-stamp
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/wheel.txt
	touch $@

wheel: $(VENV)/.wheel-stamp
	rm -rf $(WHEEL_DIR)
	maturin build --release --zig --compatibility manylinux2014 --out $(WHEEL_DIR)
	auditwheel show $(WHEEL_DIR)/hftws-*.whl

# Installs the wheel in a fresh virtualenv outside the tree and runs the demo from it.
wheel-check: wheel
	PYTHON=python3 .ci/wheel_check.sh $(WHEEL_DIR)/hftws-*-abi3-*.whl

clean:
	rm -rf $(VENV) target $(WHEEL_DIR)
