"""Payments: opening a charge, the provider's signed notices, refunds through the same provider."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from orders.models import Order
from orders.services.errors import PaymentWindowClosed
from orders.services.lifecycle import order_mark_paid
from orders.services.locks import merchant_orders_lock, order_lock

from .domain_events import payment_received, refund_created, refund_paid
from .models import ChannelExchange, Payment, Refund, WebhookEvent
from .providers import (
    ChargeRequest,
    ProviderPaymentStatus,
    SupportsRefundQuery,
    SupportsSettlementFile,
    UnknownProvider,
    WebhookNotice,
    get_provider,
)
from .providers.channel import exchange_record, redact
from .settlement_file import SettlementRow, parse_settlement_file
from .status import PAYMENT_TRANSITIONS, PAYMENT_WORKFLOW, REFUND_WORKFLOW

logger = logging.getLogger(__name__)

REFUND_MAX_ATTEMPTS = 8
# Every channel the product knows (settings.PAYMENT_PROVIDERS holds the ones configured here).
PAYMENT_CHANNELS = ("sandbox", "wechatpay", "alipay")
# Payments one query sweep asks about (the newest stuck first).
QUERY_BATCH = 200


class UnknownPayment(DomainError):
    code = "unknown_payment"
    default_message = gettext_lazy("No such payment for this provider.")


class AmountMismatch(DomainError):
    code = "amount_mismatch"
    default_message = gettext_lazy("The notice's amount or currency does not match the payment; it was flagged.")


def _provider(name: str):
    try:
        return get_provider(name)
    except UnknownProvider:
        if name in PAYMENT_CHANNELS:
            raise ValidationFailed(_("This payment channel is not configured on this server."),
                                   code="provider_disabled",
                                   fields={"provider": [_("This payment channel is not configured.")]}) from None
        raise ValidationFailed(_("Unknown payment provider."), code="unknown_provider",
                               fields={"provider": [_("Unknown payment provider.")]}) from None


def payment_create(*, buyer, order_id: int, provider_name: str | None = None,
                   request: ChargeRequest | None = None) -> Payment:
    """Open a payment for the buyer's pending order (or return the open one for the same provider
    and method), then open its charge at the provider.

    The payment row is written and committed under the order's lock before the provider is called
    (no lock is held over the network): two pay requests at once make one payment, a notice that
    arrives before the provider's answer finds its payment, and the charge is opened with the
    payment's id as out-trade-no, so calling the provider again (a retry after a 503) never opens a
    second trade. A provider outage is a 503 with Retry-After; the order stays payable."""
    provider_name = provider_name or settings.PAYMENT_DEFAULT_PROVIDER
    provider = _provider(provider_name)
    request = request or ChargeRequest()
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id, buyer=buyer).only("pk").first()
        if order is None:
            raise NotFound(_("No such order."))
        order = order_lock(order_id=order.pk)
        if order.status != Order.Status.PENDING_PAYMENT:
            raise Conflict(_("Only an order pending payment can be paid."), code="order_not_payable",
                           fields={"status": [order.status]})
        if order.payment_deadline <= timezone.now():
            raise PaymentWindowClosed()
        open_payments = Payment.objects.filter(order=order, provider=provider_name, status=Payment.Status.PENDING,
                                               amount=order.total)
        payment = next((p for p in open_payments if p.client_params.get("method", "") in ("", request.method)
                        or not request.method), None)
        if payment is not None and payment.client_params:
            return payment
        created = payment is None
        if created:
            payment = Payment.objects.create(order=order, provider=provider_name, amount=order.total, currency="CNY")
    try:
        charge = provider.create_charge(payment=payment, request=request)  # no row lock is held here
    except DomainError as error:
        if created and error.status != 503:  # refused (bad input, or by the channel): no trade was opened
            Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).delete()
        raise
    payment.provider_reference, payment.client_params = charge.reference, charge.client_params
    payment.save(update_fields=["provider_reference", "client_params"])
    return payment


def webhook_handle(*, provider_name: str, headers, body: bytes) -> str:
    """Process one signed provider notice; returns its outcome.

    400 (nothing changed) for a bad or stale signature, a malformed body, an unknown payment, a
    notice for another merchant; 400 with the payment flagged for an amount/currency mismatch; a
    repeated event id returns "duplicate" and changes nothing. Every notice of a real channel,
    refused or not, is kept (redacted) in ``ChannelExchange``. Late payments: see docs/orders-payments.md."""
    try:
        provider = get_provider(provider_name)
    except UnknownProvider:
        raise NotFound(_("Unknown payment provider.")) from None
    log = None
    if provider_name != "sandbox":
        log = exchange_record(provider=provider_name, direction=ChannelExchange.Direction.IN, operation="notice",
                              request={"headers": _notice_headers(headers),
                                       "body": body[:20000].decode("utf-8", "replace")})
    try:
        notice = provider.parse_webhook(headers=headers, body=body)
        outcome = notice_apply(provider_name=provider_name, provider=provider, notice=notice)
    except DomainError as error:
        _log_outcome(log, f"refused: {error.code}")
        raise
    if log is not None:
        log.payment_id, log.refund_id, log.response = notice.payment_id, notice.refund_id, redact(notice.raw)
    _log_outcome(log, outcome)
    if outcome == "flagged":
        raise AmountMismatch()
    return outcome


def _notice_headers(headers) -> dict:
    return {k: v for k, v in headers.items() if k.lower().startswith(("wechatpay-", "content-type", "user-agent"))}


def _log_outcome(log: ChannelExchange | None, outcome: str) -> None:
    if log is not None:
        log.outcome = outcome[:200]
        log.save(update_fields=["payment_id", "refund_id", "response", "outcome"])


def notice_apply(*, provider_name: str, provider, notice: WebhookNotice) -> str:
    """Apply one provider notice, whoever heard it: the webhook, or the query sweep's answer.

    The one path that moves a payment on the provider's word, so a notice and a query answer about
    the same payment serialise on the same row locks and the payment's status decides once: the
    second finds it settled and is "ignored". Each event id is applied once per provider
    (``WebhookEvent``): a repeat is "duplicate". Returns the outcome ("paid", "failed",
    "refunded_late", "flagged", "ignored", "duplicate"); raises UnknownPayment (nothing recorded)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(provider=provider_name, event_id=notice.event_id,
                                                    type=notice.type, payload=notice.raw)
        except IntegrityError:
            return "duplicate"
        order_id = (Payment.objects.filter(pk=notice.payment_id, provider=provider_name)
                    .values_list("order_id", flat=True).first())
        if order_id is None:
            raise UnknownPayment()
        if notice.type.startswith("refund."):
            event.payment_id = notice.payment_id
            event.outcome = _refund_notice_apply(notice=notice)
            event.save(update_fields=["payment", "outcome"])
            return event.outcome
        # The lock order (orders/services/locks.py): the order, its merchant orders, then the payment.
        order = order_lock(order_id=order_id)
        merchant_orders_lock(order=order)
        payment = Payment.objects.select_for_update().get(pk=notice.payment_id)
        event.payment = payment
        event.outcome = _apply(provider=provider, order=order, payment=payment, notice=notice)
        event.save(update_fields=["payment", "outcome"])
    return event.outcome


