"""Content similarity: TF-IDF over jieba-segmented title and description, with the category,
claims, county of origin and price band as tokens of their own (they count more than a word)."""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse

from .types import Item

_FACET_REPEAT = 3  # a facet token weighs like a word said three times


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokens(item: Item) -> list[str]:
    words = [w.strip().lower() for w in _jieba().cut_for_search(item.text or "") if len(w.strip()) > 1]
    facets = [f"cat:{item.category}", f"county:{item.county}", f"band:{item.price_band}"]
    facets += [f"claim:{claim}" for claim in item.claims]
    return words + facets * _FACET_REPEAT


def item_vectors(items: list[Item]) -> sparse.csr_matrix:
    """Rows L2-normalised, in the order of ``items``."""
    vocabulary: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for row, item in enumerate(items):
        counts: dict[int, int] = {}
        for token in tokens(item):
            col = vocabulary.setdefault(token, len(vocabulary))
            counts[col] = counts.get(col, 0) + 1
        for col, n in counts.items():
            rows.append(row)
            cols.append(col)
            vals.append(1.0 + np.log(n))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(items), max(len(vocabulary), 1)))
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    idf = np.log((1 + len(items)) / (1 + df))  # a token every product has says nothing
    return _normalised(matrix @ sparse.diags(idf))


def _normalised(matrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix, dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ matrix
