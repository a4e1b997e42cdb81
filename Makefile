# The two commands of the README: `make run` and `make test`. Each installs
# what it needs into .venv from the pinned requirements.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
export PYTHONPATH := $(CURDIR)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test unit lint bench campaign campaign-live load loadmodel openapi clean aws-local chromium docs-check

$(VENV)/.installed: requirements.txt layers_shared/requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)
	touch $@

run: $(VENV)/.installed
	$(PY) -m local

# A moto server (port AWS_LOCAL_PORT, default 5050) with the template's resources and
# the seed, for `sam local start-api --env-vars local/sam-env.json` (README).
aws-local: $(VENV)/.installed
	$(PY) -m local.aws_local

test: $(VENV)/.installed lint chromium
	$(PY) -m pytest -q

# Headless Chromium from Debian's packages, for tests/e2e/test_docs_browser.py (/docs
# rendered in a real browser). CI runs as root and must have it; elsewhere, without root,
# the test skips.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq chromium >/dev/null; } || { [ -z "$$CI" ] && \
	  echo "chromium not installed: the /docs browser test will skip"; }

docs-check: $(VENV)/.installed chromium
	$(PY) -m pytest -q tests/e2e/test_docs_browser.py

# tests/unit needs one pytest plugin, hypothesis's. Naming it instead of loading every
# installed one keeps schemathesis (tests/e2e only) and anyio out of the run, and stops
# pytest from assertion-rewriting the whole hypothesis package on every start (never
# cached where PYTHONDONTWRITEBYTECODE is set): about 1.7 s of CPU of each run.
UNIT_PLUGINS := --disable-plugin-autoload -p hypothesispytest

unit: $(VENV)/.installed
	$(PY) -m pytest -q $(UNIT_PLUGINS) tests/unit

lint: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)

bench: $(VENV)/.installed
	$(PY) bench/run.py

campaign: $(VENV)/.installed
	$(PY) bench/fault_campaign.py --posts 1000

campaign-live: $(VENV)/.installed
	$(PY) bench/fault_campaign_live.py --posts 300 --notifies 60

# POSTS posts (2000) due at AT (+60s, or an ISO instant) through the public API of any
# stage, then their outcomes and lateness (bench/load.py). Defaults: the local stack of
# `make run` (start it with SEED=local/seed/load.json: 50 sandbox accounts, partner
# tier), its test KEY and video CONTAINER; BASE_URL for another stage.
load: $(VENV)/.installed
	$(PY) bench/load.py --base-url $(or $(BASE_URL),http://127.0.0.1:$(or $(PORT),3000)) \
	  --key $(or $(KEY),lp_test_ACMETEST00000001_localdev-only-secret-0001-not-for-production) \
	  --posts $(or $(POSTS),2000) --at $(or $(AT),+60s) \
	  --container $(or $(CONTAINER),cnt_66666666-6666-4666-8666-000000000001)

# The real publisher through 100,000 posts due in one minute and 100 posts for one
# TikTok account, on simulated time (docs/capacity.md); exits non-zero on a missed target.
loadmodel: $(VENV)/.installed
	$(PY) -m bench.loadmodel --posts $(or $(POSTS),100000)

openapi: $(VENV)/.installed
	$(PY) tools/gen_openapi.py

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache
