"""Every text the product shows has its zh-hans translation, and the compiled catalogs are current."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".venv", ".git", "node_modules", "__pycache__", "tests", "bench", "media", "staticfiles", "*.sqlite3")

pytestmark = pytest.mark.skipif(not shutil.which("xgettext") or not shutil.which("msgattrib"),
                                reason="GNU gettext is installed by scripts/system-packages.sh")


def _entries(po: Path, *flags: str) -> list[str]:
    out = subprocess.run(["msgattrib", "--no-obsolete", *flags, str(po)], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


def test_every_message_is_translated_to_zh_hans(tmp_path):
    tree = tmp_path / "cunbo"
    shutil.copytree(ROOT, tree, ignore=SKIP)
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "marketplace.settings"}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"], cwd=tree,
                   env=env, check=True, capture_output=True)
    catalogs = sorted(tree.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
    assert len(catalogs) >= 3  # the project's and the apps' own
    missing = {str(po.relative_to(tree)): _entries(po, "--untranslated") + _entries(po, "--only-fuzzy")
               for po in catalogs}
    assert {po: ids for po, ids in missing.items() if ids} == {}


def test_compiled_catalogs_match_their_sources(tmp_path):
    for po in sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")) + [
            ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"]:
        mo = po.with_suffix(".mo")
        fresh = tmp_path / "fresh.mo"
        subprocess.run(["msgfmt", "-o", str(fresh), str(po)], check=True)
        assert fresh.read_bytes() == mo.read_bytes(), f"{mo.relative_to(ROOT)} is stale: run `make messages`"
