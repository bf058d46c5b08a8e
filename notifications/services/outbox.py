"""The outbox: claim pending delivery rows, send them, record what happened.

Exactly once, per channel:

1. ``notify`` writes ``Delivery(state=pending)`` rows in the caller's transaction.
2. After commit, ``outbox_wake`` rings a per-channel doorbell: a Redis key set
   with NX, so a burst of commits enqueues one ``deliver_outbox`` task (due
   ``NOTIFICATIONS_WAKE_DELAY_SECONDS`` later), not one per commit. The task
   deletes the key *before* it claims, so a row committed after the claim rings
   again; one committed before is seen by the claim.
3. ``outbox_drain`` claims a batch with ``SELECT … FOR UPDATE SKIP LOCKED`` and
   marks it ``sending`` under a fresh claim token (committed), sends it, then
   marks it ``sent`` with ``UPDATE … WHERE claim_token = mine``. Workers never
   hold a row lock while waiting on the network.
4. ``outbox_reap`` (beat) takes over rows left ``sending`` longer than the lease
   (a worker killed with -9): for SMS it asks the sender which keys it already
   accepted and marks those sent; only the rest are sent again.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .. import events
from ..models import Delivery
from ..sms import SmsMessage, get_sms_sender, sms_text

logger = logging.getLogger(__name__)

State = Delivery.State
WAKE_KEY = "notifications:outbox:wake:{channel}"


# --- waking a worker ------------------------------------------------------------------

def outbox_wake(channels, *, force: bool = False, now: bool = False) -> None:
    """Enqueue one drain per channel unless one is already queued (``force`` always enqueues).

    The drain starts ``NOTIFICATIONS_WAKE_DELAY_SECONDS`` later (``now``: at once): commits
    arriving meanwhile find the bell rung and ride along, so a stream of single-notice
    commits is delivered in batches instead of one task each, without holding a worker process.
    """
    from ..tasks import deliver_outbox

    delay = 0 if now else settings.NOTIFICATIONS_WAKE_DELAY_SECONDS
    for channel in channels:
        try:
            queued = force or cache.add(WAKE_KEY.format(channel=channel), "1",
                                        timeout=settings.NOTIFICATIONS_WAKE_TTL_SECONDS)
            if queued:
                deliver_outbox.apply_async((channel,), countdown=delay) if delay else deliver_outbox.delay(channel)
        except Exception:  # noqa: BLE001 - the beat sweep delivers what a failed wake-up left
            logger.exception("could not wake the %s outbox; the sweep will deliver it", channel)


def outbox_wake_on_commit(channels) -> None:
    channels = tuple(channels)
    if channels:
        transaction.on_commit(lambda: outbox_wake(channels), robust=True)


# --- claiming and releasing -------------------------------------------------------------

def _claim(channel: str, limit: int) -> tuple[uuid.UUID, list[int]]:
    token = uuid.uuid4()
    now = timezone.now()
    with transaction.atomic():
        # Ordered as the partial index "delivery_due" is, so the claim reads due rows only,
        # never the history of sent ones.
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(channel=channel, state=State.PENDING, not_before__lte=now)
            .order_by("not_before", "id").values_list("id", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                state=State.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1)
    return token, ids


def _backoff(attempts: int) -> datetime.timedelta:
    return min(datetime.timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), datetime.timedelta(hours=1))


def _mark_sent(token: uuid.UUID, ids: list[int], provider_ids: dict[int, str] | None = None) -> int:
    if not ids:
        return 0
    updated = Delivery.objects.filter(pk__in=ids, claim_token=token, state=State.SENDING).update(
        state=State.SENT, sent_at=timezone.now(), detail="")
    provider_ids = {pk: pid[:64] for pk, pid in (provider_ids or {}).items() if pid}
    if provider_ids:
        # One statement for the whole batch (a CASE per row costs more to build than to run).
        table = Delivery._meta.db_table
        rows = ", ".join(["(%s, %s)"] * len(provider_ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET provider_id = v.pid FROM (VALUES {rows}) AS v(id, pid) "  # noqa: S608
                f"WHERE {table}.id = v.id AND {table}.claim_token = %s",
                [value for pair in provider_ids.items() for value in pair] + [token.hex])
    return updated


def _mark_final(token: uuid.UUID, ids: list[int], state: str, detail: str) -> int:
    if not ids:
        return 0
    return Delivery.objects.filter(pk__in=ids, claim_token=token, state=State.SENDING).update(
        state=state, detail=detail[:200])


def _release(token: uuid.UUID, failures: dict[int, str]) -> None:
    """Send these again later, with back-off; a row out of attempts fails for good."""
    if not failures:
        return
    rows = Delivery.objects.filter(pk__in=failures, claim_token=token, state=State.SENDING).values_list(
        "id", "attempts")
    now = timezone.now()
    for pk, attempts in rows:
        if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            _mark_final(token, [pk], State.FAILED, failures[pk])
            logger.error("delivery %s failed for good after %s attempts: %s", pk, attempts, failures[pk])
        else:
            Delivery.objects.filter(pk=pk, claim_token=token, state=State.SENDING).update(
                state=State.PENDING, claim_token=None, not_before=now + _backoff(attempts),
                detail=failures[pk][:200])


def _defer(token: uuid.UUID, until: dict[int, datetime.datetime], detail: str) -> None:
    """Put rows back untouched until ``until`` (quiet hours): a deferral is not an attempt."""
    by_time = defaultdict(list)
    for pk, when in until.items():
        by_time[when].append(pk)
    for when, pks in by_time.items():
        Delivery.objects.filter(pk__in=pks, claim_token=token, state=State.SENDING).update(
            state=State.PENDING, claim_token=None, not_before=when, attempts=F("attempts") - 1, detail=detail)


# --- the channels -------------------------------------------------------------------------

def _deliver_push(token: uuid.UUID) -> int:
    rows = list(
        Delivery.objects.filter(claim_token=token, state=State.SENDING).values_list(
            "id", "notification_id", "notification__user_id", "notification__kind", "notification__title",
            "notification__body", "notification__params", "notification__created_at")
    )
    online = events.users_online(row[2] for row in rows)
    _mark_final(token, [row[0] for row in rows if row[2] not in online], State.SKIPPED, "not connected")
    rows = [row for row in rows if row[2] in online]
    items = [
        (user_id, events.notification_event(notification_id=nid, kind=kind, title=title, body=body,
                                            params=params, created_at=created_at))
        for _pk, nid, user_id, kind, title, body, params, created_at in rows
    ]
    try:
        accepted = events.push_to_users(items)
    except Exception as exc:  # noqa: BLE001 - the channel layer is down: try the batch again later
        logger.warning("socket push failed for a batch of %d: %s", len(rows), exc)
        accepted = [False] * len(rows)
    sent = [row[0] for row, ok in zip(rows, accepted, strict=True) if ok]
    _mark_sent(token, sent)
    _release(token, {row[0]: "channel layer unavailable" for row, ok in zip(rows, accepted, strict=True) if not ok})
    return len(sent)


def _parse_hours(text: str) -> tuple[datetime.time, datetime.time] | None:
    if not text:
        return None
    start, end = (datetime.time.fromisoformat(part.strip()) for part in text.split("-"))
    return start, end


def quiet_until(now_local: datetime.datetime, start: datetime.time, end: datetime.time) -> datetime.datetime | None:
    """When the quiet period containing ``now_local`` ends, or None if it is not quiet now."""
    t = now_local.timetz().replace(tzinfo=None)
    if start == end:
        return None
    if start < end:
        quiet = start <= t < end
        end_day = now_local.date()
    else:  # across midnight, e.g. 22:00-08:00
        quiet = t >= start or t < end
        end_day = now_local.date() + datetime.timedelta(days=1) if t >= start else now_local.date()
    if not quiet:
        return None
    return datetime.datetime.combine(end_day, end, tzinfo=now_local.tzinfo)


def _deliver_sms(token: uuid.UUID) -> int:
    rows = list(
        Delivery.objects.filter(claim_token=token, state=State.SENDING).values(
            "id", "key", "notification__title", "notification__body", "notification__user__phone",
            "notification__user__notification_preference__sms_enabled",
            "notification__user__notification_preference__quiet_hours_enabled",
            "notification__user__notification_preference__quiet_start",
            "notification__user__notification_preference__quiet_end")
    )
    now_local = timezone.localtime()
    default_quiet = _parse_hours(settings.NOTIFICATIONS_DEFAULT_QUIET_HOURS)
    skipped: dict[str, list[int]] = defaultdict(list)
    deferred: dict[int, datetime.datetime] = {}
    messages: dict[str, int] = {}
    outgoing: list[SmsMessage] = []
    for row in rows:
        prefix = "notification__user__notification_preference__"
        has_preference = row[prefix + "sms_enabled"] is not None
        if has_preference and not row[prefix + "sms_enabled"]:
            skipped["opted out"].append(row["id"])
            continue
        if not row["notification__user__phone"]:
            skipped["no phone number"].append(row["id"])
            continue
        if has_preference:
            quiet = (row[prefix + "quiet_start"], row[prefix + "quiet_end"]) if row[prefix + "quiet_hours_enabled"] \
                else None
        else:
            quiet = default_quiet
        until = quiet_until(now_local, *quiet) if quiet else None
        if until is not None:
            deferred[row["id"]] = until
            continue
        key = str(row["key"])
        messages[key] = row["id"]
        outgoing.append(SmsMessage(key=key, phone=row["notification__user__phone"],
                                   text=sms_text(row["notification__title"], row["notification__body"])))
    for detail, pks in skipped.items():
        _mark_final(token, pks, State.SKIPPED, detail)
    _defer(token, deferred, "quiet hours")
    if not outgoing:
        return 0
    # If the sender raises, whether any went out is unknown: the rows stay "sending"
    # and the reaper asks the sender after the lease (never a blind resend).
    results = get_sms_sender().send_batch(outgoing)
    sent = {messages[r.key]: r.provider_id for r in results if r.ok}
    _mark_sent(token, list(sent), sent)
    _release(token, {messages[r.key]: r.error or "rejected" for r in results if not r.ok and r.retryable})
    for result in results:
        if not result.ok and not result.retryable:
            _mark_final(token, [messages[result.key]], State.FAILED, result.error or "rejected")
    return len(sent)


DELIVER = {Delivery.Channel.PUSH: _deliver_push, Delivery.Channel.SMS: _deliver_sms}


def _batch_size(channel: str) -> int:
    return settings.NOTIFICATIONS_BATCH_SIZE[channel]


def outbox_drain(*, channel: str) -> int:
    """Deliver due rows of ``channel`` batch by batch until none are left; returns how many were sent."""
    if channel not in DELIVER:
        raise ValueError(f"unknown channel {channel!r}")
    cache.delete(WAKE_KEY.format(channel=channel))  # from here on, a new commit rings again
    deadline = time.monotonic() + settings.NOTIFICATIONS_DRAIN_SECONDS
    limit = _batch_size(channel)
    sent = 0
    while True:
        token, ids = _claim(channel, limit)
        if not ids:
            return sent
        full = len(ids) == limit
        if full:
            outbox_wake([channel], now=True)  # more is waiting: let an idle worker process take the next batch
        sent += DELIVER[channel](token)
        if not full or time.monotonic() > deadline:
            return sent


# --- recovering from dead workers ---------------------------------------------------------

def _take_over_stale(limit: int) -> tuple[uuid.UUID, list[dict]]:
    token = uuid.uuid4()
    now = timezone.now()
    cutoff = now - settings.NOTIFICATIONS_CLAIM_LEASE
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=State.SENDING, claimed_at__lt=cutoff).order_by("id")
            .values("id", "channel", "key")[:limit]
        )
        if rows:
            Delivery.objects.filter(pk__in=[r["id"] for r in rows]).update(claim_token=token, claimed_at=now)
    return token, rows


def outbox_reap(*, limit: int = 1000) -> dict[str, int]:
    """Settle rows whose worker died while sending them. Returns counts by outcome."""
    token, rows = _take_over_stale(limit)
    outcome = {"confirmed": 0, "resent": 0, "dropped": 0}
    if not rows:
        return outcome
    push = [r["id"] for r in rows if r["channel"] == Delivery.Channel.PUSH]
    sms = {str(r["key"]): r["id"] for r in rows if r["channel"] == Delivery.Channel.SMS}
    if push:
        # A socket push cannot be looked up; sending again is harmless (clients keep one per id).
        Delivery.objects.filter(pk__in=push, claim_token=token).update(
            state=State.PENDING, claim_token=None, not_before=timezone.now(), detail="worker lost; resend")
        outcome["resent"] += len(push)
    if sms:
        try:
            accepted = get_sms_sender().lookup(list(sms))
        except Exception:  # noqa: BLE001 - cannot tell now; leave them for the next sweep
            logger.warning("SMS lookup failed; %d deliveries stay in flight until the next sweep", len(sms))
            Delivery.objects.filter(pk__in=list(sms.values()), claim_token=token).update(
                claimed_at=timezone.now() - settings.NOTIFICATIONS_CLAIM_LEASE)
            return outcome
        if accepted is None:
            unknown = list(sms.values())
            if settings.NOTIFICATIONS_SMS_UNCERTAIN == "resend":
                Delivery.objects.filter(pk__in=unknown, claim_token=token).update(
                    state=State.PENDING, claim_token=None, detail="worker lost; resent (at least once)")
                outcome["resent"] += len(unknown)
            else:
                _mark_final(token, unknown, State.FAILED, "worker lost; provider cannot confirm (at most once)")
                outcome["dropped"] += len(unknown)
            return outcome
        confirmed = [pk for key, pk in sms.items() if key in accepted]
        again = [pk for key, pk in sms.items() if key not in accepted]
        _mark_sent(token, confirmed)
        Delivery.objects.filter(pk__in=again, claim_token=token).update(
            state=State.PENDING, claim_token=None, detail="worker lost before sending; resend")
        outcome["confirmed"] += len(confirmed)
        outcome["resent"] += len(again)
    return outcome


def deliveries_purge(*, limit: int = 5000) -> int:
    """Delete settled outbox rows older than ``NOTIFICATIONS_DELIVERY_RETENTION`` (the notifications stay)."""
    cutoff = timezone.now() - settings.NOTIFICATIONS_DELIVERY_RETENTION
    ids = list(Delivery.objects.filter(created_at__lt=cutoff, state__in=[State.SENT, State.SKIPPED, State.FAILED])
               .order_by("id").values_list("id", flat=True)[:limit])
    return Delivery.objects.filter(pk__in=ids).delete()[0] if ids else 0


def outbox_sweep() -> dict:
    """The beat tick: settle dead workers' rows, resume broadcasts, wake channels with due rows."""
    from .fanout import fanouts_resume

    reaped = outbox_reap()
    resumed = fanouts_resume()
    now = timezone.now()
    due = [channel for channel in DELIVER
           if Delivery.objects.filter(channel=channel, state=State.PENDING, not_before__lte=now).exists()]
    outbox_wake(due, force=True, now=True)
    return {"reaped": reaped, "fanouts_resumed": resumed, "woken": due}
