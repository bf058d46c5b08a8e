# Cunbo: `make run` serves the product on the embedded default (SQLite, in-memory
# channel layer, eager Celery); `make test` runs the suite on PostgreSQL + Redis.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test audit lock install install-dev system services serve worker beat migrate seed messages bench clean

# requirements.lock pins every package CI and production install (pip-audit checks it);
# regenerate it with `make lock` after changing pyproject.toml.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(VENV)/bin/uvicorn marketplace.asgi:application --host $(HOST) --port $(PORT) --ws-per-message-deflate false --ws-max-size 65536

system:
	bash scripts/system-packages.sh

services:
	bash scripts/services.sh

test: install system services
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
	$(PY) -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
