# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test test-all bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[plot]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,plot]"
	touch $@ $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/davies-mb demo

test: $(STAMP_TEST)
	$(PY) -m pytest -m "not slow" -q

test-all: $(STAMP_TEST)
	$(PY) -m pytest -q

bench: $(STAMP_TEST)
	$(PY) benchmarks/davies_scaling.py

clean:
	rm -rf $(VENV) .pytest_cache results
