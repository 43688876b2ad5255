# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv, installs the project with its test extras, and runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean samples serve

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	rm -rf out/demo
	# exit code 1 = findings or failed files, expected: the samples carry deliberate mistakes
	$(BIN)/xlproc batch samples/inbox -o out/demo --previous samples/previous || [ $$? -eq 1 ]

# The web portal with a demo round from samples/ (accounts printed once), on 127.0.0.1 only.
serve: $(STAMP)
	$(BIN)/xlproc serve --data out/serve --demo samples --host 127.0.0.1 --port $${PORT:-8000}

test: $(STAMP)
	$(BIN)/ruff check xlproc tests benchmarks scripts
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check xlproc tests benchmarks scripts
	$(BIN)/ruff format --check xlproc tests benchmarks scripts

samples: $(STAMP)
	$(BIN)/python scripts/make_samples.py

bench: $(STAMP)
	$(BIN)/python benchmarks/read.py
	$(BIN)/python benchmarks/check.py
	$(BIN)/python benchmarks/annotate.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/batch.py 200
	$(BIN)/python benchmarks/per_file.py
	$(BIN)/python benchmarks/costs.py
	$(BIN)/python benchmarks/dataset.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python benchmarks/accuracy.py

clean:
	rm -rf $(VENV) out build dist *.egg-info
