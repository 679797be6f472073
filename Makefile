# researchkit: two commands for a new user (see README.md)
#   make demo   set up .venv, then run every notebook on bundled example data -> HTML reports
#   make test   set up .venv, then lint and run the test suite
# Also: make lab (JupyterLab with the project kernel), make bench (benchmarks), make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
JOBS   ?= 2
PYTEST_ARGS ?=
LAB_ARGS ?=

# This machine's shells may set PYTHONDONTWRITEBYTECODE; cached bytecode makes every
# notebook kernel start seconds faster, so let Python write it for our commands.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help venv demo test lint lab bench clean

help:
	@echo "make demo   - set up .venv and run the demo study (all notebooks) into runs/"
	@echo "make test   - set up .venv and run lint + the test suite"
	@echo "make lab    - JupyterLab with the researchkit kernel"
	@echo "make bench  - run the benchmark scripts in benchmarks/"
	@echo "make clean  - remove .venv and caches (runs/ is kept)"

venv: $(STAMP)

# Plain `python3 -m venv` + pip; uv (installed from PyPI into the venv) does the resolving and
# installing: 10x faster than pip, 3-4x once bytecode is compiled, which we do at install time
# so that kernels start fast even where PYTHONDONTWRITEBYTECODE is set (see
# benchmarks/bench_foundation_setup.py). If uv cannot be installed, pip does the job.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "researchkit needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.installed-*
	@echo "Installing researchkit and its dependencies into $(VENV) ..."
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv 2>/dev/null; then \
	  $(BIN)/python -m uv pip install --quiet --python $(BIN)/python --compile-bytecode -e ".[test]"; \
	else \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"; \
	fi
	@$(BIN)/python -m ipykernel install --sys-prefix --name researchkit \
	  --display-name "Python (researchkit)" >/dev/null
	@touch $@

demo: $(STAMP)
	$(BIN)/researchkit run templates/demo-study.yaml --jobs $(JOBS)

test: $(STAMP)
	$(BIN)/ruff check researchkit tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check researchkit tests benchmarks

lab: $(STAMP)
	@$(BIN)/python -c 'import jupyterlab' 2>/dev/null || \
	  $(BIN)/python -m uv pip install --quiet --python $(BIN)/python --compile-bytecode -e ".[test,lab]" || \
	  $(BIN)/python -m pip install --quiet -e ".[test,lab]"
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/

bench: $(STAMP)
	@$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --compile-bytecode -e ".[test,bench]" || \
	  $(BIN)/python -m pip install --quiet -e ".[test,bench]"
	@for script in benchmarks/bench_*.py; do \
	  echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
