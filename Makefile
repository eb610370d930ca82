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

NOTEBOOKS := $(basename $(notdir $(wildcard notebooks/[0-9]*.ipynb)))
PAGES := $(NOTEBOOKS:%=outputs/html/%.html)
PKG_SRC := pyproject.toml $(wildcard src/compendium/*.py src/compendium/*/*.py \
           src/compendium/publish/templates/compendium/*)

# The raw files of each study, generated from the declared map (compendium.data.sources).
DATA_DIR ?= data
include mk/sources.mk

.PHONY: all help env data notebooks site ops-survey idi four-cities synthesis synthetic \
        test test-browser browser-deps lint verify manifest bench lab lock clean distclean FORCE

## all: build everything (environment, data checks, every notebook, HTML site)
all: site

help: ## list targets and parameters
	@echo "Targets:"
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /'
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /: /' -e 's/^/  /'
	@echo
	@echo "Variables: PARAMS=\"-p name value ...\" (override notebook parameters for one run),"
	@echo "           HIDE_CODE=1 (publish pages without code), VENV=$(VENV), PYTHON=$(PYTHON)"
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
DATA_CHECK := outputs/.stamps/data-check
READERS := $(wildcard src/compendium/data/*.py src/compendium/errors.py)
data: $(DATA_CHECK)

# One process; when only raw files changed ($?), only their sources are read again.
$(DATA_CHECK): $(RAW_DATA) $(READERS) $(ENV_STAMP)
	@$(PY) -m compendium.data.datacheck $(DATA_DIR) $(if $(filter-out $(RAW_DATA),$?),,--changed $?)
	@mkdir -p $(@D) && touch $@

## synthetic: regenerate the synthetic raw files from data/calibration (byte-identical)
synthetic: | $(ENV_STAMP)
	$(PY) -m compendium.synthetic --out data/raw

# ---------------------------------------------------------------- notebooks
notebooks: $(PAGES)

# One rule for every notebook: execute with papermill, publish HTML, in one process. The
# runner also writes outputs/notebooks/%.ipynb and the notebook's tables, figures and
# results, each atomically, the page last (so the page is the target Make compares).
outputs/html/%.html: notebooks/%.ipynb params/%.yaml \
    outputs/.stamps/%.override $(DATA_DIR)/raw/dataset.yaml $(PKG_SRC) $(ENV_STAMP) | $(DATA_CHECK)
	@$(PY) -m compendium.publish.runner $* $(PARAMS) $(if $(HIDE_CODE),--hide-code)

# The data each notebook reads (the data check runs first: order-only above, so a check of
# one source never re-runs the notebooks of the others), and what the synthesis reads.
outputs/html/01_ops_survey.html: $(NOTEBOOK_DATA_01_ops_survey)
outputs/html/02_idi_wielkopolska.html: $(NOTEBOOK_DATA_02_idi_wielkopolska)
outputs/html/03_four_cities.html: $(NOTEBOOK_DATA_03_four_cities)
outputs/html/04_synthesis.html: \
    outputs/html/02_idi_wielkopolska.html outputs/html/03_four_cities.html

# A command-line override is a dependency too: this file changes only when PARAMS does.
outputs/.stamps/%.override: FORCE
	@mkdir -p $(@D); printf '%s|%s\n' "$$PARAMS" "$$HIDE_CODE" > $@.tmp; \
	 if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

## ops-survey / idi / four-cities / synthesis: run one analysis (and what it needs)
ops-survey: outputs/html/01_ops_survey.html
idi: outputs/html/02_idi_wielkopolska.html
four-cities: outputs/html/03_four_cities.html
synthesis: outputs/html/04_synthesis.html

# ---------------------------------------------------------------- site
## site: the index page, and the sidebar, search and bibliography on every page
site: outputs/html/index.html

# The synthesis first: under `make -j` its chain (02 and 03, which it waits for) starts before
# the independent 01, so the longest path is never left for last.
# The site step also reads its own templates and scripts and the bibliography.
SITE_SRC := $(wildcard src/compendium/publish/templates/site/* src/compendium/publish/static/*) \
            docs/references.bib
outputs/html/index.html: outputs/html/04_synthesis.html $(PAGES) $(PKG_SRC) $(SITE_SRC)
	@$(PY) -m compendium.publish.site --root .

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

## bench: measure the pipeline (cold, no-op, incremental, floor, scale); report in outputs/bench
bench: $(ENV_STAMP)
	$(PY) benchmarks/pipeline.py

## lab: open JupyterLab on the project with the compendium kernel
lab: $(ENV_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=.

# ---------------------------------------------------------------- housekeeping
## clean: delete everything generated under outputs/ (the manifest stays)
clean:
	find outputs -mindepth 1 -maxdepth 1 ! -name MANIFEST.sha256 ! -name README.md -exec rm -rf {} +

## distclean: clean, and delete the environment
distclean: clean
	rm -rf $(VENV)

FORCE:

# Stamps and executed notebooks are real files, never intermediates to delete.
.SECONDARY: $(NOTEBOOKS:%=outputs/.stamps/%.override)