def _apply(*, provider, order: Order, payment: Payment, notice) -> str:
    if notice.type not in ("payment.succeeded", "payment.failed"):  # e.g. Alipay's WAIT_BUYER_PAY
        return "ignored"
    if notice.amount != payment.amount or notice.currency != payment.currency:
        if PAYMENT_WORKFLOW.allowed(payment.status, Payment.Status.FLAGGED):
            payment.flag_reason = (f"notice {notice.event_id}: {notice.amount} {notice.currency} "
                                   f"≠ {payment.amount} {payment.currency}")
            PAYMENT_WORKFLOW.transition(payment, Payment.Status.FLAGGED, reason=f"notice {notice.event_id}",
                                        update_fields=("flag_reason",))
        return "flagged"
    if not PAYMENT_TRANSITIONS[payment.status]:  # settled already: a late or repeated notice
        return "ignored"
    why = f"notice {notice.event_id}"
    if notice.type == "payment.failed":
        PAYMENT_WORKFLOW.transition(payment, Payment.Status.FAILED, reason=why)
        return "failed"
    if order.status == Order.Status.PENDING_PAYMENT:
        # Even past the deadline: the sweep has not cancelled it, so its units are still held.
        PAYMENT_WORKFLOW.transition(payment, Payment.Status.SUCCEEDED, reason=why)
        order_mark_paid(order=order)
        payment_received.send(payment_id=payment.pk, order_id=order.pk, provider=payment.provider,
                              amount=payment.amount, kept=True)
        return "paid"
    # Cancelled meanwhile (units already back on sale) or paid twice: all of it goes back.
    PAYMENT_WORKFLOW.transition(payment, Payment.Status.REFUNDED, reason=f"{why}: paid after the order was closed")
    payment_received.send(payment_id=payment.pk, order_id=order.pk, provider=payment.provider, amount=payment.amount,
                          kept=False)
    refund_create(payment=payment, amount=payment.amount,
                  reason=_("paid after the order was closed"))
    return "refunded_late"


def refund_create(*, payment: Payment, merchant_order_id: int | None = None, amount, reason: str,
                  dispute_id: int | None = None) -> Refund:
    """A refund row now; the provider is called after commit (never while rows are locked)."""
    refund = Refund.objects.create(payment=payment, merchant_order_id=merchant_order_id, dispute_id=dispute_id,
                                   amount=amount, reason=reason[:200])
    refund_created.send(refund_id=refund.pk, payment_id=payment.pk, merchant_order_id=merchant_order_id,
                        amount=refund.amount)
    transaction.on_commit(lambda: _queue_refund(refund.pk))
    return refund


def _queue_refund(refund_id: int) -> None:
    from .tasks import refund_submit_task  # the task module imports this one

    try:
        refund_submit_task.delay(refund_id)
    except Exception:  # noqa: BLE001 - the beat retry picks it up
        logger.exception("could not queue refund %s; the retry sweep will send it", refund_id)


def refund_submit(*, refund_id: int) -> Refund:
    """Send a pending refund to the provider (idempotent per refund id at the provider), or, once
    the provider took it and decides later, ask it where the refund stands (``query_refund``).

    A channel's answer settles it (succeeded, or failed after ``REFUND_MAX_ATTEMPTS`` refusals); a
    refund the channel is still processing stays pending, and its refund notice or a later query
    (``refunds_retry``) decides. Transient failures are recorded and retried."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        provider = get_provider(refund.payment.provider)
        asking = bool(refund.provider_reference) and isinstance(provider, SupportsRefundQuery)
        if not asking:
            refund.attempts += 1
            refund.save(update_fields=["attempts"])
    try:
        if asking:
            result = provider.query_refund(payment=refund.payment, refund_id=refund.pk)
        else:
            result = provider.refund(payment=refund.payment, amount=refund.amount, refund_id=refund.pk)
        error = "" if result.succeeded or result.pending else (result.error or "refused")
    except Exception as exc:  # noqa: BLE001 - a provider failure is recorded and retried
        result, error = None, f"{exc.__class__.__name__}: {exc}"
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        if not error and result.succeeded:
            _refund_settle(refund=refund, succeeded=True, reference=result.reference,
                           why=f"provider: {result.reference}")
        elif not error:  # taken; the channel's notice or a later query decides
            refund.provider_reference, refund.last_error = result.reference[:64], ""
            refund.save(update_fields=["provider_reference", "last_error"])
        elif refund.attempts >= REFUND_MAX_ATTEMPTS and not asking:
            _refund_settle(refund=refund, succeeded=False, reference="", why=error)
        else:
            if asking and result is not None and not result.reference:  # the channel has no such refund
                refund.provider_reference = ""
            refund.last_error = error
            refund.save(update_fields=["last_error", "provider_reference"])
    return refund


def _refund_settle(*, refund: Refund, succeeded: bool, reference: str, why: str) -> None:
    """The refund's final state (the caller holds its lock): the channel's answer, notice or query."""
    if succeeded:
        if reference:
            refund.provider_reference = reference[:64]
        REFUND_WORKFLOW.transition(refund, Refund.Status.SUCCEEDED, reason=why[:500],
                                   update_fields=("provider_reference",))
        refund_paid.send(refund_id=refund.pk, provider=refund.payment.provider, amount=refund.amount)
        return
    refund.last_error = why
    REFUND_WORKFLOW.transition(refund, Refund.Status.FAILED, reason=why[:500], update_fields=("last_error",))
    logger.error("refund %s failed for good: %s", refund.pk, why)


def _refund_notice_apply(*, notice: WebhookNotice) -> str:
    """A channel's refund notice (WeChat Pay's REFUND.*): the refund's final state, once."""
    refund = (Refund.objects.select_for_update().select_related("payment")
              .filter(pk=notice.refund_id, payment_id=notice.payment_id).first())
    if refund is None:
        raise UnknownPayment(_("No such refund for this payment."))
    if notice.amount != refund.amount:
        logger.error("refund %s: the channel's notice says %s, not %s; left for a person", refund.pk, notice.amount,
                     refund.amount)
        refund.last_error = f"notice {notice.event_id}: {notice.amount} ≠ {refund.amount}"
        refund.save(update_fields=["last_error"])
        return "flagged"
    if refund.status != Refund.Status.PENDING:
        return "ignored"
    succeeded = notice.type == "refund.succeeded"
    _refund_settle(refund=refund, succeeded=succeeded, reference=notice.reference,
                   why=f"notice {notice.event_id}" + ("" if succeeded else f": {notice.raw.get('refund_status', '')}"))
    return "refunded" if succeeded else "refund_failed"


def refunds_retry(*, limit: int = 100) -> int:
    """The beat task: send again the refunds still pending a minute after they were made."""
    cutoff = timezone.now() - timedelta(minutes=1)
    ids = list(Refund.objects.filter(status=Refund.Status.PENDING, created_at__lte=cutoff)
               .order_by("created_at").values_list("pk", flat=True)[:limit])
    for refund_id in ids:
        refund_submit(refund_id=refund_id)
    return len(ids)


