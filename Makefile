# Cunbo: `make run` serves the product on the embedded default (SQLite, in-memory
# channel layer, eager Celery); `make test` runs the suite on PostgreSQL + Redis.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test audit lock install install-dev system node services serve worker beat migrate seed messages bench clean

# requirements.lock pins, with their hashes, what production installs; requirements-dev.lock the
# same plus the dev tools CI installs (pip-audit checks it). Both are resolved by uv from
# pyproject.toml: `make lock` after changing it (kept pins stay unless a range moved).
$(VENV)/.installed: pyproject.toml requirements.lock requirements-dev.lock package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	bash scripts/frontend.sh
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py serve --host $(HOST) --port $(PORT)

system:
	bash scripts/system-packages.sh

node:
	bash scripts/node-tools.sh

services:
	bash scripts/services.sh

test: install system node services
	bash scripts/gates.sh
	$(PY) -m pytest $(PYTEST_ARGS)
	bash scripts/audit.sh

audit: install
	bash scripts/audit.sh

worker: install
	$(VENV)/bin/celery -A marketplace worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A marketplace beat --loglevel=info

messages: install
	cd $(CURDIR) && DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

lock: install
	$(PY) -m pip install --quiet 'uv>=0.9,<1'
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --quiet -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --quiet --extra dev -o requirements-dev.lock

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles node_modules pages/static/pages/vendor ci-output
