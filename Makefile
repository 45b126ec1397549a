# Weiquan developer entry points. `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help up down status logs

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
# test / lint / bench / contracts targets go here (add them to .PHONY above, and give
# each a "## description" so `make help` lists it).
