"""Fill untranslated zh-hans entries of the project's catalogs from JSON files of {msgid: msgstr}.

Used after ``makemessages``: ``python scripts/po_fill.py translations.json [more.json ...]``, then
``make messages`` compiles them. An entry already translated is left as it is; a msgid that no
catalog holds is reported, so a typo does not pass silently.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _unquote(lines: list[str]) -> str:
    out = "".join(json.loads(line.strip()) if line.strip().startswith('"') else "" for line in lines)
    return out


def fill(po: Path, table: dict[str, str], used: set[str]) -> int:
    text = po.read_text()
    blocks = text.split("\n\n")
    changed = 0
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        try:
            start = next(n for n, line in enumerate(lines) if line.startswith("msgid "))
            stop = next(n for n, line in enumerate(lines) if line.startswith("msgstr "))
        except StopIteration:
            continue
        if any(line.startswith("msgid_plural") for line in lines):
            continue
        msgid = _unquote([lines[start][6:]] + lines[start + 1:stop])
        msgstr = _unquote([lines[stop][7:]] + lines[stop + 1:])
        if not msgid or msgid not in table:
            continue
        used.add(msgid)
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        if msgstr and not fuzzy:
            continue
        head = [line for line in lines[:stop] if not (line.startswith("#,") and "fuzzy" in line)]
        head = [re.sub(r"^#\| .*", "", line) for line in head]
        head = [line for line in head if line]
        blocks[i] = "\n".join(head + ["msgstr " + _quote(table[msgid])])
        changed += 1
    if changed:
        po.write_text("\n\n".join(blocks))
    return changed


def main(paths: list[str]) -> int:
    table: dict[str, str] = {}
    for path in paths:
        table.update(json.loads(Path(path).read_text()))
    used: set[str] = set()
    catalogs = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")) + [ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"]
    for po in catalogs:
        n = fill(po, table, used)
        if n:
            print(f"{po.relative_to(ROOT)}: {n} filled")
    unknown = sorted(set(table) - used)
    for msgid in unknown:
        print(f"not in any catalog: {msgid!r}", file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
