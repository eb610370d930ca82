# The compendium as a dependency graph: environment -> data checks -> notebooks -> site.
# `make help` lists the targets and the notebook parameters.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.compendium-installed
UV_VERSION := 0.13.9
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export SOURCE_DATE_EPOCH := 0
# One BLAS/OpenMP thread per process: the same sums in the same order on every machine,
# and no oversubscription when `make -j2` runs two notebooks at once.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Bytecode caches matter here: a notebook's imports cost ~3x more without them.
unexport PYTHONDONTWRITEBYTECODE

# PARAMS="-p name value ..." overrides parameters of every notebook run by this call.
PARAMS ?=
# HIDE_CODE=1 publishes pages without the code cells (default: shown, collapsible).
HIDE_CODE ?=
export PARAMS HIDE_CODE

# DATA=/path/to/exports: run on a data folder outside the repository (the real exports);
# the build then goes to OUT=outputs-real (ignored by git) and every page is marked
# "REAL DATA — confidential". Without DATA: the shipped data in data/, outputs in outputs/.
ifdef DATA
DATA_DIR := $(DATA)
OUT ?= outputs-real
CONFIDENTIAL := 1
endif
DATA_DIR ?= data
OUT ?= outputs
# Options of the runner and the site step for a data or output folder other than the default.
OUT_OPTS := $(if $(filter-out outputs,$(OUT)),--outputs $(OUT)) \
            $(if $(filter-out data,$(DATA_DIR)),--data $(DATA_DIR)) \
            $(if $(CONFIDENTIAL),--confidential)

NOTEBOOKS := $(basename $(notdir $(wildcard notebooks/[0-9]*.ipynb)))
PAGES := $(NOTEBOOKS:%=$(OUT)/html/%.html)
PKG_SRC := pyproject.toml $(wildcard src/compendium/*.py src/compendium/*/*.py \
           src/compendium/publish/templates/compendium/*)

# The raw files of each study, generated from the declared map (compendium.data.sources).
include mk/sources.mk

.PHONY: all help env data doctor notebooks site ops-survey idi four-cities synthesis synthetic \
        test test-browser browser-deps lint verify manifest codecheck bench lab lock clean distclean FORCE

## all: build everything (environment, data checks, every notebook, HTML site)
all: site

help: ## list targets and parameters
	@echo "Targets:"
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /'
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /: /' -e 's/^/  /'
	@echo
	@echo "Variables: PARAMS=\"-p name value ...\" (override notebook parameters for one run),"
	@echo "           HIDE_CODE=1 (publish pages without code), VENV=$(VENV), PYTHON=$(PYTHON)"
	@echo "           DATA=/path (exports outside the repository: build into OUT=outputs-real, marked confidential)"
	@if [ -x $(PY) ]; then $(PY) -m compendium.publish.params; else \
	  echo "(run 'make env' to list every notebook's parameters)"; fi

# ---------------------------------------------------------------- environment
## env: create .venv from the pinned lock (requirements.txt) and register the Jupyter kernel
env: $(ENV_STAMP)

$(ENV_STAMP): requirements.txt pyproject.toml
	@echo "[env] creating $(VENV) from requirements.txt"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION) >/dev/null 2>&1; then \
	  $(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -r requirements.txt && \
	  $(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e . ; \
	else echo "[env] uv unavailable, installing with pip"; \
	  $(PY) -m pip install -q -r requirements.txt && $(PY) -m pip install -q --no-deps -e . ; fi
	@$(PY) -m ipykernel install --sys-prefix --name compendium --display-name "Python (compendium)" >/dev/null
	@touch $@

## lock: re-resolve requirements.in into the pinned lock and environment.yml
lock:
	$(VENV)/bin/uv pip compile requirements.in -o requirements.txt --python-version 3.11 --no-header
	$(PY) -m compendium.envfile requirements.txt environment.yml

# ---------------------------------------------------------------- data
## data: validate every raw file against the data contract (re-reads only what changed)
DATA_CHECK := $(OUT)/.stamps/data-check
READERS := $(wildcard src/compendium/data/*.py src/compendium/errors.py)
data: $(DATA_CHECK)

# One process; when only raw files changed ($?), only their sources are read again.
$(DATA_CHECK): $(RAW_DATA) $(READERS) $(ENV_STAMP)
	@$(PY) -m compendium.data.datacheck $(DATA_DIR) $(if $(filter-out $(RAW_DATA),$?),,--changed $?)
	@mkdir -p $(@D) && touch $@

## doctor: check a folder of exports before a run (DATA=/path; one line per source, writes nothing)
doctor: | $(ENV_STAMP)
	@$(PY) -m compendium.data.doctor $(DATA_DIR)

## synthetic: regenerate the synthetic raw files from data/calibration (byte-identical)
synthetic: | $(ENV_STAMP)
	$(PY) -m compendium.synthetic --out data/raw

# ---------------------------------------------------------------- notebooks
notebooks: $(PAGES)

# One rule for every notebook: execute with papermill, publish HTML, in one process. The
# runner also writes outputs/notebooks/%.ipynb and the notebook's tables, figures and
# results, each atomically, the page last (so the page is the target Make compares).
$(OUT)/html/%.html: notebooks/%.ipynb params/%.yaml \
    $(OUT)/.stamps/%.override $(DATA_DIR)/raw/dataset.yaml $(PKG_SRC) $(ENV_STAMP) | $(DATA_CHECK)
	@$(PY) -m compendium.publish.runner $* $(PARAMS) $(if $(HIDE_CODE),--hide-code) $(OUT_OPTS)

# The data each notebook reads (the data check runs first: order-only above, so a check of
# one source never re-runs the notebooks of the others), and what the synthesis reads.
$(OUT)/html/01_ops_survey.html: $(NOTEBOOK_DATA_01_ops_survey)
$(OUT)/html/02_idi_wielkopolska.html: $(NOTEBOOK_DATA_02_idi_wielkopolska)
$(OUT)/html/03_four_cities.html: $(NOTEBOOK_DATA_03_four_cities)
$(OUT)/html/04_synthesis.html: \
    $(OUT)/html/02_idi_wielkopolska.html $(OUT)/html/03_four_cities.html

# A command-line override is a dependency too: this file changes only when PARAMS does.
$(OUT)/.stamps/%.override: FORCE
	@mkdir -p $(@D); printf '%s|%s\n' "$$PARAMS" "$$HIDE_CODE" > $@.tmp; \
	 if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

## ops-survey / idi / four-cities / synthesis: run one analysis (and what it needs)
ops-survey: $(OUT)/html/01_ops_survey.html
idi: $(OUT)/html/02_idi_wielkopolska.html
four-cities: $(OUT)/html/03_four_cities.html
synthesis: $(OUT)/html/04_synthesis.html

# ---------------------------------------------------------------- site
## site: the index page linking every analysis, figure and table
site: $(OUT)/html/index.html

# The synthesis first: under `make -j` its chain (02 and 03, which it waits for) starts before
# the independent 01, so the longest path is never left for last.
$(OUT)/html/index.html: $(OUT)/html/04_synthesis.html $(PAGES) $(PKG_SRC)
	@$(PY) -m compendium.publish.site --root . $(OUT_OPTS)
# The site step also writes the replication package's pages (article, questionnaire,
# codebooks) and the list of tables and programs: what they read is a prerequisite too.
$(OUT)/html/index.html: $(wildcard src/compendium/publish/templates/site/*) \
    $(DATA_DIR)/codebooks/ops_survey.yaml $(IDI_WIELKOPOLSKA_DATA) $(FOUR_CITIES_DATA) \
    docs/methods.md docs/references.bib CITATION.cff

# ---------------------------------------------------------------- checks
## test: unit tests, the end-to-end pipeline test and the browser test (pytest)
test: $(ENV_STAMP) browser-deps
	$(PY) -m pytest

## test-browser: only the browser test of the published site (headless Chromium)
test-browser: $(ENV_STAMP) browser-deps
	$(PY) -m pytest -m browser

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[test] installing Debian's chromium for the browser test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1 || echo "[test] could not install chromium: the browser test will be skipped"; \
	  else echo "[test] chromium is missing and cannot be installed here: the browser test will be skipped"; fi; }

## lint: ruff on the whole repository (package, tests, benchmarks, notebooks)
lint: $(ENV_STAMP)
	$(VENV)/bin/ruff check .

## verify: rebuild what is stale, then compare tables and figures with outputs/MANIFEST.sha256
verify: all
	@$(PY) -m compendium.publish.manifest check outputs

## manifest: deliberately refresh outputs/MANIFEST.sha256 from the current outputs
manifest: all
	$(PY) -m compendium.publish.manifest write outputs

## codecheck: refresh codecheck.yml and the README's generated sections from the build
codecheck: all
	$(PY) -m compendium.publish.catalogue codecheck outputs > codecheck.yml
	$(PY) -m compendium.publish.catalogue readme outputs

## bench: measure the pipeline (cold, no-op, incremental, floor, scale); report in outputs/bench
bench: $(ENV_STAMP)
	$(PY) benchmarks/pipeline.py

## lab: open JupyterLab on the project with the compendium kernel
lab: $(ENV_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=.

# ---------------------------------------------------------------- housekeeping
## clean: delete everything generated under outputs/ (the manifest stays); with DATA=...: outputs-real/
clean:
	test ! -d $(OUT) || find $(OUT) -mindepth 1 -maxdepth 1 ! -name MANIFEST.sha256 ! -name README.md -exec rm -rf {} +

## distclean: clean, and delete the environment
distclean: clean
	rm -rf $(VENV)

FORCE:

# Stamps and executed notebooks are real files, never intermediates to delete.
.SECONDARY: $(NOTEBOOKS:%=$(OUT)/.stamps/%.override)
