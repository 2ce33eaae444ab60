# Remit: developer and CI entry points. GNU make 4.3+.
#
#   make test    lint, format check, types, layers, template lint and checkov, then every test layer
#   make layers  the import contracts of pyproject.toml (import-linter): layers, no function imports another
#   make checkov the deployed CloudFormation (template.yaml translated) against checkov's policies
#   make pytest  the tests alone, in parallel (TESTS=path/or::node PYTEST_ARGS=… PYTEST_WORKERS=0|2|auto)
#   make run     the whole platform on this machine (local stack, no AWS account)
#   make build   lint the template, stage the e-invoice rules layer, then `sam build` the functions and layers
#   make bench   performance measurements (figures only, never a pass/fail)
#   make einvoice-rules  compile the XRechnung and Peppol Schematron rules to XSLT (einvoice_rules/build/)
#   make docs    regenerate docs/api-reference.md from the OpenAPI document the code produces
#   make bench-emulators  DynamoDB emulators compared (installs dynalite into .bench/ first)
#   make audit   the installed dependencies against known vulnerabilities (pip-audit), when reachable
#   make fuzz    schemathesis against a local stack's /openapi.json, many examples per operation
#   make load    20 concurrent clients for 30 s against a local stack, then the books checked
#   make messages  re-extract the customer-facing words (remit.pot) and merge them into every catalog
#   make fmt     format and auto-fix
#   make clean   remove the virtualenv, build output and caches
#
# The first target that needs it creates .venv with a Python 3.13 found on this machine
# (override with `make PYTHON=/path/to/python3.13 …`), and reinstalls it whenever a
# requirements file or pyproject.toml changes.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
# Only the folders that exist: a fresh clone has no empty folders.
SOURCE_PATHS := $(wildcard shared functions local tests benchmarks tools)
TYPED_PATHS := $(wildcard shared functions tools)
TEST_LAYERS := $(wildcard tests/unit tests/integration tests/e2e)
# `make test` / `make pytest` knobs: which tests (paths or node ids), extra pytest options, and how
# many pytest-xdist worker processes (`auto`: one per CPU; 0 runs everything in one process).
TESTS ?= $(TEST_LAYERS)
PYTEST_ARGS ?=
# `make bench BENCH_ARGS='volume --invoices 5000'`: which benchmarks, and their options.
BENCH_ARGS ?=
# `make load LOAD_ARGS='--clients 20 --seconds 30 --url http://127.0.0.1:3000 --api-key …'`.
LOAD_ARGS ?=
PYTEST_WORKERS ?= auto
PYTHON ?=

# Settings every local process shares: the local stack and the tests talk to the embedded AWS
# emulation, never to a real account, whatever credentials the shell holds.
LOCAL_AWS_ENV := AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1 \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
	AWS_SECURITY_TOKEN=testing AWS_SESSION_TOKEN=testing \
	POWERTOOLS_SERVICE_NAME=remit POWERTOOLS_METRICS_NAMESPACE=Remit
# Tests also switch off the tracer and the metrics flush.
TEST_ENV := $(LOCAL_AWS_ENV) POWERTOOLS_TRACE_DISABLED=true POWERTOOLS_METRICS_DISABLED=true

export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# A Python 3.13 interpreter, printed on stdout: $(PYTHON) if given, `python3.13` if it runs,
# else one of pyenv's 3.13.x builds (newest first).
define find_python313
if [ -n "$(PYTHON)" ]; then echo "$(PYTHON)"; exit 0; fi; \
if python3.13 -c 'import sys' >/dev/null 2>&1; then command -v python3.13; exit 0; fi; \
if command -v pyenv >/dev/null 2>&1; then \
	for version in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.13\.[0-9]+$$' | sort -rV); do \
		candidate=$$(PYENV_VERSION=$$version pyenv which python3.13 2>/dev/null) || continue; \
		if "$$candidate" -c 'import sys' >/dev/null 2>&1; then echo "$$candidate"; exit 0; fi; \
	done; \
	for candidate in $$(ls -d "$$(pyenv root)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
		if "$$candidate" -c 'import sys' >/dev/null 2>&1; then echo "$$candidate"; exit 0; fi; \
	done; \
fi; \
exit 1
endef

.PHONY: help venv system-tools fonts einvoice-rules einvoice-layer test lint format-check typecheck layers validate checkov pytest run build bench \
	bench-emulators load fuzz audit docs messages fmt clean

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements-dev.txt shared/requirements.txt einvoice_rules/requirements.txt pyproject.toml
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then \
		echo "$(VENV) is not a Python 3.13 environment: recreating it"; rm -rf $(VENV); \
	fi
	@if [ ! -x $(BIN)/python ]; then \
		python313=$$( $(find_python313) ) || { \
			echo "error: no working Python 3.13 found. Install one (e.g. 'pyenv install 3.13') or run" >&2; \
			echo "       'make PYTHON=/path/to/python3.13 $(MAKECMDGOALS)'." >&2; \
			exit 1; }; \
		echo "Creating $(VENV) with $$python313"; \
		"$$python313" -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --requirement requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@touch $@

# The e-invoice validator's rules (einvoice_rules/README.md): XRechnung's and Peppol's Schematron
# compiled to XSLT 2.0 by SchXslt under Saxon, into a git-ignored folder the rules layer ships. Each
# stylesheet is rebuilt only when its sources are newer.
EINVOICE_RULES_BUILD := $(addprefix einvoice_rules/build/,xrechnung-cii.xsl xrechnung-ubl.xsl peppol-ubl.xsl)
EINVOICE_RULES_SOURCES := $(shell find einvoice_rules/xrechnung einvoice_rules/peppol einvoice_rules/schxslt \
	-name '*.sch' -o -name '*.xsl' 2>/dev/null)
einvoice-rules: $(EINVOICE_RULES_BUILD)

$(EINVOICE_RULES_BUILD) &: $(EINVOICE_RULES_SOURCES) tools/einvoice_rules.py | $(VENV_STAMP)
	$(BIN)/python -m tools.einvoice_rules --force

# EinvoiceValidatorFunction's only layer (template.yaml's EinvoiceRulesLayer): the engine's arm64
# wheels, the rules and the `remit` modules, staged afresh for every `make build`.
EINVOICE_LAYER := .aws-sam/einvoice-rules-layer
einvoice-layer: einvoice-rules
	$(BIN)/python -m tools.einvoice_rules layer $(EINVOICE_LAYER)

# ---------------------------------------------------------------------------------------------
# Checks. `make -k test` runs every check even after one has failed, and still fails.

test: lint format-check typecheck layers validate checkov audit pytest

# Browser, PDF and spreadsheet tools the tests use as a person would (Debian's packages): headless
# Chromium opens the hosted page, pdftoppm turns PDFs into pictures, LibreOffice Calc (headless)
# opens an exported CSV as an accountant's spreadsheet would. Installed once, when missing.
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/pdftoppm /usr/bin/soffice
system-tools: $(SYSTEM_TOOLS)

$(SYSTEM_TOOLS):
	@if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium poppler-utils fonts-dejavu-core \
		libreoffice-calc-nogui >/dev/null

# The Noto fonts the invoice PDF falls back on for scripts DejaVu Sans lacks (docs/documents.md), from
# Debian's maintained packages, copied with their licences into a git-ignored folder of the shared
# layer, so `sam build` ships them and the tests and local stack draw with them. About 22 MB: the
# CJK collection is 19 MB of it, and only its regular weight is shipped (bold CJK text uses it).
NOTO_SOURCE := /usr/share/fonts/truetype/noto
NOTO_CJK_SOURCE := /usr/share/fonts/opentype/noto
NOTO_DIRECTORY := shared/remit/adapters/fonts/noto
NOTO_FONTS := $(addprefix $(NOTO_DIRECTORY)/,NotoSans-Regular.ttf NotoSans-Bold.ttf \
	NotoSansArabic-Regular.ttf NotoSansArabic-Bold.ttf NotoSansHebrew-Regular.ttf NotoSansHebrew-Bold.ttf \
	NotoSansThai-Regular.ttf NotoSansThai-Bold.ttf NotoSansDevanagari-Regular.ttf NotoSansDevanagari-Bold.ttf)
NOTO_CJK_FONTS := $(NOTO_DIRECTORY)/NotoSansCJK-Regular.ttc
NOTO_LICENCES := $(NOTO_DIRECTORY)/LICENSE-Noto.txt $(NOTO_DIRECTORY)/LICENSE-Noto-CJK.txt
fonts: $(NOTO_FONTS) $(NOTO_CJK_FONTS) $(NOTO_LICENCES)


$(NOTO_CJK_SOURCE)/NotoSansCJK-Regular.ttc:
	@if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends fonts-noto-core fonts-noto-cjk >/dev/null

$(NOTO_DIRECTORY)/%.ttf: | $(NOTO_CJK_SOURCE)/NotoSansCJK-Regular.ttc
	@mkdir -p $(@D)
	cp $(NOTO_SOURCE)/$*.ttf $@

$(NOTO_DIRECTORY)/%.ttc: $(NOTO_CJK_SOURCE)/%.ttc
	@mkdir -p $(@D)
	cp $< $@

$(NOTO_DIRECTORY)/LICENSE-Noto.txt: | $(NOTO_CJK_SOURCE)/NotoSansCJK-Regular.ttc
	@mkdir -p $(@D)
	cp /usr/share/doc/fonts-noto-core/copyright $@

$(NOTO_DIRECTORY)/LICENSE-Noto-CJK.txt: | $(NOTO_CJK_SOURCE)/NotoSansCJK-Regular.ttc
	@mkdir -p $(@D)
	cp /usr/share/doc/fonts-noto-cjk/copyright $@

lint: $(VENV_STAMP)
	$(BIN)/ruff check $(SOURCE_PATHS)

format-check: $(VENV_STAMP)
	$(BIN)/ruff format --check $(SOURCE_PATHS)

typecheck: $(VENV_STAMP)
	$(BIN)/mypy $(TYPED_PATHS)

# The layering contracts in pyproject.toml ([tool.importlinter]): module names relative to `shared`
# and `functions`, as for mypy. The cache is off: the check takes under a second.
layers: $(VENV_STAMP)
	PYTHONPATH=shared:functions $(BIN)/lint-imports --no-cache

validate: $(VENV_STAMP)
	$(BIN)/sam validate --lint

# checkov scans the CloudFormation that SAM deploys: template.yaml translated offline by the SAM
# translator (tools/cloudformation_template.py), since checkov knows CloudFormation better than SAM.
# A check that does not apply is skipped on its resource, with why, in template.yaml's
# `Metadata: checkov: skip:` (docs/operations.md, "checkov"). checkov's pins conflict with the SAM
# CLI's, so it has a virtualenv of its own, made from requirements-checkov.txt like .venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_TEMPLATE := .aws-sam/checkov/template.json

