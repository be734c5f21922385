# The README's two commands: `make run` and `make test`. Both need only python3 (3.11+) on the machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test install lint demo messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Set up, migrate, seed the demo content and serve the hub with a Celery worker beside it.
run: install
	$(PY) manage.py compile_translations
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-true} PORT=$(PORT) bin/run-dev

# The whole test suite. Browser tests skip when Chromium is missing (set REQUIRE_BROWSER=1 to fail instead).
test: install
	$(PY) manage.py compile_translations
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

# Translations (docs/i18n.md): add new msgids to locale/fr/LC_MESSAGES/django.po (needs GNU gettext's
# xgettext), then list what still lacks French. The .mo files are compiled by run and test.
messages: install
	$(PY) manage.py makemessages -l fr --no-obsolete --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'static/*'
	$(PY) manage.py makemessages -d djangojs -l fr --no-obsolete --ignore 'var/*' --ignore 'static/vendor/*' --ignore 'static/js/md5.js'
	$(PY) manage.py i18n_missing
