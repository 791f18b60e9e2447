# Two commands for a newcomer: `make grade` and `make test`. Both set up .venv first.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The stamp is named after the pins' content (not their mtime, nor the rest of pyproject.toml):
# a fresh checkout with the same pins reuses a ready environment.
PINS := $(shell { sed -n '/^dependencies = \[/,/^\]/p' pyproject.toml; cat requirements.lock; } \
          | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(PINS)
IMPORTS := import torch, tensorflow, keras, nbgrader, nbclient, ot, sklearn
# Two cores: one BLAS/torch thread per process is faster than oversubscription.
export OMP_NUM_THREADS ?= 1

.PHONY: setup tools sandbox lab grade summary check release test bench clean

setup: $(STAMP)

# Idempotent: re-runs only when the pins change (a second `make setup` is instant).
$(STAMP):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	$(BIN)/python -c "$(IMPORTS)" 2>/dev/null || $(BIN)/python -c "$(IMPORTS)"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# JupyterLab; in a students' repository with its own settings (.jupyter: no nbgrader tools).
lab: setup
	$(if $(wildcard .jupyter),JUPYTER_CONFIG_DIR=$(CURDIR)/.jupyter) $(BIN)/jupyter lab

# make grade [TP=tp1_gradient] [FROM=solutions] [OUT=grades] [CACHE=.grader-cache]
grade: setup
	$(BIN)/python -m grader grade $(TP) $(if $(FROM),--from $(FROM)) $(if $(OUT),--out $(OUT)) \
	  $(if $(CACHE),--cache $(CACHE))

summary: setup
	$(BIN)/python -m grader summary $(wildcard grades/*/grades.json)

check: setup
	$(BIN)/python -m grader check $(TP)

release: setup
	$(BIN)/python -m grader release

# The whole suite, masters under nbval included (see conftest.py).
test: setup tools sandbox
	$(BIN)/python -m pytest

# Kernels run in bubblewrap (grader/sandbox.py): installed here when we may, else said exactly.
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; } || { \
	  echo "bubblewrap manque : sudo apt install bubblewrap (Debian/Ubuntu) — le bac à sable \
	des notebooks en a besoin"; exit 1; }

# gitlab-ci-local runs the student pipeline in the tests (4.73.0: newer ones need Node 22).
GITLAB_CI_LOCAL := .tools/node_modules/.bin/gitlab-ci-local
tools: $(GITLAB_CI_LOCAL)
$(GITLAB_CI_LOCAL):
	command -v npm >/dev/null && npm install --silent --no-fund --no-audit --prefix .tools \
	  gitlab-ci-local@4.73.0 || echo "npm absent : le test du pipeline étudiant sera sauté"

bench: setup
	$(BIN)/python scripts/bench.py

clean:
	rm -rf grades .pytest_cache
