"""The security tests' shared machinery: the world (built once per module), database snapshots,
and the figures the lead reports (routes × roles checked, write endpoints × fields checked)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from django.apps import apps
from django.db import connection, transaction

PROJECT_APPS = ("core", "regions", "accounts", "merchants", "catalog", "livestream", "orders", "farming", "payments", "ledger",
                "payouts", "logistics", "notifications")

# Filled by the tests, printed at the end of the run.
FIGURES: dict[str, Counter] = defaultdict(Counter)
FIGURE_SETS: dict[str, set] = defaultdict(set)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES and not FIGURE_SETS:
        return
    terminalreporter.section("security figures")
    authz = FIGURES.get("authz")
    if authz:
        routes = FIGURE_SETS["authz_routes"]
        roles = FIGURE_SETS["authz_roles"]
        terminalreporter.write_line(
            f"object authorization: {len(routes)} object routes ({authz['operations']} route×method) × "
            f"{len(roles)} roles ({', '.join(sorted(roles))}) = {authz['checks']} checks, "
            f"{authz['requests']} requests, {authz['snapshots']} database comparisons")
    lists = FIGURES.get("lists")
    if lists:
        terminalreporter.write_line(
            f"list scoping: {lists['endpoints']} list endpoints × roles = {lists['checks']} checks")
    mass = FIGURES.get("mass")
    if mass:
        terminalreporter.write_line(
            f"mass assignment: {mass['endpoints']} write endpoints × protected fields = {mass['fields']} checks "
            f"({mass['refused']} refused with 400, {mass['ignored']} accepted with the field ignored)")
    fuzz = FIGURES.get("fuzz")
    if fuzz:
        terminalreporter.write_line(
            f"input fuzz: {fuzz['requests']} API requests ({fuzz['routes']} routes, {fuzz['writes']} write endpoints), "
            f"{fuzz['admin requests']} admin requests ({fuzz['admin changelists']} changelists), "
            f"{fuzz['socket frames']} socket frames and handshakes: no 5xx, no traceback")
    uploads = FIGURES.get("uploads")
    if uploads:
        terminalreporter.write_line(f"uploads: {uploads['refused']} hostile files refused, "
                                    f"{uploads['accepted']} good images re-encoded and renamed")
    couriers = FIGURES.get("couriers")
    if couriers:
        terminalreporter.write_line(f"couriers: {couriers['refused']} operator screens refused (and served to the "
                                    f"operator), {couriers['served']} scan-and-carry routes served")
    limits = FIGURES.get("limits")
    if limits:
        terminalreporter.write_line(f"abuse limits: {limits['limits']} limits crossed")


def project_tables() -> list[str]:
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in PROJECT_APPS and model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
    return sorted(tables)


def snapshot() -> dict[str, frozenset[str]]:
    """Every row of every project table, as text (one query)."""
    tables = project_tables()
    sql = " UNION ALL ".join(f"SELECT %s, t::text FROM {connection.ops.quote_name(name)} t" for name in tables)
    rows: dict[str, set[str]] = {name: set() for name in tables}
    with connection.cursor() as cursor:
        cursor.execute(sql, tables)
        for table, row in cursor.fetchall():
            rows[table].add(row)
    return {table: frozenset(values) for table, values in rows.items()}


def snapshot_diff(before: dict, after: dict) -> dict[str, dict[str, list[str]]]:
    diff = {}
    for table in before.keys() | after.keys():
        gone = before.get(table, frozenset()) - after.get(table, frozenset())
        new = after.get(table, frozenset()) - before.get(table, frozenset())
        if gone or new:
            diff[table] = {"removed": sorted(gone)[:3], "added": sorted(new)[:3]}
    return diff


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once per module inside a transaction that is rolled back at the end; each
    test runs in a savepoint of it (pytest-django's ``db``), so what one test changes the next
    does not see."""
    from orders.checkout.gate import gate_reset_breaker
    from tests.security.world import build_world

    with django_db_blocker.unblock():
        gate_reset_breaker()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def clients(world):
    return world.clients()
