"""Streams: scheduling, going live (by the media server or by hand), ending, pinning."""

from __future__ import annotations

import datetime
import hmac
import ipaddress
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.errors import Conflict, DomainError, ValidationFailed
from core.uploads import check_upload
from merchants.models import Merchant
from merchants.services import MerchantNotApproved, merchant_require_approved
from notifications.services import broadcast_start_on_commit

from .. import events
from ..broadcasts import STREAM_LIVE
from ..models import Stream, StreamEvent, new_stream_key
from ..status import STREAM_TRANSITIONS, STREAM_WORKFLOW
from ._common import owned_stream
from .banned_words import clean_room_words

logger = logging.getLogger(__name__)

S = Stream.Status
MAX_SCHEDULE_AHEAD = datetime.timedelta(days=90)
MAX_SCHEDULE_BEHIND = datetime.timedelta(minutes=5)


class StreamNotLive(Conflict):
    code = "stream_not_live"
    default_message = _("The stream is not live.")


class HookRefused(DomainError):
    """The media server's push is refused (answered 403, nothing changed)."""

    status = 403
    code = "publish_refused"
    default_message = _("Refused.")


def _transition(stream: Stream, target: str, *, actor=None, reason: str = "") -> Stream:
    """Move a locked stream to ``target``: timestamp, audit row, room event, side effects on commit."""
    STREAM_WORKFLOW.check(stream.status, target)
    if target == S.LIVE and stream.merchant.status != Merchant.Status.APPROVED:
        raise MerchantNotApproved(_("A suspended or unapproved shop cannot go live."))
    also = ()
    if target != S.LIVE:
        stream.ingest_active, stream.ingest_addr = False, None
        also = ("ingest_active", "ingest_addr")
    STREAM_WORKFLOW.transition(stream, target, actor=actor, reason=reason, update_fields=also)
    events.stream_status(stream_id=stream.pk, status=target)
    if target == S.LIVE:
        broadcast_start_on_commit(kind=STREAM_LIVE, key=str(stream.pk))
    elif target == S.ENDED:
        from .offers import offers_end_for_stream

        offers_end_for_stream(stream=stream)
    return stream


def _clean_schedule(*, scheduled_at: datetime.datetime) -> None:
    now = timezone.now()
    if scheduled_at < now - MAX_SCHEDULE_BEHIND:
        raise ValidationFailed(_("A stream cannot be scheduled in the past."),
                               fields={"scheduled_at": [str(_("Choose a time from now on."))]})
    if scheduled_at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationFailed(_("A stream can be scheduled at most 90 days ahead."),
                               fields={"scheduled_at": [str(_("Choose a time within 90 days."))]})


def _own_listed_products(*, merchant: Merchant, product_ids: list[int]) -> list[Product]:
    ids = list(dict.fromkeys(product_ids))
    if len(ids) > settings.LIVE_STREAM_MAX_PRODUCTS:
        raise ValidationFailed(fields={"products": [str(_("At most %(n)d products per stream.")
                                                        % {"n": settings.LIVE_STREAM_MAX_PRODUCTS})]})
    products = list(Product.objects.filter(pk__in=ids, merchant=merchant, status=Product.Status.LISTED))
    missing = sorted(set(ids) - {p.pk for p in products})
    if missing:
        raise ValidationFailed(
            _("Only your own listed products can be sold in your stream."),
            fields={"products": [str(_("Not one of your listed products: %(ids)s."))
                                 % {"ids": ", ".join(map(str, missing))}]},
        )
    return products


@transaction.atomic
def stream_create(*, user, title: str, scheduled_at: datetime.datetime, products: list[int],
                  cover=None) -> Stream:
    merchant = merchant_require_approved(user=user)
    _clean_schedule(scheduled_at=scheduled_at)
    chosen = _own_listed_products(merchant=merchant, product_ids=products)
    stream = Stream(merchant=merchant, title=title, scheduled_at=scheduled_at)
    if cover:
        stream.cover = check_upload(cover, field="cover").file
    stream.save()
    stream.products.set(chosen)
    StreamEvent.objects.create(stream=stream, actor=user, from_status="", to_status=S.SCHEDULED)
    return stream


@transaction.atomic
def stream_update(*, stream_id: int, actor, title: str | None = None,
                  scheduled_at: datetime.datetime | None = None, products: list[int] | None = None,
                  cover=None, banned_words: list[str] | None = None) -> Stream:
    """Change a stream before it goes live (products may still be added while live)."""
    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True)
    if stream.status not in (S.SCHEDULED, S.LIVE):
        raise Conflict(_("An ended or cancelled stream cannot be changed."), code="stream_closed")
    fields = []
    if title is not None:
        stream.title = title
        fields.append("title")
    if scheduled_at is not None:
        if stream.status != S.SCHEDULED:
            raise Conflict(_("A live stream cannot be rescheduled."), code="stream_live")
        _clean_schedule(scheduled_at=scheduled_at)
        stream.scheduled_at = scheduled_at
        fields.append("scheduled_at")
    if cover is not None:
        stream.cover = check_upload(cover, field="cover").file
        fields.append("cover")
    if banned_words is not None:
        stream.banned_words = clean_room_words(banned_words)
        fields.append("banned_words")
    if fields:
        stream.save(update_fields=fields)
    if products is not None:
        merchant_require_approved(user=actor)
        chosen = _own_listed_products(merchant=stream.merchant, product_ids=products)
        in_use = set(stream.offers.filter(status="live").values_list("product_id", flat=True))
        if stream.pinned_product_id:
            in_use.add(stream.pinned_product_id)
        dropped = in_use - {p.pk for p in chosen}
        if dropped:
            raise Conflict(_("A pinned product or one with a live offer cannot be removed."),
                           code="product_in_use", fields={"products": [", ".join(map(str, sorted(dropped)))]})
        stream.products.set(chosen)
    return stream


@transaction.atomic
def stream_start(*, stream_id: int, actor) -> Stream:
    """The owner goes live by hand (e.g. when the video runs outside our media server)."""
    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True)
    return _transition(stream, S.LIVE, actor=actor, reason="manual")


@transaction.atomic
def stream_end(*, stream_id: int, actor) -> Stream:
    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True, allow_admin=True)
    return _transition(stream, S.ENDED, actor=actor, reason="manual")


@transaction.atomic
def stream_cancel(*, stream_id: int, actor) -> Stream:
    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True, allow_admin=True)
    return _transition(stream, S.CANCELLED, actor=actor, reason="manual")


@transaction.atomic
def stream_key_rotate(*, stream_id: int, actor) -> Stream:
    """A new secret key; the old one stops working at once. Not while an encoder is pushing with it."""
    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True)
    if stream.status in (S.ENDED, S.CANCELLED):
        raise Conflict(_("An ended or cancelled stream has no key to rotate."), code="stream_closed")
    if stream.ingest_active:
        raise Conflict(_("Stop the encoder before rotating its key."), code="ingest_active")
    stream.stream_key = new_stream_key()
    stream.save(update_fields=["stream_key"])
    return stream


@transaction.atomic
def stream_pin(*, stream_id: int, actor, product_id: int | None) -> Stream:
    """Pin one of the stream's products for every viewer (None unpins)."""
    from ..selectors import product_card

    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True)
    if stream.status != S.LIVE:
        raise StreamNotLive(_("Products can be pinned only while the stream is live."))
    product = None
    if product_id is not None:
        product = stream.products.filter(pk=product_id, status=Product.Status.LISTED).first()
        if product is None:
            raise ValidationFailed(_("That product is not sold in this stream."),
                                   fields={"product": [str(_("Not one of this stream's listed products."))]})
    stream.pinned_product = product
    stream.save(update_fields=["pinned_product"])
    events.product_pinned(stream_id=stream.pk, product=product_card(product) if product else None)
    return stream


def stream_peak_record(*, stream_id: int, viewers: int) -> None:
    """Raise the recorded peak to ``viewers`` if it is higher (never lowers it; no read-modify-write)."""
    Stream.objects.filter(pk=stream_id, peak_viewers__lt=viewers).update(peak_viewers=viewers)


