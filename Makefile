# Weiquan developer entry points. `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help up down status logs install test test-unit lint contracts bench chaos rebuild-projection

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- local stack (deploy/local)

up: ## Start PostgreSQL, Kafka and all services (no Docker) and load demo data
	bash deploy/local/up.sh

down: ## Stop everything make up started
	bash deploy/local/stack.sh down

status: ## Show the state of every process of the local stack
	@bash deploy/local/stack.sh status

logs: ## Show where the local stack's logs are
	@bash deploy/local/stack.sh logs

# ---------------------------------------------------------------- development

install: ## Install what the stack and tests need (uv, Python packages, PostgreSQL, Kafka jars, chromium, Keycloak)
	WEIQUAN_INSTALL_TEST_TOOLS=1 bash deploy/local/install.sh

test: install ## Unit and integration tests against real Kafka and PostgreSQL (started if absent)
	@# pytest exits 5 when it collects no test: say so instead of failing obscurely.
	@.venv/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 0; fi; exit $$rc

test-unit: ## Only the tests that need neither Kafka nor PostgreSQL
	.venv/bin/pytest -m "not integration"

lint: ## ruff (lint and format check) and mypy
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy shared services tests deploy/local

chaos: install ## Only the fault tests (kill -9, Kafka and PostgreSQL restarts, poison events)
	.venv/bin/pytest -s -m chaos

bench: install ## Benchmarks on the real stack: prints `name: value unit` lines, keeps a history
	.venv/bin/python -m tests.bench $(BENCH)

rebuild-projection: ## Rebuild projection's read models from Kafka (stop projection first)
	bash deploy/local/run-service.sh projection rebuild

contracts: ## Regenerate contracts/ (event JSON Schemas, AsyncAPI) from the code
	.venv/bin/python -m weiquan_shared.contracts write
