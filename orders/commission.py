"""Which commission rule is in force for a line, and what it keeps.

A rule (``orders.models.CommissionRule``) names a category (or none: every category) and a county
(or none: every county), with the period it is in force. For a product of category *c* sold by a
shop of county *k* at time *t*, the first rule in force at *t* in this order wins:

    (k, c), (k, parent of c), … (k, any category), (any county, c), (any county, parent of c), … (any, any)

so a county the platform supports can have a lower rate than the category's everywhere else.
Without any rule the settings' defaults apply (``ORDERS_DEFAULT_COMMISSION_RATE``,
``ORDERS_DEFAULT_SERVICE_FEE_RATE``). Between rules of the same place, the one that came into
force last wins.

The checkout copies the rates onto each line and the amounts onto the merchant order, so a later
change of rules never changes an order's money. The rules are read once into the cache (one
entry, dropped whenever a rule or a category is saved or deleted, and expiring after five minutes
in case a drop was missed), so a checkout costs one cache read, not a query; with the cache down
it reads them from the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Category
from core.redis import REDIS_ERRORS

from .models import CommissionRule

CACHE_KEY = "orders:commission-rules:v1"
# The cached rules expire after this even if never dropped (a drop missed while Redis was down).
RULES_CACHE_SECONDS = 300
CENT = Decimal("0.01")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rates:
    commission: Decimal
    service_fee: Decimal


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _load() -> dict:
    rules: dict[tuple, list] = {}
    for rule in CommissionRule.objects.order_by("-effective_from", "-pk"):
        rules.setdefault((rule.county_id, rule.category_id), []).append(
            (rule.effective_from, rule.effective_until, rule.commission_rate, rule.service_fee_rate))
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    return {"rules": rules, "parents": parents}


def _table() -> dict:
    """The rules from the cache; straight from the database while the cache (Redis) is down, so a
    checkout never fails for it (it only costs two queries then)."""
    try:
        table = cache.get(CACHE_KEY)
    except REDIS_ERRORS:
        logger.warning("commission rules: cache unavailable, read from the database")
        return _load()
    if table is None:
        table = _load()
        try:
            cache.set(CACHE_KEY, table, timeout=RULES_CACHE_SECONDS)
        except REDIS_ERRORS:
            logger.warning("commission rules: cache unavailable, not stored")
    return table


def rates_table_drop() -> None:
    """Forget the cached rules. If the cache is unreachable now, the entry cannot be dropped: it is
    re-read after ``RULES_CACHE_SECONDS`` at the latest."""
    try:
        cache.delete(CACHE_KEY)
    except REDIS_ERRORS:
        logger.error("commission rules changed but the cache is unavailable; the old rules may be used for "
                     "up to %s s", RULES_CACHE_SECONDS)


class RateBook:
    """The rules as of one moment, for one checkout (reads the cache once)."""

    def __init__(self, *, at: datetime):
        table = _table()
        self.at, self._rules, self._parents = at, table["rules"], table["parents"]
        self._default = Rates(settings.ORDERS_DEFAULT_COMMISSION_RATE, settings.ORDERS_DEFAULT_SERVICE_FEE_RATE)

    def _categories(self, category_id: int | None):
        seen = set()
        while category_id is not None and category_id not in seen:
            seen.add(category_id)
            yield category_id
            category_id = self._parents.get(category_id)
        yield None

    def rates(self, *, category_id: int | None, county_id: int | None) -> Rates:
        for county in (county_id, None):
            for category in self._categories(category_id):
                for start, until, commission, service_fee in self._rules.get((county, category), ()):
                    if start <= self.at and (until is None or self.at < until):
                        return Rates(commission, service_fee)
        return self._default


def rates_in_force(*, category_id: int | None, county_id: int | None, at: datetime) -> Rates:
    return RateBook(at=at).rates(category_id=category_id, county_id=county_id)


@receiver([post_save, post_delete], sender=CommissionRule, dispatch_uid="orders.commission.rules")
@receiver([post_save, post_delete], sender=Category, dispatch_uid="orders.commission.categories")
def _rules_changed(**kwargs):
    rates_table_drop()
