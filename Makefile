# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test fast lint install install-browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The dev install carries the embeddings extra (about 1.1 GB, under 2 min with a warm
# cache: a CPU torch), so CI runs the sentence-embedding tests; they skip without it.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,embeddings]"
	touch $(STAMP) $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/crispml demo

# Debian's chromium, for the report's browser test and its PDF, and poppler-utils' pdftotext,
# for the PDF test (both skipped locally when absent; CI installs them).
install-browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed: the browser and PDF tests will be skipped"
	@command -v pdftotext >/dev/null || (apt-get update -qq && apt-get install -y -qq poppler-utils) \
		|| echo "poppler-utils could not be installed: the PDF test will be skipped"

test: $(DEV_STAMP) install-browser
	$(BIN)/python -m pytest --cov=crispml --cov-report=term:skip-covered -q

fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not integration"

# The gates CI runs before the tests: lint rules, formatting, and mypy --strict on src/.
lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) crispml-demo build *.egg-info

# Peer AutoML systems for benchmarks/automl_suite.py, outside the project venv (two venvs:
# FLAML 2.7 needs xgboost<3; AutoGluon 1.6's XGBoost model needs xgboost 3.x).
BENCH := .bench
.PHONY: bench-peers bench bench-crispml
bench-peers: $(BENCH)/flaml/.installed $(BENCH)/autogluon/.installed

$(BENCH)/flaml/.installed:
	$(PYTHON) -m venv $(BENCH)/flaml
	$(BENCH)/flaml/bin/python -m pip install --quiet "flaml[automl]" "xgboost<3" pandas
	touch $@

$(BENCH)/autogluon/.installed:
	$(PYTHON) -m venv $(BENCH)/autogluon
	$(BENCH)/autogluon/bin/python -m pip install --quiet "xgboost-cpu>=3,<3.3" "torch==2.13.0"
	$(BENCH)/autogluon/bin/python -m pip install --quiet "autogluon.tabular[lightgbm,catboost]" "torch==2.13.0"
	touch $@

# Every system on the four shared tables at 30 s and 60 s (about an hour on 2 cores);
# bench-crispml re-runs crispml only and merges its rows into those results files.
bench: $(DEV_STAMP) bench-peers
	for b in 30 60; do $(BIN)/python benchmarks/automl_suite.py --budget $$b \
		--json benchmarks/results/automl_suite_$${b}s.json || exit 1; done

bench-crispml: $(DEV_STAMP)
	for b in 30 60; do $(BIN)/python benchmarks/automl_suite.py --systems crispml \
		--merge-into benchmarks/results/automl_suite_$${b}s.json || exit 1; done
