#!/usr/bin/env bash
# Refresh the zh-hans catalogs from the code, fill new entries from JSON files of
# {msgid: msgstr} (scripts/po_fill.py), and compile them: `bash scripts/messages.sh [file.json ...]`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEBUG=1 $PY manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench --ignore=node_modules >/dev/null
if [ "$#" -gt 0 ]; then $PY scripts/po_fill.py "$@"; fi
DEBUG=1 $PY manage.py compilemessages --ignore=.venv >/dev/null
for po in locale/zh_Hans/LC_MESSAGES/django.po */locale/zh_Hans/LC_MESSAGES/django.po; do
  missing=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid ' || true)
  if [ "$missing" != "0" ] || [ "$fuzzy" != "0" ]; then echo "$po: $missing untranslated, $fuzzy fuzzy"; fi
done
