# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/digestbot demo

test: $(STAMP)
	$(BIN)/python -m pytest

# mypy --strict (pyproject) over the product, and over the tests except four files that do not pass yet
# and are being rewritten by their owners this round: test_query.py, test_feed.py, test_telegram_render.py,
# test_outbox.py (untyped helpers, an Optional match, a stale ignore). Remove them from TESTS_NOT_STRICT once fixed.
TESTS_NOT_STRICT := '^tests/(test_query|test_feed|test_telegram_render|test_outbox)\.py$$'

lint: $(STAMP)
	$(BIN)/ruff check bot adapters scheduler web tests bench
	$(BIN)/mypy bot scheduler adapters web
	$(BIN)/mypy tests --exclude $(TESTS_NOT_STRICT)

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/telegram_fanout.py
	$(BIN)/python bench/discord_fanout.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/split.py

clean:
	rm -rf $(VENV) *.egg-info digestbot-demo.db
