# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench simulator messages clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; set PYTHON=python3" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The bot with its test tools, and beside it the development kit (devkit/: simulator, Slack stand-in, demo),
# which the product itself never carries.
$(STAMP): $(PY) pyproject.toml devkit/pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' -e ./devkit
	@touch $(STAMP)

# `make demo LANG=fr` shows the cards and modals in French (any other LANG, e.g. the shell's C.UTF-8: English).
demo: $(STAMP)
	$(PY) -m bot demo --lang "$(firstword $(subst _, ,$(subst ., ,$(LANG))) en)"

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/parse_sales.py
	$(PY) bench/store_write.py
	$(PY) bench/poll.py
	$(PY) bench/alert_latency.py
	$(PY) bench/ack_latency.py
	$(PY) bench/after_sale.py
	$(PY) bench/store_write_pg.py

# After adding or changing a sentence: extract the message ids into the catalogues, then translate the new
# entries in bot/ui/locales/*/LC_MESSAGES/messages.po (a test fails while one is missing).
LOCALES := bot/ui/locales
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k said -k counted:1,2 -k InvalidTrackingError:2 -k _rule:1 --no-location --sort-output --omit-header -o $(LOCALES)/messages.pot .
	$(VENV)/bin/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-wrap --no-fuzzy-matching --ignore-obsolete

simulator: $(STAMP)
	$(PY) -m devkit.rakuten_simulator

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
