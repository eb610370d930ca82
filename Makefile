# The compendium as a dependency graph: environment -> data checks -> notebooks -> site.
# `make help` lists the targets and the notebook parameters.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
# One stamp per installed lock (make all: runtime only; make test/lint: + every group;
# make lab: + JupyterLab). Locks: requirements.txt, requirements-dev.txt, requirements-lab.txt.
ENV_STAMP := $(VENV)/.compendium-installed
DEV_STAMP := $(VENV)/.compendium-dev-installed
LAB_STAMP := $(VENV)/.compendium-lab-installed
LAB_PORT ?= 8888
LAB_ARGS ?=
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

# PARAMS="-p name value ..." overrides parameters of the notebooks run by this call (each
# override goes to the notebooks that have that parameter). It reaches the runner only through
# the environment and is split there with shlex: never pasted into a recipe, never evaluated
# by a shell, and (`$(value ...)`) not even expanded by Make.
override PARAMS := $(value PARAMS)
# HIDE_CODE=1 publishes pages without the code cells (default: shown, collapsible).
override HIDE_CODE := $(value HIDE_CODE)
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
# The Polish twin of the site (see "the Polish site" below).
PL_OUT := $(OUT)/pl
PL_PAGES := $(NOTEBOOKS:%=$(PL_OUT)/html/%.html)
PKG_SRC := pyproject.toml $(wildcard src/compendium/*.py src/compendium/*/*.py \
           src/compendium/publish/templates/compendium/* src/compendium/publish/templates/messages/*)

# The raw files of each study, generated from the declared map (compendium.data.sources).
include mk/sources.mk

# ---------------------------------------------------------------- one build at a time
# Every goal that writes under outputs/ first takes the folder's build lock, while this file
# is read, before any rule runs (src/compendium/publish/buildlock.py, standard library only):
# a second build in the same folder waits for the first with a one-line message. The lock
# also refuses, in one line, an outputs/ folder this user cannot write. A make started by
# this build in the same folder (the test suite's dry run under `make all test`) runs inside
# the lock its parent holds (COMPENDIUM_BUILD_LOCK_HELD) instead of waiting for it.
BUILD_GOALS := all data notebooks site ops-survey idi four-cities synthesis verify manifest \
               clean distclean synthetic
# The lock's interpreter: the environment's own when it exists (the real executable, ~10 ms
# with -I -S: standard library only, no site-packages), else $(PYTHON) (which may be a
# launcher such as a pyenv shim, ~0.1 s): the lock is taken on every call, the no-op build's
# too.
LOCK_PY := $(or $(wildcard $(PY)),$(PYTHON))
ifeq ($(MAKE_RESTARTS)$(filter $(CURDIR),$(COMPENDIUM_BUILD_LOCK_HELD)),)
ifneq ($(filter $(BUILD_GOALS) $(OUT)/%,$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
BUILD_LOCK := $(shell $(LOCK_PY) -I -S src/compendium/publish/buildlock.py $(OUT) $$PPID)
ifneq ($(.SHELLSTATUS),0)
$(error [compendium] $(or $(BUILD_LOCK),could not take the build lock with $(LOCK_PY)))
endif
export COMPENDIUM_BUILD_LOCK_HELD := $(CURDIR)
endif
endif

# Without PARAMS, each notebook's override stamp (see "A command-line override is a dependency
# too" below) must say "no overrides": checked and, only if it says otherwise, rewritten here,
# while this file is read and after the lock is taken, with Make's own file functions: no
# process per notebook on every build (a no-op build runs no command at all).
same = $(and $(findstring $(1),$(2)),$(findstring $(2),$(1)))
ifeq ($(PARAMS),)
ifneq ($(filter $(BUILD_GOALS) $(OUT)/%,$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
NO_OVERRIDES := |$(if $(HIDE_CODE),1)
$(if $(wildcard $(OUT)/.stamps/.),,$(shell mkdir -p $(OUT)/.stamps))
$(foreach nb,$(NOTEBOOKS),$(if $(call same,$(NO_OVERRIDES),$(file <$(OUT)/.stamps/$(nb).override)),,\
  $(file >$(OUT)/.stamps/$(nb).override,$(NO_OVERRIDES))))
endif
endif

.PHONY: all help env data notebooks site ops-survey idi four-cities synthesis synthetic \
        test test-fast test-browser browser-deps lint verify manifest codecheck bench lab lock \
        codemeta clean distclean doctor FORCE preflight

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
## env: create .venv with the runtime lock (requirements.txt) and register the Jupyter kernel
env: $(ENV_STAMP)

# $(call install,LOCK,WHAT): install a lock into $(VENV) with uv (pip when uv cannot be had),
# printing what is installed and how long it took; then the package itself, editable.
define install
	@start=$$(date +%s); \
	echo "[env] $(2): installing $(1) ($$(grep -cE '^[A-Za-z0-9]' $(1)) pinned packages) into $(VENV)"; \
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || exit 1; \
	if [ -x $(UV) ] || $(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION) >/dev/null 2>&1; then \
	  $(UV) pip install --python $(PY) -r $(1) && \
	  $(UV) pip install -q --python $(PY) --no-deps -e . || exit 1; \
	else echo "[env] uv unavailable, installing with pip"; \
	  $(PY) -m pip install --disable-pip-version-check -r $(1) && \
	  $(PY) -m pip install -q --no-deps -e . || exit 1; fi; \
	echo "[env] $(2): ready in $$(( $$(date +%s) - start )) s"
endef

$(ENV_STAMP): requirements.txt pyproject.toml
	$(call install,requirements.txt,runtime)
	@$(PY) -m ipykernel install --sys-prefix --name compendium --display-name "Python (compendium)" >/dev/null
	@echo "[env] writing the bytecode of what a build imports"; $(PY) -m compendium.publish.forkserver --warm
	@touch $@

# Tests, lint, browser and Lab tools on top of the runtime (the same pins: dev ⊇ runtime).
$(DEV_STAMP): requirements-dev.txt $(ENV_STAMP)
	$(call install,requirements-dev.txt,test/lint/browser/lab groups)
	@touch $@ $(LAB_STAMP)  # the dev lock holds the lab lock, at the same pins (tested)

$(LAB_STAMP): requirements-lab.txt $(ENV_STAMP)
	$(call install,requirements-lab.txt,lab group)
	@touch $@

## lock: re-resolve pyproject.toml's dependencies and groups into the three pinned locks
##       and environment.yml (UPGRADE=1 lets every pin move; otherwise pins are kept)
LOCK_OPTS = --python-version 3.11 --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade)
lock: | $(ENV_STAMP)
	$(UV) pip compile pyproject.toml --group dev $(LOCK_OPTS) -o requirements-dev.txt
	$(UV) pip compile pyproject.toml -c requirements-dev.txt $(LOCK_OPTS) -o requirements.txt
	$(UV) pip compile pyproject.toml --group lab -c requirements-dev.txt $(LOCK_OPTS) \
	  -o requirements-lab.txt
	$(PY) -m compendium.envfile requirements-lab.txt environment.yml

## codemeta: validate CITATION.cff and regenerate codemeta.json from it (cffconvert)
CFFCONVERT = $(UV) tool run --from cffconvert==2.0.0 cffconvert
codemeta: | $(ENV_STAMP)
	$(CFFCONVERT) --validate -i CITATION.cff
	$(CFFCONVERT) -i CITATION.cff -f codemeta -o codemeta.json

# ---------------------------------------------------------------- data
## data: validate every raw file against the data contract (re-reads only what changed)
DATA_CHECK := $(OUT)/.stamps/data-check
# What the data check parsed, loaded by the pages instead of parsing again (compendium.data.parsecache).
$(DATA_CHECK) $(PAGES) $(PL_PAGES): export COMPENDIUM_PARSE_CACHE := $(abspath $(OUT))/.cache/parse
READERS := $(wildcard src/compendium/data/*.py src/compendium/errors.py)
data: $(DATA_CHECK)

# One process (with ENGINE=server, a child of the build's server, whose imports the pages
# then share: RUN_MODULE below); when only raw files changed ($?), only their sources are
# read again.
$(DATA_CHECK): $(RAW_DATA) $(READERS) $(ENV_STAMP) | preflight
	@$(call RUN_MODULE,compendium.data.datacheck) $(DATA_DIR) $(if $(filter-out $(RAW_DATA),$?),,--changed $?)
	@mkdir -p $(@D) && touch $@

## doctor: check a folder of exports before a run (DATA=/path; one line per source, writes nothing)
doctor: | $(ENV_STAMP)
	@$(PY) -m compendium.data.doctor $(DATA_DIR)

## synthetic: regenerate the synthetic raw files from data/calibration (byte-identical)
synthetic: | $(ENV_STAMP)
	$(PY) -m compendium.synthetic --out data/raw

# ---------------------------------------------------------------- notebooks
notebooks: $(PAGES)

# Which notebooks a goal runs (the others: all of them), for the parameter check below.
NB_OF_01_ops_survey := 01_ops_survey
NB_OF_02_idi_wielkopolska := 02_idi_wielkopolska
NB_OF_03_four_cities := 03_four_cities
NB_OF_04_synthesis := 02_idi_wielkopolska 03_four_cities 04_synthesis
NB_OF_ops-survey := $(NB_OF_01_ops_survey)
NB_OF_idi := $(NB_OF_02_idi_wielkopolska)
NB_OF_four-cities := $(NB_OF_03_four_cities)
NB_OF_synthesis := $(NB_OF_04_synthesis)
RUN_NOTEBOOKS = $(sort $(foreach g,$(or $(MAKECMDGOALS),all),\
                  $(or $(NB_OF_$(basename $(notdir $(g)))),$(NOTEBOOKS))))

# Before any work: PARAMS is checked against every notebook this call runs, and the whole run
# is refused, changing nothing, if one of them rejects it. It also writes each notebook's
# override stamp (the overrides that notebook receives), so exactly those notebooks rerun.
PARAMS_FILES_OK := $(OUT)/.stamps/params-files
preflight: $(PARAMS_FILES_OK) | $(ENV_STAMP)
	@$(if $(PARAMS),$(PY) -m compendium.publish.preflight \
	  $(RUN_NOTEBOOKS) --outputs $(OUT) $(if $(HIDE_CODE),--hide-code))

# The params/*.yaml files too, every notebook's, whenever one of them (or the schemas) changes:
# a bad value in one file stops the build before any notebook runs.
$(PARAMS_FILES_OK): $(NOTEBOOKS:%=params/%.yaml) src/compendium/publish/params.py | $(ENV_STAMP)
	@PARAMS= $(PY) -m compendium.publish.preflight --no-stamps $(NOTEBOOKS)
	@mkdir -p $(@D) && touch $@

# One rule for every notebook: execute with papermill, publish HTML. The runner also writes
# outputs/notebooks/%.ipynb and the notebook's tables, figures and results, each atomically,
# the page last (so the page is the target Make compares). Make decides what is stale; how a
# stale page is run is ENGINE's choice:
#   ENGINE=server (default): the build's fork server (compendium.publish.client starts it on
#     the first page, the site step stops it) imports the stack once and forks one child per
#     page, which runs the notebook in an in-process IPython kernel (fresh namespace per fork);
#   ENGINE=inprocess: one runner process per page, in-process kernel (no server);
#   ENGINE=kernel: one runner process per page, each with its own Jupyter kernel.
ENGINE ?= server
ifeq ($(filter $(ENGINE),server inprocess kernel),)
$(error ENGINE=$(ENGINE) is not a build engine: use ENGINE=server (default), inprocess or kernel)
endif
RUN_PAGE = $(PY) -m compendium.publish.$(if $(filter server,$(ENGINE)),client,runner)$(if \
    $(filter inprocess,$(ENGINE)), --engine inprocess)
# $(call RUN_MODULE,MODULE) ARGS: `python -m MODULE ARGS` (the data check, the site steps), with
# ENGINE=server in a child of the build's server (same messages, outputs and exit code).
RUN_MODULE = $(PY) -m $(if $(filter server,$(ENGINE)),compendium.publish.client --module $(1) --,$(1))
$(OUT)/html/%.html: notebooks/%.ipynb params/%.yaml \
    $(OUT)/.stamps/%.override $(DATA_DIR)/raw/dataset.yaml $(PKG_SRC) $(ENV_STAMP) \
    | $(DATA_CHECK) preflight
	@$(RUN_PAGE) $* --params-from-env $(if $(HIDE_CODE),--hide-code) $(OUT_OPTS)

# The data each notebook reads (the data check runs first: order-only above, so a check of
# one source never re-runs the notebooks of the others), and what the synthesis reads.
$(OUT)/html/01_ops_survey.html: $(NOTEBOOK_DATA_01_ops_survey)
$(OUT)/html/02_idi_wielkopolska.html: $(NOTEBOOK_DATA_02_idi_wielkopolska)
$(OUT)/html/03_four_cities.html: $(NOTEBOOK_DATA_03_four_cities)
# The synthesis reads the interview notebooks' results (results/<stem>.json), not their pages: it
# depends on a stamp the runner rewrites only when those results' bytes change
# (runner.note_results), so a notebook re-run with the same results does not re-run the
# synthesis. The stamp's rule has an empty recipe: once the page's rule has run, Make reads the
# stamp's time again, and no command runs for it (a no-op build stays a no-op).
$(OUT)/html/04_synthesis.html: \
    $(OUT)/.stamps/02_idi_wielkopolska.results $(OUT)/.stamps/03_four_cities.results
$(OUT)/.stamps/%.results: $(OUT)/html/%.html ;

# A command-line override is a dependency too: this file changes only when the overrides a
# notebook receives do (written by preflight when PARAMS is set, else while this file is read:
# see above). The empty recipe makes Make read the stamp's time again once preflight has run.
$(OUT)/.stamps/%.override: FORCE | preflight ;

## ops-survey / idi / four-cities / synthesis: run one analysis (and what it needs)
ops-survey: $(OUT)/html/01_ops_survey.html
idi: $(OUT)/html/02_idi_wielkopolska.html
four-cities: $(OUT)/html/03_four_cities.html
synthesis: $(OUT)/html/04_synthesis.html

# ---------------------------------------------------------------- site
## site: the index page, and the sidebar, search and bibliography on every page
site: $(OUT)/.stamps/site

# The synthesis first: under `make -j` its chain (02 and 03, which it waits for) starts before
# the independent 01, so the longest path is never left for last.
# The two languages' site steps are independent (each writes only its own tree), so `make -j`
# runs them side by side. A page's language switch needs only its twin's folder, not the
# twin's content: the English step waits (order-only) for the Polish pages to exist, and is
# not re-run when only they change.
$(OUT)/html/index.html: $(OUT)/html/04_synthesis.html $(PAGES) $(PKG_SRC) | $(PL_PAGES)
	@$(call RUN_MODULE,compendium.publish.site) --root . $(OUT_OPTS) --twin $(PL_OUT)
# Both sites done: the build server (if this build started one) is stopped. A stamp, not a
# phony goal, so that a build with nothing to do runs no command at all.
$(OUT)/.stamps/site: $(OUT)/html/index.html $(PL_OUT)/html/index.html
	@$(if $(filter server,$(ENGINE)),$(PY) -m compendium.publish.client --stop,:)
	@mkdir -p $(@D) && touch $@
# The site step also writes the replication package's pages (article, questionnaire,
# codebooks) and the list of tables and programs, and reads its own templates and scripts and
# the bibliography: what they read is a prerequisite too.
SITE_SRC := $(wildcard src/compendium/publish/templates/site/* src/compendium/publish/static/*) \
    $(DATA_DIR)/codebooks/ops_survey.yaml $(IDI_WIELKOPOLSKA_DATA) $(FOUR_CITIES_DATA) \
    docs/methods.md docs/references.bib CITATION.cff
$(OUT)/html/index.html: $(SITE_SRC)

# ---------------------------------------------------------------- the Polish site
# Every analysis is published in Polish too: the same notebook run with `lang: pl` (the
# markdown cells tagged lang-pl, Polish labels, headers and findings) into an output tree of
# its own, $(PL_OUT)/ (html/, tables/, figures/, results/), each page linked to its English
# twin by a language switch. A Polish page follows its English one (same inputs, same stamps).
# (Not on the English page itself: the English site step rewrites the English pages, which
# would make every Polish page look stale to the next build.) Each language's site step waits,
# order-only, for the other language's pages: its language switch needs their folder.
$(PL_OUT)/html/%.html: notebooks/%.ipynb params/%.yaml \
    $(OUT)/.stamps/%.override $(DATA_DIR)/raw/dataset.yaml $(PKG_SRC) $(ENV_STAMP) \
    | $(DATA_CHECK) preflight
	@$(RUN_PAGE) $* --params-from-env $(if $(HIDE_CODE),--hide-code) $(OUT_OPTS) \
	  --outputs $(PL_OUT) -p lang pl
$(PL_OUT)/html/01_ops_survey.html: $(NOTEBOOK_DATA_01_ops_survey)
$(PL_OUT)/html/02_idi_wielkopolska.html: $(NOTEBOOK_DATA_02_idi_wielkopolska)
$(PL_OUT)/html/03_four_cities.html: $(NOTEBOOK_DATA_03_four_cities)
$(PL_OUT)/html/04_synthesis.html: \
    $(PL_OUT)/.stamps/02_idi_wielkopolska.results $(PL_OUT)/.stamps/03_four_cities.results
$(PL_OUT)/.stamps/%.results: $(PL_OUT)/html/%.html ;
$(PL_OUT)/html/index.html: $(PL_OUT)/html/04_synthesis.html $(PL_PAGES) $(PKG_SRC) $(SITE_SRC) | $(PAGES)
	@$(call RUN_MODULE,compendium.publish.site) --root . $(OUT_OPTS) --outputs $(PL_OUT) --twin $(OUT)

# ---------------------------------------------------------------- checks
## test: every test (unit, end-to-end pipeline, Lab, browser) over the cores, the 15 slowest listed
test: $(DEV_STAMP) browser-deps
	$(PY) -m pytest -n auto --dist loadfile --durations=15

## test-fast: the unit tests only (not slow, not browser), spread over the cores
test-fast: $(DEV_STAMP)
	$(PY) -m pytest -m "not slow and not browser" -q -n auto --durations=5 \
	  --hypothesis-profile=fast

## test-browser: only the browser test of the published site (headless Chromium)
test-browser: $(DEV_STAMP) browser-deps
	$(PY) -m pytest -m browser

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[test] installing Debian's chromium for the browser test (about a minute)"; \
	    start=$$(date +%s); \
	    if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1; then echo "[test] chromium installed in $$(( $$(date +%s) - start )) s"; \
	    else echo "[test] could not install chromium: the browser test will be skipped"; fi; \
	  else echo "[test] chromium is missing and cannot be installed here: the browser test will be skipped"; fi; }

## lint: ruff on the whole repository (package, tests, benchmarks, notebooks)
lint: $(DEV_STAMP)
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

## lab: JupyterLab on 127.0.0.1 (LAB_PORT=8888), opened on notebooks/, compendium kernel
lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --ServerApp.root_dir="$(CURDIR)" \
	  --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root) \
	  $(LAB_ARGS)

# ---------------------------------------------------------------- housekeeping
## clean: delete everything generated under outputs/ (the manifest stays); with DATA=...: outputs-real/
clean:
	test ! -d $(OUT) || find $(OUT) -mindepth 1 -maxdepth 1 ! -name MANIFEST.sha256 \
	  ! -name README.md ! -name .build.lock -exec rm -rf {} +

## distclean: clean, and delete the environment
distclean: clean
	rm -rf $(VENV)

FORCE:

# Stamps and executed notebooks are real files, never intermediates to delete.
.SECONDARY: $(NOTEBOOKS:%=$(OUT)/.stamps/%.override) $(NOTEBOOKS:%=$(OUT)/.stamps/%.results) \
            $(NOTEBOOKS:%=$(PL_OUT)/.stamps/%.results)
