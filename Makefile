# Two commands on a fresh machine: `make demo` and `make test`.
# While changing code: `make check`, the fast loop (lint, then every test but the slow kinds) in under a
# minute on two cores. The slow kinds are pytest markers set by directory (tests/conftest.py):
# `subprocess` (tests/e2e/: `digestbot` as a process) and `browser` (tests/e2e/browser/: headless Chromium).
# `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo check test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/digestbot demo

check: lint
	$(BIN)/python -m pytest -m "not subprocess and not browser" -n auto

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app bot adapters scheduler web tests bench
	$(BIN)/mypy app bot scheduler adapters web tests  # --strict (pyproject), tests included

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/telegram_fanout.py
	$(BIN)/python bench/discord_fanout.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/subscribers.py
	$(BIN)/python bench/split.py
	$(BIN)/python bench/edition.py
	$(BIN)/python bench/responsiveness.py

clean:
	rm -rf $(VENV) *.egg-info digestbot-demo.db digestbot-demo.db-wal digestbot-demo.db-shm digestbot-demo.db.lock build
