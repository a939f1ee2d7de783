# ouroboros — two commands: `make go` runs the living world, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: go test bench schemas lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,jit]'
	touch $(STAMP)

go: $(STAMP)
	$(VENV)/bin/ouroboros go

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_petri.py
	$(PY) benchmarks/bench_governance.py
	$(PY) benchmarks/bench_sandbox.py
	$(PY) benchmarks/bench_sandbox_python.py
	$(PY) benchmarks/bench_neon.py
	$(PY) benchmarks/bench_selfopt.py

schemas: $(STAMP)
	$(PY) -m ouroboros.content.export .

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache
