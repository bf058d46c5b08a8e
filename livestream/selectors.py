"""Reads of the live room, scoped by who asks."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.errors import NotFound
from merchants.models import Merchant

from . import events
from .models import ChatMessage, ChatMute, Offer, Stream
from .realtime.presence import viewer_counts


def _is_owner(user, stream: Stream) -> bool:
    return bool(user and user.is_authenticated and stream.merchant.user_id == user.pk)


def streams_visible_to(user) -> QuerySet[Stream]:
    """Anyone sees approved shops' streams; an owner also sees its own, an operator those of its
    county's shops, an admin all. Anything else answers 404, like a missing stream."""
    qs = Stream.objects.all()
    if user and user.is_authenticated and user.is_platform_admin:
        return qs
    visible = Q(merchant__status=Merchant.Status.APPROVED)
    if user and user.is_authenticated:
        visible |= Q(merchant__user_id=user.pk)
        if user.is_operator and user.county_id:
            visible |= Q(merchant__county_id=user.county_id)
    return qs.filter(visible)


def stream_list(*, user, status: str | None = None, merchant: int | None = None,
                mine: bool = False) -> QuerySet[Stream]:
    qs = streams_visible_to(user).select_related("merchant", "pinned_product")
    if mine:
        qs = qs.filter(merchant__user_id=user.pk if user and user.is_authenticated else -1)
    if status:
        qs = qs.filter(status=status)
    elif not mine:
        qs = qs.exclude(status=Stream.Status.CANCELLED)
    if merchant:
        qs = qs.filter(merchant_id=merchant)
    if status == Stream.Status.LIVE:
        return qs.order_by("-started_at", "-pk")
    if status == Stream.Status.SCHEDULED:
        return qs.order_by("scheduled_at", "pk")
    return qs.order_by("-scheduled_at", "-pk")


def stream_detail(*, user, stream_id: int) -> Stream:
    stream = (
        streams_visible_to(user)
        .select_related("merchant", "pinned_product")
        .prefetch_related(
            Prefetch("products", queryset=Product.objects.order_by("pk")),
            Prefetch("offers", queryset=Offer.objects.filter(status=Offer.Status.LIVE).select_related("product")
                     .order_by("ends_at", "pk"), to_attr="live_offers"),
        )
        .filter(pk=stream_id)
        .first()
    )
    if stream is None:
        raise NotFound(_("No such stream."))
    stream.viewer_count = viewer_counts([stream.pk])[stream.pk] if stream.status == Stream.Status.LIVE else 0
    stream.is_owner = _is_owner(user, stream)
    stream.totals = stream_totals(stream=stream) if stream.status == Stream.Status.ENDED else None
    return stream


def stream_visible(*, user, stream_id: int) -> Stream:
    stream = streams_visible_to(user).select_related("merchant").filter(pk=stream_id).first()
    if stream is None:
        raise NotFound(_("No such stream."))
    return stream


StreamSales = Callable[..., dict]  # reader(stream_id=, merchant_id=) -> {orders, units, gmv}
_sales_reader: StreamSales | None = None


def stream_sales_reader_register(reader: StreamSales) -> None:
    """The app that sells (orders) tells the live room how to read a stream's paid sales, so the
    room imports nothing above it."""
    global _sales_reader
    _sales_reader = reader


def stream_totals(*, stream: Stream) -> dict:
    """Peak viewers, chat lines, and the paid orders placed from the stream with this shop."""
    sales = (_sales_reader(stream_id=stream.pk, merchant_id=stream.merchant_id) if _sales_reader
             else {"orders": 0, "units": 0, "gmv": Decimal("0.00")})
    return {
        "peak_viewers": stream.peak_viewers,
        "chat_messages": ChatMessage.objects.filter(stream_id=stream.pk, deleted=False).count(),
        **sales,
    }


def stream_viewer_counts(streams) -> dict[int, int]:
    return viewer_counts([s.pk for s in streams if s.status == Stream.Status.LIVE])


def chat_messages(*, user, stream_id: int) -> QuerySet[ChatMessage]:
    stream_visible(user=user, stream_id=stream_id)
    return (ChatMessage.objects.filter(stream_id=stream_id, deleted=False)
            .select_related("user", "stream__merchant").order_by("-created_at", "-pk"))


def chat_mutes(*, user, stream_id: int) -> QuerySet[ChatMute]:
    from .services._common import owned_stream

    owned_stream(stream_id=stream_id, actor=user, allow_admin=True)
    return ChatMute.objects.filter(stream_id=stream_id).select_related("user").order_by("-created_at", "-pk")


def stream_offers(*, user, stream_id: int) -> QuerySet[Offer]:
    stream_visible(user=user, stream_id=stream_id)
    return Offer.objects.filter(stream_id=stream_id).select_related("product").order_by("-starts_at", "-pk")


# --- the room's payloads ----------------------------------------------------------------------


def product_card(product: Product) -> dict:
    return {"product": product.pk, "title": product.title, "price": product.price, "unit": product.unit,
            "stock": product.stock}


def offer_payload(offer: Offer) -> dict:
    return {"offer": offer.pk, "remaining": offer.remaining, "product": offer.product_id,
            "title": offer.product.title, "price": offer.price, "quantity": offer.quantity,
            "per_buyer_limit": offer.per_buyer_limit, "ends_at": offer.ends_at}


def room_snapshot_frames(stream_id: int) -> list[str]:
    """What a socket is told when it joins: status, the pinned product, the live offers."""
    stream = Stream.objects.select_related("pinned_product").filter(pk=stream_id).first()
    if stream is None:
        return []
    frames = [events.frame("stream.status", status=stream.status)]
    if stream.status == Stream.Status.LIVE:
        if stream.pinned_product is not None:
            frames.append(events.frame("product.pinned", **product_card(stream.pinned_product)))
        offers = Offer.objects.filter(stream_id=stream_id, status=Offer.Status.LIVE).select_related("product")
        frames += [events.frame("offer.started", **offer_payload(o)) for o in offers.order_by("ends_at", "pk")]
    return frames


def room_info(stream_id: int) -> dict | None:
    """What the consumer needs to know about a stream at connect (None: no such stream)."""
    row = (Stream.objects.filter(pk=stream_id)
           .values("pk", "merchant__user_id", "merchant__status").first())
    if row is None or row["merchant__status"] != Merchant.Status.APPROVED:
        return None
    return {"id": row["pk"], "owner_id": row["merchant__user_id"]}
