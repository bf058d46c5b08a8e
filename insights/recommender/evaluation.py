"""Offline evaluation on a time split: train on the past, test on the last ``test_days``.

For each buyer with a purchase intent in the test window (a cart add, an order or a payment), the
relevant products are those; each method ranks ten products from what it learnt of the training
window alone, and we report recall@10 (hits over relevant products) and NDCG@10 (binary gains),
averaged over buyers, per cohort: ``new`` buyers (nothing in the training window) and
``returning`` ones. ``popular`` ranks by weighted interactions over the whole training window;
``random`` draws ten products with a fixed seed. Products listed only in the test window are
rankable by every method (they are in the catalogue), but only content can find them.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

from .model import Recommender, popularity
from .types import Catalogue, Interaction

K = 10
INTENT = ("cart_add", "order", "paid")


@dataclass
class Row:
    method: str
    cohort: str
    buyers: int
    recall: float
    ndcg: float


def _ndcg(ranked: list[int], relevant: set[int]) -> float:
    dcg = sum(1.0 / math.log2(n + 2) for n, item in enumerate(ranked[:K]) if item in relevant)
    ideal = sum(1.0 / math.log2(n + 2) for n in range(min(len(relevant), K)))
    return dcg / ideal if ideal else 0.0


def evaluate(catalogue: Catalogue, interactions: list[Interaction], *, test_days: int, end: float,
             seed: int = 7) -> list[Row]:
    split = end - test_days * 86400.0
    train = [row for row in interactions if row.at < split]
    test = [row for row in interactions if split <= row.at < end and row.kind in INTENT]
    relevant: dict[int, set[int]] = defaultdict(set)
    for row in test:
        relevant[row.user].add(row.item)
    seen = {row.user for row in train}
    model = Recommender().fit(catalogue, train, now=split)
    buyers = sorted(relevant)
    ranked = {"recommender": {user: [item for item, _s in items]
                              for user, items in model.recommend(buyers, k=K).items()}}
    top = popularity(train, sorted(catalogue.items))[:K]
    ranked["popular"] = {user: top for user in buyers}
    rng = random.Random(seed)
    item_ids = sorted(catalogue.items)
    ranked["random"] = {user: rng.sample(item_ids, K) for user in buyers}
    rows = []
    for method, lists in ranked.items():
        for cohort in ("returning", "new", "all"):
            group = [user for user in buyers if cohort == "all" or (user in seen) == (cohort == "returning")]
            if not group:
                continue
            recall = sum(len(set(lists[user][:K]) & relevant[user]) / len(relevant[user]) for user in group)
            ndcg = sum(_ndcg(lists[user], relevant[user]) for user in group)
            rows.append(Row(method, cohort, len(group), recall / len(group), ndcg / len(group)))
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| method | cohort | buyers | recall@10 | NDCG@10 |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.method} | {r.cohort} | {r.buyers} | {r.recall:.3f} | {r.ndcg:.3f} |" for r in rows]
    return "\n".join(lines)
