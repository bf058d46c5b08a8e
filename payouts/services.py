"""Payouts: the merchant's payout account and its verification, payouts and their ledger postings,
the provider's results, the weekly batch and the sweeps (docs/payouts.md).

Every write that moves a merchant's available money (opening a payout, a failed payout's money
coming back) takes the ledger's ``merchant_lock`` first and calls ``negative_track`` after; a
change or verification of the payout account takes the same lock, so an account change and a
payout never interleave: once a change has committed, no payout is opened to the old account.
The provider is only ever called after commit, with no row locked.
"""

from __future__ import annotations

import logging
import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ledger import chart
from ledger.models import Entry, Posting
from ledger.postings import Leg, balance, merchant_lock, post
from ledger.services import negative_track
from merchants.models import Merchant
from notifications.services import notify, notify_many

from .models import Payout, PayoutAccount, PayoutAccountEvent, PayoutBatch, PayoutEvent
from .providers import FAILED, PAID, TransferRefused, TransferResult, UnknownProvider, get_provider
from .status import ACCOUNT_WORKFLOW, PAYOUT_WORKFLOW

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_PAYOUT = Decimal("999999999999.99")
BANK_NUMBER = re.compile(r"^[0-9]{12,30}$")  # ASCII digits only (Python's \d also takes ١٢٣…)
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL = EmailValidator()


# --- errors ----------------------------------------------------------------------------------------

class BelowMinimum(ValidationFailed):
    code = "below_minimum"


class OverAvailable(Conflict):
    code = "over_available"


class PayoutAccountUnverified(Conflict):
    code = "payout_account_unverified"
    default_message = gettext_lazy("Payouts are on hold until the county has verified your payout account.")


class PayoutInProgress(Conflict):
    code = "payout_in_progress"
    default_message = gettext_lazy("A payout is already on its way; ask again once it has arrived or failed.")


class UnknownPayout(DomainError):
    code = "unknown_payout"
    default_message = gettext_lazy("No such payout for this provider.")


class AmountMismatch(DomainError):
    code = "amount_mismatch"
    default_message = gettext_lazy("The callback's amount does not match the payout; nothing was changed.")


# --- reads -----------------------------------------------------------------------------------------

def available(merchant_id: int) -> Decimal:
    """What the merchant may be paid out now (negative: what it owes)."""
    return -balance(chart.merchant_available(merchant_id))


def merchant_of(user) -> Merchant:
    """The caller's own shop (404 without one)."""
    merchant = Merchant.objects.filter(user_id=getattr(user, "pk", None)).first()
    if merchant is None:
        raise NotFound(_("Apply for a shop first."), code="no_shop")
    return merchant


def account_current(merchant_id: int) -> PayoutAccount | None:
    """The merchant's newest payout account version (the only one a payout may use, once verified)."""
    return PayoutAccount.objects.filter(merchant_id=merchant_id).order_by("-version").first()


# --- the lock -------------------------------------------------------------------------------------

def merchant_payouts_lock(merchant_id: int) -> None:
    """The merchant's shop row (``FOR NO KEY UPDATE``), then the ledger's ``merchant_lock``.

    Why the shop row first: a refund after release (``ledger.services.refund_post``) locks the
    shop's row (its settlement is read ``select_for_update`` with the merchant joined) *before*
    ``merchant_lock``, and every row this app writes under ``merchant_lock`` (a payout, a posting)
    names the shop, so PostgreSQL takes a key-share lock on that row: without this, a payout and
    such a refund deadlock (found by tests/payouts/test_concurrency.py). With it both take the shop
    row, then the available account, in that order. NO KEY UPDATE leaves key-share lockers (paid
    webhooks posting the shop's pending share) free."""
    list(Merchant.objects.select_for_update(no_key=True).filter(pk=merchant_id).values_list("pk", flat=True))
    merchant_lock(merchant_id)


