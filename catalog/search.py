"""Chinese product search: segmented words, single characters, bigrams and pinyin.

PostgreSQL's parser does not segment Chinese, so the words are made here and
written as a ``simple`` tsvector literal (lexemes taken verbatim, with weights)
on every write of a product. A query is segmented the same way and matched
against the GIN-indexed vector, ranked by ``ts_rank``. On SQLite the same
words, kept as plain text, are matched with ``icontains``.

What a buyer may type and still find ``寿光有机西红柿``:
* a word (``西红柿``, ``有机``) — jieba's search-mode words;
* one or two characters (``茶``, ``苹果``) — every character and every adjacent
  pair of the title is a lexeme too;
* pinyin (``shouguang``, ``xihongshi``, or a prefix ``shougu``) — each word's
  pinyin and the whole title's run together.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[0-9a-z]+")
_IS_CJK = re.compile(rf"^[{_CJK}]+$")
MAX_QUERY_TERMS = 8
MAX_DOCUMENT_LEXEMES = 4000


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).lower()


def _runs(text: str) -> list[str]:
    return _RUNS.findall((text or "").lower())


@dataclass
class _Document:
    weights: dict[str, str] = field(default_factory=dict)  # lexeme -> best weight (A > B > C > D)
    positions: dict[str, list[int]] = field(default_factory=dict)
    next_position: int = 1

    def add(self, lexeme: str, weight: str) -> None:
        if not lexeme or len(self.positions) >= MAX_DOCUMENT_LEXEMES and lexeme not in self.positions:
            return
        current = self.weights.get(lexeme)
        if current is None or weight < current:
            self.weights[lexeme] = weight
        positions = self.positions.setdefault(lexeme, [])
        if len(positions) < 8 and self.next_position < 16383:  # PostgreSQL's position limit
            positions.append(self.next_position)
        self.next_position += 1

    def add_text(self, text: str, weight: str, *, characters: bool) -> None:
        jieba = _jieba()
        for run in _runs(text):
            if not _IS_CJK.match(run):
                self.add(run, weight)
                continue
            words = [w for w in jieba.lcut_for_search(run) if w.strip()]
            for word in words:
                self.add(word, weight)
                self.add(_pinyin(word), weight)
            if characters:
                for i, char in enumerate(run):
                    self.add(char, weight)
                    if i + 1 < len(run):
                        self.add(run[i : i + 2], weight)
            if len(run) > 1:
                self.add(_pinyin(run), weight)

    def literal(self) -> str:
        parts = []
        for lexeme, weight in self.weights.items():
            quoted = "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
            positions = ",".join(f"{p}{weight}" for p in self.positions[lexeme]) or f"1{weight}"
            parts.append(f"{quoted}:{positions}")
        return " ".join(parts)

    def text(self) -> str:
        return " ".join(self.weights)


def build_document(*, title: str, description: str = "", category: str = "", places: list[str] | None = None
                   ) -> tuple[str, str]:
    """(tsvector literal, plain text) for a product: title A, category B, description C, places D."""
    doc = _Document()
    doc.add_text(title, "A", characters=True)
    doc.add_text(category, "B", characters=True)
    doc.add_text(description, "C", characters=True)
    for place in places or []:
        doc.add_text(place, "D", characters=False)
    return doc.literal(), doc.text()


@dataclass(frozen=True)
class Query:
    tsquery: str  # raw tsquery text over the lexemes above
    terms: list[str]  # the runs, for the SQLite fallback


def _quote(lexeme: str, prefix: bool = False) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else "")


def parse_query(text: str) -> Query | None:
    """Every term of the query must match; None when nothing searchable is left."""
    jieba = _jieba()
    clauses, terms = [], []
    for run in _runs(text)[:MAX_QUERY_TERMS]:
        terms.append(run)
        if not _IS_CJK.match(run):
            clauses.append(_quote(run, prefix=True))
            continue
        if len(run) <= 2:
            clauses.append(_quote(run))  # single characters and pairs of the title are lexemes
            continue
        for word in [w for w in jieba.lcut(run) if w.strip()]:
            if len(word) <= 2:
                clauses.append(_quote(word))
                continue
            # The word itself, or (if the title was cut differently) all its character pairs.
            pairs = " & ".join(_quote(word[i : i + 2]) for i in range(len(word) - 1))
            clauses.append(f"({_quote(word)} | ({pairs}))")
    if not clauses:
        return None
    return Query(tsquery=" & ".join(clauses), terms=terms)
