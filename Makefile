# make demo: set up a virtual environment, install, and run the whole cycle on the built-in example.
# make test: the same set-up, then the whole test suite.
PYTHON ?= python3
VENV ?= .venv
LOWEST ?= .venv-lowest
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: demo test test-lowest bench gallery examples docs clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shixiang demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The same suite with every dependency (install_requires and extras) at the lowest version setup.cfg allows, in a
# separate environment; the pins are derived from setup.cfg each time. `make test` runs the highest.
test-lowest:
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install -q --upgrade pip
	$(PYTHON) .ci/lowest_constraints.py setup.cfg > $(LOWEST)/lowest.txt
	$(LOWEST)/bin/python -m pip install -q -c $(LOWEST)/lowest.txt -e '.[test]'
	$(LOWEST)/bin/python -m pip check
	SHIXIANG_DEPENDENCIES=lowest $(LOWEST)/bin/python -m pytest

gallery: $(STAMP)
	$(BIN)/python -m shixiang_xl.gallery gallery

bench: $(STAMP)
	$(BIN)/python bench/bench.py

examples: $(STAMP)
	$(BIN)/python -c "from pathlib import Path; from shixiang_xl.workspace import write_example_workbooks as w; print(*w(Path('examples')), sep='\\n')"

docs: $(STAMP)
	$(BIN)/python -m shixiang_xl.findings --update README.md

clean:
	rm -rf $(VENV) $(LOWEST) build *.egg-info