# --- payout accounts -------------------------------------------------------------------------------

def _clean_account(*, kind, holder_name, bank_name, account_number, alipay_login) -> dict:
    """The account's fields, checked; every problem at once, by field (400, nothing stored)."""
    errors: dict[str, list[str]] = {}
    holder_name, bank_name = (holder_name or "").strip(), (bank_name or "").strip()
    if kind not in PayoutAccount.Kind.values:
        errors["kind"] = [_("Choose “bank” or “alipay”.")]
    if not holder_name or len(holder_name) > 50:
        errors["holder_name"] = [_("Give the account holder's name (at most 50 characters).")]
    number = ""
    if kind == PayoutAccount.Kind.BANK:
        if not bank_name or len(bank_name) > 60:
            errors["bank_name"] = [_("Give the bank's name (at most 60 characters).")]
        number = account_number if isinstance(account_number, str) else ""
        if not BANK_NUMBER.match(number):
            errors["account_number"] = [_("A bank account number is 12 to 30 digits, with no spaces.")]
        bank_name = bank_name[:60]
    elif kind == PayoutAccount.Kind.ALIPAY:
        number = (alipay_login if isinstance(alipay_login, str) else "").strip()
        is_email = "@" in number and len(number) <= 100
        if is_email:
            try:
                EMAIL(number)
            except DjangoValidationError:
                is_email = False
        if not (MOBILE.match(number) or is_email):
            errors["alipay_login"] = [_("An Alipay login is a mainland mobile number (11 digits) or an email "
                                        "address.")]
        bank_name = ""
    if errors:
        raise ValidationFailed(_("Some fields are invalid."), fields=errors)
    return {"kind": kind, "holder_name": holder_name, "bank_name": bank_name, "number": number}


def _account_params(account: PayoutAccount) -> dict:
    return {"account": account.masked_number, "holder": account.holder_name, "shop": account.merchant.shop_name,
            "merchant": account.merchant_id, "version": account.version}


@transaction.atomic
def payout_account_change(*, user, kind, holder_name, bank_name="", account_number="", alipay_login="") -> PayoutAccount:
    """The merchant gives a new payout account: a new version, ``unverified``; every older version is
    superseded, so payouts stay on hold until the county verified this one. The same account given
    again changes nothing."""
    merchant = merchant_of(user)
    fields = _clean_account(kind=kind, holder_name=holder_name, bank_name=bank_name, account_number=account_number,
                            alipay_login=alipay_login)
    merchant_payouts_lock(merchant.pk)  # no payout opens while the account changes
    current = account_current(merchant.pk)
    if current is not None and current.status in (PayoutAccount.Status.UNVERIFIED, PayoutAccount.Status.VERIFIED) \
            and all(getattr(current, name) == value for name, value in fields.items()):
        return current
    for older in PayoutAccount.objects.select_for_update().filter(
            merchant=merchant, status__in=ACCOUNT_WORKFLOW.sources(PayoutAccount.Status.SUPERSEDED)):
        ACCOUNT_WORKFLOW.transition(older, PayoutAccount.Status.SUPERSEDED, actor=user,
                                    reason=_("replaced by a new account"))
    account = PayoutAccount.objects.create(merchant=merchant, version=(current.version + 1) if current else 1,
                                           created_by=user, **fields)
    PayoutAccountEvent.objects.create(account=account, actor=user, from_status="",
                                      to_status=PayoutAccount.Status.UNVERIFIED, reason=_("given by the merchant"))
    account.merchant = merchant
    notify(user=merchant.user, kind="payout.account_changed", params=_account_params(account))
    operators = User.objects.filter(role=Role.OPERATOR, county_id=merchant.county_id, is_active=True)
    notify_many(users=operators, kind="payout.account_to_verify", params=_account_params(account))
    return account


