"""Item-item collaborative filtering on implicit feedback, blended with content and the season.

A buyer's score for a product is

    (behaviour + 0.35 · content) · (1 + 0.5 · season) + 0.1 · season

    behaviour  x_u · S[:, i]       S: cosine between items' buyer columns (weighted, decayed)
    content    (x_u C) · C_i       C: TF-IDF rows of jieba-segmented text and facets (content.py)
    season     p_recent(i)         what sold in the last 28 days of the log, in the buyer's province

each term scaled to [0, 1] per buyer. ``x_u`` is the buyer's interactions, weighted by kind
(types.WEIGHTS) and decayed with a 60-day half-life, so last season's taste fades. The content term
reaches products nobody has bought yet; the season term reaches what is being picked now. A buyer
with no history gets the cold start: the province's products of the last 28 days (else the
country's), which is also what ``popular`` answers in the evaluation, but over the whole log.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy import sparse

from .content import _normalised, item_vectors
from .types import Catalogue, Interaction

DAY = 86400.0
HALF_LIFE_DAYS = 60.0
RECENT_DAYS = 28.0
CONTENT_WEIGHT = 0.35
SEASON_WEIGHT = 0.1
SEASON_BOOST = 0.5
CHUNK = 512


def _scaled(matrix: np.ndarray) -> np.ndarray:
    top = matrix.max(axis=1, keepdims=True)
    top[top <= 0] = 1.0
    return matrix / top


class Recommender:
    def fit(self, catalogue: Catalogue, interactions: list[Interaction], *, now: float) -> Recommender:
        self.catalogue = catalogue
        self.item_ids = sorted(catalogue.items)
        self.item_index = {item: n for n, item in enumerate(self.item_ids)}
        users = sorted({row.user for row in interactions})
        self.user_index = {user: n for n, user in enumerate(users)}
        rows, cols, vals = [], [], []
        recent: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(self.item_ids)))
        for row in interactions:
            col = self.item_index.get(row.item)
            if col is None or row.weight <= 0:
                continue
            rows.append(self.user_index[row.user])
            cols.append(col)
            vals.append(row.weight * math.exp(-math.log(2) * (now - row.at) / (HALF_LIFE_DAYS * DAY)))
            if now - row.at <= RECENT_DAYS * DAY:
                recent[catalogue.provinces.get(row.user, "")][col] += row.weight
                recent["*"][col] += row.weight
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(users), len(self.item_ids)))
        x.sum_duplicates()
        self.x = x.log1p()
        columns = _normalised(self.x.T.tocsr())  # items × users, rows normalised
        self.s = (columns @ columns.T).tocsr()
        self.c = item_vectors([catalogue.items[item] for item in self.item_ids])
        self.recent = {province: vector / (vector.max() or 1.0) for province, vector in recent.items()}
        self.empty = np.zeros(len(self.item_ids))
        return self

    def _season(self, province: str) -> np.ndarray:
        vector = self.recent.get(province)
        if vector is None or not vector.any():
            vector = self.recent.get("*", self.empty)
        return vector

    def cold_start(self, *, province: str, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        return self._top(self._season(province), k, allowed)

    def _top(self, scores: np.ndarray, k: int, allowed: set[int] | None) -> list[tuple[int, float]]:
        order = np.argsort(-scores, kind="stable")
        out = []
        for col in order:
            item = self.item_ids[col]
            if allowed is not None and item not in allowed:
                continue
            out.append((item, float(scores[col])))
            if len(out) == k:
                break
        return out

    def recommend(self, users: list[int], *, k: int, allowed: set[int] | None = None
                  ) -> dict[int, list[tuple[int, float]]]:
        """Top ``k`` per buyer (``allowed``: the products that may be shown); the cold start for
        buyers the log does not know."""
        answer = {}
        known = [user for user in users if user in self.user_index]
        for user in users:
            if user not in self.user_index:
                answer[user] = self.cold_start(province=self.catalogue.provinces.get(user, ""), k=k, allowed=allowed)
        for start in range(0, len(known), CHUNK):
            chunk = known[start:start + CHUNK]
            xu = self.x[[self.user_index[user] for user in chunk]]
            behaviour = _scaled(np.asarray((xu @ self.s).todense()))
            content = _scaled(np.asarray(((xu @ self.c) @ self.c.T).todense()))
            for n, user in enumerate(chunk):
                season = self._season(self.catalogue.provinces.get(user, ""))
                scores = ((behaviour[n] + CONTENT_WEIGHT * content[n]) * (1.0 + SEASON_BOOST * season)
                          + SEASON_WEIGHT * season)
                answer[user] = self._top(scores, k, allowed)
        return answer

    def similar(self, item: int, *, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """Bought by the same buyers, blended with alike in text, category, claims and origin."""
        col = self.item_index.get(item)
        if col is None:
            return []
        behaviour = np.asarray(self.s[col].todense()).ravel()
        content = np.asarray((self.c[col] @ self.c.T).todense()).ravel()
        scores = behaviour / (behaviour.max() or 1.0) + CONTENT_WEIGHT * content
        scores[col] = -1.0
        return [(other, score) for other, score in self._top(scores, k + 1, allowed) if other != item][:k]


def popularity(interactions: list[Interaction], item_ids: list[int]) -> list[int]:
    """The baseline: products by their weighted interactions over the whole log."""
    totals: dict[int, float] = defaultdict(float)
    for row in interactions:
        totals[row.item] += row.weight
    return sorted(item_ids, key=lambda item: (-totals.get(item, 0.0), item))
