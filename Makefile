# Two commands on a fresh machine: `make demo` and `make test`.

# The newest supported Python found (pyproject's requires-python: 3.11 to 3.13), unless PYTHON is given. Each
# candidate is run, not just looked up: a pyenv shim exists for every version pyenv has, selected or not.
SUPPORTED_PYTHONS := python3.13 python3.12 python3.11 python3
IN_RANGE := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach candidate,$(SUPPORTED_PYTHONS),\
	$(shell $(candidate) -c '$(IN_RANGE)' >/dev/null 2>&1 && echo $(candidate))))
endif
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench simulator messages install clean

$(PY):
	@test -n "$(PYTHON)" || { echo "make: no Python 3.11, 3.12 or 3.13 found; install one, or set PYTHON=/path/to/python3.x" >&2; exit 1; }
	@$(PYTHON) -c '$(IN_RANGE)' 2>/dev/null || { echo "make: $(PYTHON) does not run, or is not Python 3.11, 3.12 or 3.13 (set PYTHON to one that is)" >&2; exit 1; }
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

# Production: the bot and what it runs on, into $(VENV) (or `make install VENV=/opt/rakuten-bot`), without the
# test tools or the development kit. The same as `pip install .` into a virtualenv of your own.
install: $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet .
	@rm -f $(STAMP)
	@echo "installed: $(VENV)/bin/rakuten-bot (check it with: $(VENV)/bin/rakuten-bot check)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