def accounts_for_county(*, user, status: str | None = None):
    """Payout accounts of the shops of the operator's county (none for anyone else: verifying is the
    county's, who know the farmer)."""
    qs = PayoutAccount.objects.select_related("merchant").order_by("created_at", "pk")
    qs = qs.filter(merchant__county_id=user.county_id) if user.is_operator and user.county_id else qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs


@transaction.atomic
def payout_account_review(*, user, account_id: int, decision: str, reason: str = "") -> PayoutAccount:
    """The operator of the shop's county verifies (or rejects, with a reason) an unverified account;
    another county's answers 404. The merchant is told either way."""
    merchant_id = accounts_for_county(user=user).filter(pk=account_id).values_list("merchant_id", flat=True).first()
    if merchant_id is None:
        raise NotFound()
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationFailed(_("Say why the account is not accepted."),
                               fields={"reason": [_("Say why the account is not accepted.")]})
    merchant_payouts_lock(merchant_id)
    account = PayoutAccount.objects.select_for_update(of=("self",)).select_related("merchant__user").get(pk=account_id)
    if decision == "verify":
        account.reviewed_by = user
        ACCOUNT_WORKFLOW.transition(account, PayoutAccount.Status.VERIFIED, actor=user, reason=reason,
                                    update_fields=("reviewed_by",))
        notify(user=account.merchant.user, kind="payout.account_verified", params=_account_params(account))
    else:
        account.reviewed_by, account.reject_reason = user, reason[:300]
        ACCOUNT_WORKFLOW.transition(account, PayoutAccount.Status.REJECTED, actor=user, reason=reason,
                                    update_fields=("reviewed_by", "reject_reason"))
        notify(user=account.merchant.user, kind="payout.account_rejected",
               params={**_account_params(account), "reason": account.reject_reason})
    return account


# --- opening a payout ------------------------------------------------------------------------------

def parse_amount(value) -> Decimal:
    """A positive amount in yuan with at most two decimal places (400 ``invalid_amount`` otherwise)."""
    amount = None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount > MAX_PAYOUT \
            or amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        message = _("Give a positive amount in yuan with at most two decimal places.")
        raise ValidationFailed(message, code="invalid_amount", fields={"amount": [message]})
    return amount.quantize(CENT)


def _minimum() -> Decimal:
    return Decimal(settings.PAYOUT_MINIMUM).quantize(CENT)


def _below_minimum(minimum: Decimal) -> BelowMinimum:
    message = _("A payout is at least %(minimum)s yuan.") % {"minimum": minimum}
    return BelowMinimum(message, fields={"amount": [message]})


def _payout_open(*, merchant_id: int, amount: Decimal | None, actor=None, batch: PayoutBatch | None = None,
                 retry_of: Payout | None = None, reason: str) -> Payout:
    """Open a payout of ``amount`` (None: everything available) and send it, in the caller's
    transaction: under the merchant's lock, checked against the current verified account, the
    payouts on their way and the available balance; the money moves to in-flight at once
    (``payout_sent:<id>``) and the provider is asked after commit."""
    minimum = _minimum()
    if amount is not None and amount < minimum:
        raise _below_minimum(minimum)
    merchant_payouts_lock(merchant_id)
    account = account_current(merchant_id)
    if account is None:
        raise PayoutAccountUnverified(_("Add a payout account first; payouts start once the county has "
                                        "verified it."))
    if account.status != PayoutAccount.Status.VERIFIED:
        raise PayoutAccountUnverified()
    if Payout.objects.filter(merchant_id=merchant_id, status__in=Payout.IN_PROGRESS).exists():
        raise PayoutInProgress()
    owed = available(merchant_id)
    if amount is None:
        amount = owed
        if amount < minimum:
            raise _below_minimum(minimum)
    if amount > owed:
        message = _("Only %(available)s yuan is available to pay out.") % {"available": max(owed, ZERO)}
        raise OverAvailable(message, fields={"amount": [message]})
    payout = Payout.objects.create(merchant_id=merchant_id, account=account, batch=batch, retry_of=retry_of,
                                   amount=amount, provider=settings.PAYOUT_DEFAULT_PROVIDER,
                                   requested_by=actor if getattr(actor, "is_authenticated", False) else None)
    PayoutEvent.objects.create(payout=payout, actor=payout.requested_by, from_status="",
                               to_status=Payout.Status.PENDING, reason=reason)
    post(key=f"payout_sent:{payout.pk}", kind=Posting.Kind.PAYOUT_SENT, merchant_id=merchant_id, actor=payout.requested_by,
         memo=f"payout {payout.pk} sent", legs=[Leg(chart.merchant_available(merchant_id), amount),
                                               Leg(chart.PAYOUTS_IN_FLIGHT, -amount)])
    PAYOUT_WORKFLOW.transition(payout, Payout.Status.SENT, actor=actor, reason=reason)
    negative_track(merchant_id=merchant_id)
    transaction.on_commit(lambda: _queue_transfer(payout.pk))
    return payout


