# condorweb: `make run` serves the console, `make test` runs every test.
# Debian's interpreter where there is one: under `make run` the console runs as
# an unprivileged user (devtools/run.py), who cannot reach an interpreter in
# root's home (pyenv's, for one).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) python3.11)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: lint run test bench screenshots system-deps devpool-up devpool-down clean

$(STAMP): requirements.txt requirements-test.txt
	@command -v $(PYTHON) >/dev/null || { echo "condorweb needs $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

# Migrations, the first administrator, the dev pool and the server; as root,
# only the dev pool runs as root and the rest as CONDORWEB_RUN_AS (devtools/run.py).
run: $(STAMP) system-deps
	$(PY) -m devtools.run --host $(HOST) --port $(PORT)

# `make test` runs the suite on SQLite and the in-memory channel layer, then
# again on real PostgreSQL and Redis servers (tests/servers.py) the tests
# that touch the database or the channel layer, with the multi-process ones.
SERVICES_TESTS ?= services or not (integration or browser)

test: $(STAMP) system-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -m "not services"
	$(PY) -m tests.servers run -- $(PY) -m pytest -m "$(SERVICES_TESTS)"

# The README's pictures: the main pages at 1280x800, light scheme, into docs/screenshots/.
screenshots: $(STAMP) system-deps
	$(PY) -m pytest -q -m screenshots tests/browser/

devpool-up: $(STAMP)
	$(PY) manage.py devpool up

devpool-down: $(STAMP)
	$(PY) manage.py devpool down

clean:
	rm -rf $(VENV)

bench: $(STAMP) system-deps
	$(PY) -m bench --markdown var/bench-latest.md

# What `make test` checks first, and how to fix most of it: ruff's pinned version, settings in pyproject.toml.
lint: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .
