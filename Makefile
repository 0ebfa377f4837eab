# retail-data-platform — the two commands are `make local` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
STAMP := $(VENV)/.installed-$(shell cat requirements.txt tests/requirements.txt | sha1sum | cut -c1-12)
# dbt (the ingestion capability's dbt layer) in a venv of its own: its dependencies cannot share ours (dbt.in)
DBT_VENV := .venv-dbt
DBT_LOCK := .github/requirements/dbt.txt
DBT_STAMP := $(DBT_VENV)/.installed-$(shell cat $(DBT_LOCK) | sha1sum | cut -c1-12)
LOCK := CUSTOM_COMPILE_COMMAND="make lock" .venv-lock/bin/pip-compile -q --generate-hashes --allow-unsafe \
  --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: setup setup-deploy system-deps local stop status test lint plan snapshots bench clean lock

setup: $(STAMP) $(DBT_STAMP) system-deps ## idempotent: venvs, pinned Python deps, PostgreSQL (required), Graphviz, Chromium, wrk (optional)

# tests/requirements.txt is requirements.txt plus what only the tests and the stand-ins need, same pins
$(STAMP): requirements.txt tests/requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r tests/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

$(DBT_STAMP): $(DBT_LOCK)
	test -x $(DBT_VENV)/bin/python || $(PY) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install -q --require-hashes -r $(DBT_LOCK)
	rm -f $(DBT_VENV)/.installed-* && touch $@

setup-deploy: ## a deploy job's venv: requirements.txt alone, hash-checked (no test tool beside its credentials)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements.txt

system-deps: ## apt-get as root, else `sudo -n apt-get` (hosted runners); without either only a missing PostgreSQL fails
	@bash scripts/system-deps.sh

local: setup ## start the stand-ins and run the data path locally
	$(BIN)/python -m scripts.local

stop: ## stop the local stand-ins, the API and the dashboard
	$(BIN)/python -m scripts.standins stop

status:
	$(BIN)/python -m scripts.standins status

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint ## lint, then the whole suite (mocks, policy, snapshots, stand-ins)
	$(BIN)/python -m pytest -q

plan: setup ## offline plan: make plan STACK=dev [FORMAT=json]
	$(BIN)/python -m infra.plan --stack $(STACK) --format $(or $(FORMAT),tree)

snapshots: setup ## refresh the committed plan snapshots and graphs of every stack
	for s in dev prod account; do $(BIN)/python -m infra.plan --stack $$s --write --format summary; done

bench: setup ## benchmarks that print figures
	$(BIN)/python -m scripts.bench

lock: ## re-resolve both lock files (every package pinned, with its hashes) from pyproject.toml's direct pins
	test -x .venv-lock/bin/pip-compile || ($(PY) -m venv .venv-lock && .venv-lock/bin/pip install -q pip-tools==7.6.2)
	$(LOCK) --extra dev -o tests/requirements.txt pyproject.toml
	cp tests/requirements.txt requirements.txt  # the deploy set keeps the very pins the tests ran with
	$(LOCK) -o requirements.txt pyproject.toml
	$(LOCK) -o .github/requirements/snowcli.txt .github/requirements/snowcli.in
	$(LOCK:--strip-extras=--no-strip-extras) -o $(DBT_LOCK) .github/requirements/dbt.in  # keeps the extras dbt asks for: pip --require-hashes refuses them unpinned
	for d in services/api/orchestrator services/api/ranker; do cp tests/requirements.txt $$d/requirements.txt; \
	  $(LOCK) -o $$d/requirements.txt $$d/requirements.in; done  # the images keep the project's pins

clean: ## stop the stand-ins and remove their state (PostgreSQL's data included)
	$(BIN)/python -m scripts.standins clean
