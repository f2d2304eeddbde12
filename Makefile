# make demo: set up a virtual environment, install, and run the whole cycle on the built-in example.
# make test: the same set-up, then the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: demo test bench gallery examples docs clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shixiang demo

test: $(STAMP)
	$(BIN)/python -m pytest

gallery: $(STAMP)
	$(BIN)/python -m shixiang_xl.gallery gallery

bench: $(STAMP)
	$(BIN)/python bench/bench.py

examples: $(STAMP)
	$(BIN)/python -c "from pathlib import Path; from shixiang_xl.workspace import write_example_workbooks as w; print(*w(Path('examples')), sep='\\n')"

docs: $(STAMP)
	$(BIN)/python -m shixiang_xl.findings --update README.md

clean:
	rm -rf $(VENV) build *.egg-info