$(CHECKOV_STAMP): requirements-checkov.txt
	@if [ -x $(CHECKOV_VENV)/bin/python ] && ! $(CHECKOV_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then \
		rm -rf $(CHECKOV_VENV); \
	fi
	@if [ ! -x $(CHECKOV_VENV)/bin/python ]; then \
		python313=$$( $(find_python313) ) || { echo "error: no working Python 3.13 found (see make venv)" >&2; exit 1; }; \
		"$$python313" -m venv $(CHECKOV_VENV); \
	fi
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --requirement requirements-checkov.txt
	@touch $@

checkov: $(VENV_STAMP) $(CHECKOV_STAMP)
	env $(LOCAL_AWS_ENV) $(BIN)/python -m tools.cloudformation_template $(CHECKOV_TEMPLATE)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		--file $(CHECKOV_TEMPLATE)

# pip-audit needs PyPI's advisory data: where it is unreachable the audit says so and passes.
audit: $(VENV_STAMP)
	$(BIN)/python -m tools.audit

# pytest exits 5 when it collected no test at all; while the test layers are still empty that
# is not a failure. Any other non-zero status is. `--dist loadgroup` spreads tests over the
# workers one by one, except those marked `xdist_group` (an e2e module's tests, which share the
# local stack the module starts), which stay together on one worker.
pytest: $(VENV_STAMP) system-tools fonts einvoice-rules
ifeq ($(strip $(TESTS)),)
	@echo "pytest: no test layer (tests/unit, tests/integration, tests/e2e) exists yet"
else
	@status=0; env $(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS) $(TESTS) \
		|| status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest: no tests collected yet"; status=0; fi; \
	exit $$status
endif

# ---------------------------------------------------------------------------------------------

run: $(VENV_STAMP) fonts einvoice-rules
	env $(LOCAL_AWS_ENV) PYTHONPATH=functions $(BIN)/python -m local

# sam finds `python3.13` on PATH to build the functions and the layer: the venv's comes first.
build: $(VENV_STAMP) fonts einvoice-layer
	$(BIN)/sam validate --lint
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/sam build

bench: $(VENV_STAMP) fonts einvoice-rules
	env $(LOCAL_AWS_ENV) PYTHONPATH=functions:. $(BIN)/python -m benchmarks $(BENCH_ARGS)

# The fuzz test of `make test` with more examples per operation (REMIT_FUZZ_EXAMPLES, default 25);
# schemathesis's report is printed (docs/fuzzing.md).
REMIT_FUZZ_EXAMPLES ?= 25
fuzz: $(VENV_STAMP)
	env $(TEST_ENV) REMIT_FUZZ_EXAMPLES=$(REMIT_FUZZ_EXAMPLES) REMIT_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
		$(BIN)/pytest -s -q \
		tests/e2e/test_api_fuzzing.py

# Without --url it starts its own stack in a temporary data directory; exits 1 on any error or
# broken invariant (docs/load.md).
load: $(VENV_STAMP)
	env $(LOCAL_AWS_ENV) PYTHONPATH=functions:. $(BIN)/python -m benchmarks load $(LOAD_ARGS)

# The API reference is rendered from the OpenAPI document the code produces (tools/openapi_reference.py);
# tests/integration/test_api_reference.py fails when the committed file is out of date.
docs: $(VENV_STAMP)
	env $(LOCAL_AWS_ENV) PYTHONPATH=functions:. $(BIN)/python -m tools.openapi_reference docs/api-reference.md

# Babel extracts the words of the PDF, the emails and the hosted page (babel.cfg) and merges them into
# each language's catalog; new words arrive untranslated and the catalogs test fails until they are.
LOCALES := shared/remit/adapters/locales
messages: $(VENV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --no-wrap --project Remit \
		--omit-header -o $(LOCALES)/remit.pot .
	$(BIN)/pybabel update -i $(LOCALES)/remit.pot -d $(LOCALES) -D remit --no-wrap \
		--ignore-obsolete --no-fuzzy-matching

# dynalite (npm) goes into .bench/, which ignores itself: nothing there is ever committed.
DYNALITE_VERSION := 4.0.0
bench-emulators: $(VENV_STAMP)
	mkdir -p .bench && echo '*' > .bench/.gitignore
	[ -f .bench/node_modules/dynalite/package.json ] && grep -q '"version": "$(DYNALITE_VERSION)"' \
		.bench/node_modules/dynalite/package.json || npm install --prefix .bench --no-audit --no-fund dynalite@$(DYNALITE_VERSION)
	env $(LOCAL_AWS_ENV) PYTHONPATH=functions:. $(BIN)/python -m benchmarks emulators

fmt: $(VENV_STAMP)
	$(BIN)/ruff format $(SOURCE_PATHS)
	$(BIN)/ruff check --fix $(SOURCE_PATHS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts einvoice_rules/build
	find . -path ./.git -prune -o -type d \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
