"""The load test in miniature, so bench/locustfile.py cannot rot.

The same runner as ``bench/load.py`` (production settings, uvicorn with 2 workers, a Celery worker
and beat, data prepared through the API) runs the locustfile for 20 s with 14 people and a
flash offer small enough to sell out, then checks the books.
"""

import pytest

from bench.load import RELAXED_LIMITS, load_run, table
from tests.stack import running_stack

# The run itself is about 40 s; starting the stack (migrate, seed_demo with production password
# hashing) takes 30 s on a quiet machine and twice that on a busy one.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_a_short_load_run_has_no_server_errors_no_oversell_and_every_order_paid_once(django_db_blocker, tmp_path):
    with django_db_blocker.unblock(), running_stack("loadsmoke", extra_env={**RELAXED_LIMITS, "LOG_LEVEL": "ERROR"}) as stack:
        result = load_run(stack, users=14, spawn_rate=14, seconds=20, consumers=14, units=2, per_buyer_limit=2,
                          shipments=4, workdir=tmp_path, stop_timeout=3, log=lambda _text: None)
    verdict, run = result["verdict"], result["run"]
    report = f"{table(run['stats'])}\n{verdict}\n{run['stderr'][-2000:]}"

    assert verdict["5xx"] == 0, report
    assert verdict["failures"] == 0, report
    assert verdict["server_error_log_lines"] == 0, report
    assert verdict["oversold_offers"] == 0, report
    assert verdict["min_product_stock"] >= 0, report
    assert verdict["stock_drift"] == {}, report
    assert verdict["orders_not_paid_exactly_once"] == 0, report
    assert verdict["webhook_events"] == verdict["webhook_events_distinct"], report
    # The run did what it claims: offers sold out under the buyers, people chatted and parcels moved.
    assert any(offer["end_reason"] == "sold_out" for offer in verdict["offers"]), report
    counts = {row["Name"]: int(row["Request Count"]) for row in run["stats"]}
    for name in ("POST /api/orders/ (flash offer)", "POST /api/payments/webhook/sandbox/", "WS chat round trip",
                 "WS connect + snapshot", "POST /api/shipments/[id]/events/", "GET /api/products/"):
        assert counts.get(name, 0) > 0, f"{name} never ran\n{report}"
    assert verdict["ok"], report