@transaction.atomic
def payout_request(*, user, amount) -> Payout:
    """The merchant asks for a payout of ``amount`` now (docs/payouts.md, "Bad input")."""
    amount = parse_amount(amount)
    merchant = merchant_of(user)
    return _payout_open(merchant_id=merchant.pk, amount=amount, actor=user, reason=_("requested by the merchant"))


@transaction.atomic
def payout_retry(*, payout_id: int, actor) -> Payout:
    """An admin sends a failed payout's returned amount again (to the merchant's current verified account)."""
    merchant_id = Payout.objects.values_list("merchant_id", flat=True).get(pk=payout_id)
    merchant_payouts_lock(merchant_id)  # the lock order: the shop, its available account, then the payout
    failed = Payout.objects.select_for_update().get(pk=payout_id)
    if failed.status != Payout.Status.FAILED:
        raise Conflict(_("Only a failed payout can be sent again."), code="payout_not_failed")
    if Payout.objects.filter(retry_of=failed).exists():
        raise Conflict(_("This payout was already sent again."), code="payout_retried")
    return _payout_open(merchant_id=failed.merchant_id, amount=failed.amount, actor=actor, retry_of=failed,
                        reason=_("retry of payout #%(payout)s") % {"payout": failed.pk})


def merchants_due(*, minimum: Decimal | None = None) -> list[int]:
    """Approved merchants whose available balance reaches the minimum, with a verified current account
    and no payout on its way (checked again under each merchant's lock)."""
    minimum = _minimum() if minimum is None else minimum
    owed = (Entry.objects.filter(account__merchant__isnull=False, account__code__endswith=":available")
            .values("account__merchant_id").annotate(total=Sum("amount")).filter(total__lte=-minimum)
            .values_list("account__merchant_id", flat=True))
    candidates = set(Merchant.objects.filter(pk__in=list(owed), status=Merchant.Status.APPROVED)
                     .values_list("pk", flat=True))
    busy = set(Payout.objects.filter(merchant_id__in=candidates, status__in=Payout.IN_PROGRESS)
               .values_list("merchant_id", flat=True))
    newest: dict[int, str] = {}  # each merchant's newest version's status (portable: no DISTINCT ON)
    for merchant_id, status in (PayoutAccount.objects.filter(merchant_id__in=candidates - busy)
                                .order_by("merchant_id", "-version").values_list("merchant_id", "status")):
        newest.setdefault(merchant_id, status)
    return sorted(m for m, status in newest.items() if status == PayoutAccount.Status.VERIFIED)


