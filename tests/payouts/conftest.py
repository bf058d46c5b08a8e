import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from ledger import chart
from ledger.postings import balance
from ledger.services import settlement_release
from marketplace.celery import app as celery_app
from orders.models import MerchantOrder
from payouts.models import PayoutAccount
from payouts.providers.sandbox import HEADER, sandbox_callback, sign
from tests import factories
from tests.logistics.factories import paid_merchant_order

BANK = {"kind": "bank", "holder_name": "王小明", "bank_name": "中国农业银行寿光支行", "account_number": "6228480012345671234"}
ALIPAY = {"kind": "alipay", "holder_name": "王小明", "alipay_login": "13800001234"}


@pytest.fixture(autouse=True)
def _eager_celery():
    """The transfer queued after commit (and the refunds of the refund scenarios) run at once."""
    eager, propagate = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager, propagate


def available(merchant) -> Decimal:
    return -balance(chart.merchant_available(merchant.pk))


def in_flight() -> Decimal:
    return -balance(chart.PAYOUTS_IN_FLIGHT)


def sold(merchant, amount, *, buyer=None) -> MerchantOrder:
    """A paid merchant order of ``amount`` (no commission: the merchant's share is all of it), completed
    longer ago than the return window: due for release."""
    buyer = buyer or factories.ConsumerFactory()
    product = factories.ProductFactory(merchant=merchant, price=Decimal(amount))
    mo = paid_merchant_order(merchant=merchant, buyer=buyer, village=merchant.village, products=[product])
    MerchantOrder.objects.filter(pk=mo.pk).update(
        status=MerchantOrder.Status.COMPLETED,
        completed_at=timezone.now() - settings.LEDGER_RETURN_WINDOW - datetime.timedelta(hours=1))
    return mo


def fund(merchant, amount) -> MerchantOrder:
    """Money in the merchant's available balance: sold, completed, released."""
    mo = sold(merchant, amount)
    assert settlement_release(merchant_order_id=mo.pk) is not None
    return mo


def verified_account(merchant, **fields) -> PayoutAccount:
    from payouts.services import payout_account_change, payout_account_review

    operator = factories.OperatorFactory(county=merchant.county)
    account = payout_account_change(user=merchant.user, **{**BANK, **fields})
    return payout_account_review(user=operator, account_id=account.pk, decision="verify")


def callback(client, payout, *, paid=True, timestamp=None, secret=None, **body):
    data = sandbox_callback(payout=payout, paid=paid, **body)
    return client.post("/api/payouts/callback/sandbox/", data, content_type="application/json",
                       headers={HEADER: sign(data, timestamp=timestamp, secret=secret)})


@pytest.fixture
def funded_shop(shop):
    """``shop`` with 100.00 available and a verified bank account."""
    fund(shop, "100.00")
    verified_account(shop)
    return shop
