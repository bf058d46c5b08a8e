#!/usr/bin/env bash
# The gates `make test` runs before the suite: lint, the direction of imports, and no model change
# without its migration. Each prints what it found and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
echo "gates: ruff"
$BIN/ruff check .
echo "gates: import-linter"
DEBUG=1 $BIN/lint-imports --no-cache
echo "gates: makemigrations --check"
DEBUG=1 $BIN/python manage.py makemigrations --check --dry-run