def batch_build() -> PayoutBatch | None:
    """The scheduled batch: a payout of everything available for every merchant due (each in its own
    transaction, under its lock); None, and no batch kept, when nobody was due."""
    due = merchants_due()
    if not due:
        return None
    batch = PayoutBatch.objects.create()
    for merchant_id in due:
        try:
            with transaction.atomic():
                _payout_open(merchant_id=merchant_id, amount=None, batch=batch,
                             reason=_("batch #%(batch)s") % {"batch": batch.pk})
        except DomainError as refusal:  # changed since the look: another batch, a refund, an account change
            logger.info("batch %s: merchant %s skipped: %s", batch.pk, merchant_id, refusal.code)
    totals = batch.payouts.aggregate(n=Count("pk"), total=Sum("amount"))
    count = totals["n"]
    if not count:
        batch.delete()
        return None
    batch.payout_count, batch.total, batch.finished_at = count, totals["total"], timezone.now()
    batch.save(update_fields=["payout_count", "total", "finished_at"])
    return batch


# --- the provider ----------------------------------------------------------------------------------

def _queue_transfer(payout_id: int) -> None:
    from .tasks import transfer_task  # the task module imports this one

    try:
        transfer_task.delay(payout_id)
    except Exception:  # noqa: BLE001 - the retry sweep sends it
        logger.exception("could not queue payout %s; the retry sweep will send it", payout_id)


def payout_transfer(*, payout_id: int) -> Payout:
    """Ask the provider to transfer a sent payout not yet accepted (idempotent on its request id);
    no lock is held during the call. A final refusal fails the payout (its money comes back); any
    other failure is recorded and retried by the sweep."""
    payout = Payout.objects.select_related("account").get(pk=payout_id)
    if payout.status != Payout.Status.SENT or payout.accepted_at is not None:
        return payout
    Payout.objects.filter(pk=payout_id).update(attempts=payout.attempts + 1)
    try:
        accepted = get_provider(payout.provider).transfer(payout=payout)
    except TransferRefused as refusal:
        result_apply(provider_name=payout.provider, source="transfer refused", result=TransferResult(
            event_id="", request_id=payout.request_id, status=FAILED, amount=payout.amount, reason=refusal.reason))
        return Payout.objects.get(pk=payout_id)
    except Exception as exc:  # noqa: BLE001 - a provider failure is recorded and retried
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        Payout.objects.filter(pk=payout_id).update(last_error=error)
        log = logger.error if payout.attempts + 1 >= settings.PAYOUT_TRANSFER_ALERT_ATTEMPTS else logger.warning
        log("payout %s: transfer call failed (attempt %s): %s", payout_id, payout.attempts + 1, error)
        return Payout.objects.get(pk=payout_id)
    Payout.objects.filter(pk=payout_id, accepted_at__isnull=True).update(
        accepted_at=timezone.now(), provider_reference=accepted.reference[:64], last_error="")
    return Payout.objects.get(pk=payout_id)


def transfers_retry(*, limit: int = 100) -> int:
    """The beat task: call the provider again for sent payouts it has not accepted yet."""
    cutoff = timezone.now() - settings.PAYOUT_TRANSFER_RETRY_AFTER
    ids = list(Payout.objects.filter(status=Payout.Status.SENT, accepted_at__isnull=True, sent_at__lte=cutoff)
               .order_by("sent_at").values_list("pk", flat=True)[:limit])
    for payout_id in ids:
        payout_transfer(payout_id=payout_id)
    return len(ids)


def callback_handle(*, provider_name: str, headers, body: bytes) -> str:
    """One signed result callback: 400 and nothing changed for a bad or stale signature, a malformed
    body, an unknown payout or an amount that is not the payout's; a replay answers ``duplicate``."""
    try:
        provider = get_provider(provider_name)
    except UnknownProvider:
        raise NotFound(_("Unknown payout provider.")) from None
    result = provider.parse_callback(headers, body)
    return result_apply(provider_name=provider_name, result=result, source=f"callback {result.event_id}")