# --- the media server's hooks ---------------------------------------------------------------


def hook_authorized(*, secret: str | None, addr: str | None) -> bool:
    """The shared secret matches (constant time) and, if an allow-list is set, the caller is on it."""
    expected = settings.MEDIA_HOOK_SECRET
    if not expected or not secret:
        return False
    if not hmac.compare_digest(secret.encode(), expected.encode()):
        return False
    allowed = settings.MEDIA_HOOK_ALLOWED_ADDRS
    if allowed:
        try:
            ip = ipaddress.ip_address(addr or "")
        except ValueError:
            return False
        if not any(ip in ipaddress.ip_network(net, strict=False) for net in allowed):
            return False
    return True


@transaction.atomic
def stream_publish(*, key: str, app: str = "", encoder_addr: str | None = None) -> Stream:
    """An encoder starts pushing ``key``: the stream goes live (or resumes its ingest) or HookRefused.

    Refused: unknown key, another application, an ended or cancelled stream, a stream
    whose key is being pushed already, a shop that is not approved.
    """
    if app and app != settings.STREAM_INGEST_APP:
        raise HookRefused()
    stream = (Stream.objects.select_for_update(of=("self",)).select_related("merchant")
              .filter(stream_key=key).first()) if key else None
    if stream is None or stream.status in (S.ENDED, S.CANCELLED) or stream.ingest_active:
        raise HookRefused()
    if stream.merchant.status != Merchant.Status.APPROVED:
        raise HookRefused()
    if stream.status == S.SCHEDULED:
        _transition(stream, S.LIVE, reason="publish")
    stream.ingest_active = True
    stream.ingest_addr = _ip_or_none(encoder_addr)
    stream.save(update_fields=["ingest_active", "ingest_addr"])
    return stream


@transaction.atomic
def stream_unpublish(*, key: str) -> Stream | None:
    """The encoder of ``key`` stopped: a live stream with that ingest ends. None if nothing to do."""
    stream = (Stream.objects.select_for_update(of=("self",)).select_related("merchant")
              .filter(stream_key=key).first()) if key else None
    if stream is None or stream.status != S.LIVE or not stream.ingest_active:
        return None
    return _transition(stream, S.ENDED, reason="unpublish")


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


# --- housekeeping ---------------------------------------------------------------------------


def merchant_streams_stop(*, merchant_id: int, actor=None, reason: str = "merchant_suspended") -> int:
    """End the live streams and cancel the scheduled ones of a shop that may no longer sell.

    Runs when a suspension commits (livestream.receivers); the sweep catches any it missed.
    """
    done = 0
    ids = list(Stream.objects.filter(merchant_id=merchant_id, status__in=[S.SCHEDULED, S.LIVE])
               .values_list("pk", flat=True))
    for stream_id in ids:
        with transaction.atomic():
            stream = (Stream.objects.select_for_update(of=("self",)).select_related("merchant")
                      .filter(pk=stream_id).first())
            if stream is None or stream.status not in (S.SCHEDULED, S.LIVE):
                continue
            _transition(stream, S.ENDED if stream.status == S.LIVE else S.CANCELLED, actor=actor, reason=reason)
            done += 1
    return done


def streams_sweep(*, limit: int = 100) -> int:
    """Stop the streams of shops that are no longer approved (a bounded batch)."""
    merchant_ids = list(
        Stream.objects.filter(status__in=[S.SCHEDULED, S.LIVE])
        .exclude(merchant__status=Merchant.Status.APPROVED)
        .values_list("merchant_id", flat=True).distinct()[:limit]
    )
    return sum(merchant_streams_stop(merchant_id=mid) for mid in merchant_ids)


__all__ = [
    "STREAM_TRANSITIONS", "HookRefused", "StreamNotLive", "hook_authorized", "merchant_streams_stop",
    "stream_cancel", "stream_create", "stream_end", "stream_key_rotate", "stream_peak_record", "stream_pin",
    "stream_publish", "stream_start", "stream_unpublish", "stream_update", "streams_sweep",
]
