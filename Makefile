# paperlab — two commands do everything on a fresh machine:
#   make test        create .venv if missing, install, run unit tests and every notebook (smoke profile)
#   make reproduce   create .venv if missing, install, re-run every notebook (cpu profile), write reports/
# Also: make reproduce NB=04_hyperens | make reproduce FULL=1 | make smoke | make lab | make train NB=.. | make pretrain

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NB ?=
FULL ?=
JOBS ?= 2
PROFILE ?= cpu
NBVAL_FLAGS := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout=600 -p no:cacheprovider

.PHONY: help venv test unit smoke reproduce lab train pretrain lint clean

help:
	@sed -n '1,6p' Makefile

$(STAMP): pyproject.toml constraints/ci.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -c constraints/ci.txt -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

# JOBS processes share the cores: one torch/OpenMP thread each avoids oversubscription (which can be 10x slower).
unit: $(STAMP)
	OMP_NUM_THREADS=1 PAPERLAB_THREADS=1 $(PY) -m pytest tests/ -n $(JOBS) -q -m "not dryrun"

# the gpu profile's code path of every notebook that has one, on the CPU against data/samples (no network)
dryrun: $(STAMP)
	OMP_NUM_THREADS=1 PAPERLAB_THREADS=1 TQDM_DISABLE=1 MPLBACKEND=Agg $(PY) -m pytest tests/test_dryrun.py -n $(JOBS) -q -m dryrun

# pytest exits 5 when it collects nothing (e.g. no notebooks yet): not a failure here.
smoke: $(STAMP)
	PAPERLAB_PROFILE=smoke PAPERLAB_THREADS=1 OMP_NUM_THREADS=1 TQDM_DISABLE=1 MPLBACKEND=Agg $(PY) -m pytest $(NBVAL_FLAGS) -n $(JOBS) --dist loadfile \
		notebooks/ $(if $(NB),-k "$(NB)",) -q; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

test: unit smoke dryrun

reproduce: $(STAMP)
	TQDM_MININTERVAL=5 $(PY) -m paperlab.reproduce $(if $(NB),--nb $(NB),) $(if $(FULL),--full,)

# make train NB=07_pat [JOBS=2] [PROFILE=cpu]: the module's `train` command through the shared CLI
# (paperlab.core.cli): JOBS processes split the independent runs (same results as one), one thread each.
train: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make train NB=06_pmaa [JOBS=2] [PROFILE=cpu]"; exit 2; }
	$(PY) -m paperlab.reproduce --check-nb $(NB) && OMP_NUM_THREADS=1 $(PY) -m paperlab.core.cli \
		$(shell echo $(NB) | cut -d_ -f2-) train --profile $(PROFILE) --workers $(JOBS) --threads 1

pretrain: $(STAMP)
	$(PY) -m paperlab.clip pretrain

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

lint: $(STAMP)
	$(VENV)/bin/ruff check lib tests

clean:
	rm -rf $(VENV) .pytest_cache
