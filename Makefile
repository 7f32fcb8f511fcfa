# The front door. Every target bootstraps .venv on first use (python3 -m venv + pip install -e .[model,dev]),
# so a fresh clone needs nothing but python3 >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACK ?= dev
MODEL_DIR ?= build/model

.DEFAULT_GOAL := help
.PHONY: help install plan plan-all check test lint train serve bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[model,dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its model and dev extras

plan: $(STAMP) ## Offline plan of STACK (default dev): tree on screen, JSON in build/plan-STACK.json
	$(BIN)/mlops plan --stack $(STACK) --json build/plan-$(STACK).json

plan-all: $(STAMP) ## Offline plan of every stack
	@for s in dev staging prod; do $(BIN)/mlops plan --stack $$s --json build/plan-$$s.json --format table || exit 1; done

check: $(STAMP) ## Run the policy pack offline over STACK's plan
	$(BIN)/mlops check --stack $(STACK)

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

test: $(STAMP) ## Lint, then the whole test suite (unit, plan, policy, model, moto integration)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

train: $(STAMP) ## Generate data, train, evaluate and package the model into build/model
	$(BIN)/python -m model_code train-local --out $(MODEL_DIR)

serve: $(STAMP) ## Serve the packaged model on :8080 (run `make train` first)
	$(BIN)/python -m model_code serve --model-dir $(MODEL_DIR)/extracted

bench: $(STAMP) ## Benchmarks: inference server vs Flask/gunicorn vs in-process; plan time vs model count
	$(BIN)/python benchmarks/serve_bench.py
	$(BIN)/python benchmarks/plan_scale.py

clean: ## Remove build outputs (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache .hypothesis