def result_apply(*, provider_name: str, result: TransferResult, source: str) -> str:
    """The provider's result for a payout (from its callback, the query sweep or a refusal): paid
    (``payout_paid:<id>``) or failed (``payout_failed:<id>``: the money back to available), and the
    merchant told. Returns ``paid``, ``failed``, ``duplicate`` (already so) or ``ignored``."""
    found = (Payout.objects.filter(provider=provider_name, request_id=result.request_id)
             .values_list("pk", "merchant_id").first())
    if found is None:
        raise UnknownPayout()
    payout_id, merchant_id = found
    with transaction.atomic():
        merchant_payouts_lock(merchant_id)  # the lock order: the shop, its available account, then the payout
        payout = Payout.objects.select_for_update(of=("self",)).select_related("account", "merchant__user").get(pk=payout_id)
        if result.amount != payout.amount:
            logger.error("payout %s: %s says %s, the payout is %s; nothing changed", payout.pk, source,
                         result.amount, payout.amount)
            raise AmountMismatch()
        if payout.status == result.status:
            return "duplicate"
        if payout.status != Payout.Status.SENT:
            logger.error("payout %s is %s; %s says %s: left for a person", payout.pk, payout.status, source,
                         result.status)
            return "ignored"
        if result.reference and not payout.provider_reference:
            payout.provider_reference = result.reference[:64]
        in_flight = Leg(chart.PAYOUTS_IN_FLIGHT, payout.amount)
        params = {"payout": payout.pk, "amount": str(payout.amount), "account": payout.account.masked_number}
        if result.status == PAID:
            post(key=f"payout_paid:{payout.pk}", kind=Posting.Kind.PAYOUT_PAID, merchant_id=merchant_id,
                 memo=f"payout {payout.pk} paid", legs=[in_flight, Leg(chart.payout_cash(payout.provider),
                                                                         -payout.amount)])
            PAYOUT_WORKFLOW.transition(payout, Payout.Status.PAID, reason=source, update_fields=("provider_reference",))
            notify(user=payout.merchant.user, kind="payout.paid", params=params)
            return PAID
        payout.failure_reason = (result.reason or _("refused by the provider"))[:300]
        post(key=f"payout_failed:{payout.pk}", kind=Posting.Kind.PAYOUT_FAILED, merchant_id=merchant_id,
             memo=f"payout {payout.pk} failed", legs=[in_flight, Leg(chart.merchant_available(merchant_id),
                                                                     -payout.amount)])
        PAYOUT_WORKFLOW.transition(payout, Payout.Status.FAILED, reason=f"{source}: {payout.failure_reason}"[:500],
                                   update_fields=("provider_reference", "failure_reason"))
        negative_track(merchant_id=merchant_id)
        notify(user=payout.merchant.user, kind="payout.failed", params={**params, "reason": payout.failure_reason})
        return FAILED


def sent_query(*, limit: int = 100) -> int:
    """The beat task: ask the provider about payouts sent longer than ``PAYOUT_QUERY_AFTER`` ago with
    no result yet, and apply what it says through ``result_apply`` (as a callback would)."""
    cutoff = timezone.now() - settings.PAYOUT_QUERY_AFTER
    payouts = list(Payout.objects.select_related("account").filter(status=Payout.Status.SENT, sent_at__lte=cutoff)
                   .order_by("sent_at")[:limit])
    applied = 0
    for payout in payouts:
        try:
            status = get_provider(payout.provider).query(payout=payout)
        except Exception:  # noqa: BLE001 - asked again next time
            logger.exception("payout %s: query failed", payout.pk)
            continue
        if status.status not in (PAID, FAILED):
            continue
        amount = payout.amount if status.amount is None else status.amount
        try:
            result_apply(provider_name=payout.provider, source="query", result=TransferResult(
                event_id="", request_id=payout.request_id, status=status.status, amount=amount,
                reference=status.reference, reason=status.reason))
            applied += 1
        except DomainError as refusal:
            logger.error("payout %s: query result refused: %s", payout.pk, refusal.code)
    return applied