def payments_query_stuck(*, limit: int = QUERY_BATCH) -> dict[str, int]:
    """The beat task: ask the provider about payments pending longer than ``PAYMENT_QUERY_AFTER``.

    A notice can be lost (the provider gave up retrying, our endpoint was down); the provider's
    query answer then decides, applied as a notice of its own (``payment_query``). Payments older
    than ``PAYMENT_QUERY_HORIZON`` are left to the webhook and a person: an abandoned payment stays
    pending, and asking about it every five minutes for ever would only spend the provider's rate
    limit. The newest come first, since their orders may still be payable. Returns how many
    answers had each outcome."""
    now = timezone.now()
    payments = list(Payment.objects.filter(status=Payment.Status.PENDING,
                                           created_at__lte=now - settings.PAYMENT_QUERY_AFTER,
                                           created_at__gt=now - settings.PAYMENT_QUERY_AFTER
                                           - settings.PAYMENT_QUERY_HORIZON)
                    .order_by("-created_at", "-pk")[:limit])
    outcomes: dict[str, int] = {}
    for payment in payments:
        try:
            outcome = payment_query(payment=payment)
        except Exception:  # noqa: BLE001 - one provider failure must not stop the sweep; asked again next time
            logger.warning("payment %s: the provider query failed; asking again next sweep", payment.pk,
                           exc_info=True)
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def payment_query(*, payment: Payment) -> str:
    """Ask ``payment``'s provider what became of it, and apply a decided answer as a notice.

    Called with no lock held (the provider is a network call away). "succeeded" and "failed"
    go through ``notice_apply`` as event ``query:<payment id>:<status>``, the same path and the
    same once-per-event table as a webhook, so an answer and a late webhook never both count;
    a disagreeing amount flags the payment as a notice's would. "pending" and "unknown" change
    nothing, and so does a success without an amount to check ("unverified"). Returns the
    notice's outcome, or the answer's status when nothing was applied."""
    provider = get_provider(payment.provider)
    answer = provider.query_payment(payment=payment)
    notice = _query_notice(payment=payment, answer=answer)
    if notice is None:
        if answer.status == "succeeded":  # no amount to check it against: logged by _query_notice
            return "unverified"
        logger.info("payment %s: the provider answered %s; left pending", payment.pk, answer.status)
        return answer.status
    outcome = notice_apply(provider_name=payment.provider, provider=provider, notice=notice)
    if outcome == "flagged":
        logger.warning("payment %s flagged: the provider's query answered %s %s", payment.pk, answer.amount,
                       answer.currency)
    return outcome


def _query_notice(*, payment: Payment, answer: ProviderPaymentStatus) -> WebhookNotice | None:
    """The notice a decided query answer stands for (None for an undecided one)."""
    if answer.status not in ("succeeded", "failed"):
        return None
    if answer.status == "succeeded" and answer.amount is None:
        logger.warning("payment %s: the provider answered succeeded without an amount; left pending", payment.pk)
        return None
    # A failed trade charged nothing, so it has nothing to disagree with unless the provider names an amount.
    amount = payment.amount if answer.amount is None else answer.amount
    currency = answer.currency or payment.currency
    return WebhookNotice(
        event_id=f"query:{payment.pk}:{answer.status}", type=f"payment.{answer.status}", payment_id=payment.pk,
        amount=amount, currency=currency,
        raw={"source": "query", "status": answer.status, "amount": None if answer.amount is None else str(amount),
             "currency": answer.currency, "reference": answer.reference,
             "paid_at": answer.paid_at.isoformat() if answer.paid_at else None})


def provider_settlement_rows(*, provider_name: str, day: date) -> list[SettlementRow]:
    """A provider's settlement file of ``day`` (a China Standard Time day), fetched and parsed: what
    reconciling our payments and refunds against the provider's books reads. 400 for an unknown
    provider or a malformed file, 409 for a provider that offers no file."""
    provider = _provider(provider_name)
    if not isinstance(provider, SupportsSettlementFile):
        raise Conflict(_("This payment provider offers no settlement file."), code="settlement_file_unavailable")
    return parse_settlement_file(provider.settlement_file(day))


def wechatpay_certificates_refresh() -> list[str]:
    """The beat task: download WeChat Pay's platform certificates (rotation: new ones are stored
    before WeChat Pay signs with them). Nothing to do while the channel is not configured."""
    if "wechatpay" not in settings.PAYMENT_PROVIDERS:
        return []
    from .providers.wechatpay import certificates_refresh

    return certificates_refresh()
