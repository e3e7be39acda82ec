# bedrock-estate: `make synth` and `make test` set everything up from nothing (Python 3.11+, Node, npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk

# jsii (the bridge from Python to the CDK's JavaScript) warns loudly on Node 20, end-of-life since
# 2026-10-30. Node 22 or 24 is recommended; Node 20 still works, so the warning is silenced here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export CDK_DISABLE_CLI_TELEMETRY ?= true

# Python caches compiled modules in __pycache__/ (gitignored) unless PYTHONDONTWRITEBYTECODE is set,
# as many container images set it. Here it would cost every process: each import of the CDK's Python
# bindings compiles them anew (about 3 s of CPU a process; `make test` starts dozens: test workers,
# the CLI's app, the wheel's virtualenv, the benchmark floors), and pytest rewrites every test module
# again. So these targets write the cache whatever the shell says.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup synth test mutate lint fmt typecheck snapshots plan bench bench-load lock schema clean

setup: $(VENV)/.installed node_modules/.installed

# uv (pinned by requirements.lock) installs the locked dependencies in a fraction of pip's time (a
# fresh clone's setup: about 30 s instead of 70 s); pip only installs uv itself.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -c requirements.lock -e '.[dev]'
	@# jsii unpacks each CDK assembly into its cache on first use, and Python compiles the bindings
	@# the estate imports: once here, not in every process (test workers, the CLI's app) that would
	@# otherwise start with both caches empty at the same time. (uv's --compile-bytecode would compile
	@# all of aws-cdk-lib, 25 s of CPU for hundreds of services' bindings the estate never imports.)
	$(PY) -c "import aws_cdk, cdk_nag, stacks.estate"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Synthesize the estate in estate.yaml (or ESTATE=path) into cdk.out/ with the CDK CLI, then print the plan.
synth: setup
	@# The CLI ends a multi-stack synth with "Supply a stack id (...) to display its template", even
	@# with --quiet: not news here (the plan follows), so it is filtered out; the exit code is cdk's.
	@# The CLI overwrites but never removes: a stage or pipeline gone from the spec would leave its
	@# templates in cdk.out/ for a reviewer to read, so the folder starts empty.
	rm -rf cdk.out
	$(CDK) synth '**' --quiet --no-notices $(if $(ESTATE),-c estate=$(ESTATE)) 2> >(grep -v '^Supply a stack id' >&2)
	$(PY) -m constructs_lib.tools.plan --assembly cdk.out $(if $(ESTATE),--spec $(ESTATE))

## Print the plan of the last synthesis again (after `make synth`), without synthesizing.
plan: setup
	$(PY) -m constructs_lib.tools.plan --assembly cdk.out $(if $(ESTATE),--spec $(ESTATE))

## Run every test: the product's (on spec fixtures under tests/) and the gates on your estate.yaml
## (or ESTATE=path): spec valid, cdk-nag packs clean, cfn-lint clean, stacks match their snapshots.
## One pytest-xdist worker per core (PYTEST_WORKERS=0 runs them in this one process): each shared
## estate is synthesized once per session by whichever worker asks first (tests/session.py), and most
## of a test's time is the CDK's own Node process.
PYTEST_WORKERS ?= auto
test: setup
	ESTATE=$(ESTATE) ESTATE_SNAPSHOTS=$(ESTATE_SNAPSHOTS) $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## Mutation check of the permission proof: drop each action of each handler-role and service-role
## statement (or add a condition no request meets) and show a recorded request is then denied. Fails on a
## survivor tests/gates/mutate.py does not acknowledge. It runs the lifecycle simulations to record their
## checks (about 45 s), unless MUTATE_CHECKS names a file a whole `make test` recorded them in
## (ESTATE_PERMISSION_CHECKS=file make test), as CI's .ci/run does.
mutate: setup
	$(PY) -m tests.gates.mutate $(if $(MUTATE_CHECKS),--recorded $(MUTATE_CHECKS))

## ruff's lint and format check (both also run by `make test`).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Format the source in place with ruff (and apply ruff's safe lint fixes).
fmt: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## mypy over the source, as configured in pyproject.toml (also run by `make test`).
typecheck: setup
	$(VENV)/bin/mypy

## Rewrite the committed snapshots of your estate (tests/estate/snapshots/<stage>/<Stack>.json and
## Delivery.json) from estate.yaml (or ESTATE=path): adds files of new stacks, removes those of gone ones.
snapshots: setup
	ESTATE=$(ESTATE) ESTATE_SNAPSHOTS=$(ESTATE_SNAPSHOTS) $(PY) -m tests.estate.gate

## Time synthesis of the default estate (the test fixture) and a 150-job, 30-served stage against their
## same-template floors and a one-bucket app (not a test); writes the block in docs/performance.md.
## BENCH_ARGS="--runs 7" for more runs.
bench: setup
	$(PY) -m tests.benchmarks.bench_synth $(BENCH_ARGS)

## The benchmark's overhead goal at 1, 8 and 64 streams against a local ConverseStream endpoint: median
## under 5 ms, p99 within 5 % of the script (make test checks a budget three times wider). Run it on an
## otherwise idle machine; it reports, not a CI gate.
bench-load: setup
	BENCH_LOAD_STRICT=1 $(PY) -m pytest -q tests/tools/test_load.py

## Regenerate the JSON Schema editors use for estate.yaml.
schema: setup
	$(PY) -m constructs_lib.tools.cli schema > estate.schema.json

## Re-pin requirements.lock from pyproject.toml.
lock:
	rm -rf /tmp/estate-lock-venv && $(PYTHON) -m venv /tmp/estate-lock-venv
	/tmp/estate-lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Exact versions installed by \`make\` (pip constraints). Regenerate with \`make lock\` after changing pyproject.toml."; \
	  /tmp/estate-lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e'; } > requirements.lock

clean:
	rm -rf cdk.out .pytest_cache .hypothesis
