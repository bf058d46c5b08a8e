"""The pages people use, server-rendered: thin views over the apps' selectors and services, exactly
as the API's views are (the same role rules, the same writes; no rule of their own)."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import GuardedAuthenticationForm
from accounts.tokens import access_token_for
from catalog import selectors as catalog
from core.errors import DomainError, NotFound
from livestream import selectors as live
from livestream import services as live_services
from livestream.models import Offer, Stream
from livestream.serializers import playback_url
from livestream.services.chat import chat_payload
from merchants import selectors as merchants
from merchants import services as merchant_services
from regions.selectors import region_list

from .forms import OfferForm, PinForm

HOME_STREAMS = 12
HOME_PRODUCTS = 20
CHAT_HISTORY = 30


def page(view):
    """A page view: a refusal of the services (a foreign or hidden object: 404) is a page in the
    person's language, never the API's JSON nor a leak of what exists."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return render(request, "pages/error.html", {"error": error}, status=error.status)

    return wrapped


class SignInView(auth_views.LoginView):
    """Sign in to a Django session (the pages); the same login guard as the API's token."""

    template_name = "pages/sign_in.html"
    authentication_form = GuardedAuthenticationForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    next_page = "pages:home"


@require_GET
@page
def home(request):
    search = request.GET.get("q", "").strip()[:100]
    products = catalog.product_list(filters=catalog.ProductFilters(search=search))[:HOME_PRODUCTS]
    if request.htmx:  # the search box asks for the results only
        return render(request, "pages/_products.html", {"products": products, "search": search})
    streams_live = list(live.stream_list(user=request.user, status=Stream.Status.LIVE)[:HOME_STREAMS])
    upcoming = list(live.stream_list(user=request.user, status=Stream.Status.SCHEDULED)[:HOME_STREAMS])
    return render(request, "pages/home.html", {
        "search": search, "products": products, "streams_live": streams_live, "upcoming": upcoming,
        "viewers": live.stream_viewer_counts(streams_live),
        "followed": merchants.followed_merchants(user=request.user)[:HOME_STREAMS],
    })


def _product_context(request, product) -> dict:
    following = (request.user.is_authenticated
                 and merchants.followed_merchants(user=request.user).filter(pk=product.merchant_id).exists())
    return {"product": product, "shop": product.merchant, "following": following,
            "followers": merchant_services.followers_count(merchant_id=product.merchant_id)}


@require_GET
@page
def product_page(request, pk: int):
    product = catalog.product_get_visible(product_id=pk, user=request.user)
    return render(request, "pages/product.html", {
        **_product_context(request, product),
        "evidence": catalog.claim_evidence(product=product),
        "batch": catalog.batches_of(product=product).first(),
    })


@require_POST
@page
def shop_follow(request, pk: int):
    """Follow the product's shop, or stop (``following=0``): the API's follow services."""
    product = catalog.product_get_visible(product_id=pk, user=request.user)
    if not request.user.is_authenticated:
        return render(request, "pages/_follow.html", {**_product_context(request, product), "sign_in": True})
    if request.POST.get("following") == "0":
        merchant_services.follow_delete(user=request.user, merchant_id=product.merchant_id)
    else:
        merchant_services.follow_create(user=request.user, merchant_id=product.merchant_id)
    return render(request, "pages/_follow.html", _product_context(request, product))


@require_GET
@page
def trace_page(request, code: str):
    """What the QR on a box opens: origin, farm, harvest, inspection and the credential behind each
    claim, in plain words (the JSON API's /api/trace/{code}/ tells the same to programs)."""
    batch = catalog.batch_get_by_code(code=code)
    product = batch.product
    return render(request, "pages/trace.html", {
        "batch": batch, "product": product, "shop": product.merchant,
        "evidence": catalog.claim_evidence(product=product, batch=batch),
        "images": list(product.images.order_by("position", "pk")),
    })


@require_GET
@page
def live_room(request, pk: int):
    """The live room: the HLS player, chat over /ws/streams/{id}/ (docs/live-room.md), the pinned
    product, the flash offers and the buy button (the API's checkout with an Idempotency-Key)."""
    stream = live.stream_detail(user=request.user, stream_id=pk)
    signed_in = request.user.is_authenticated
    history = list(live.chat_messages(user=request.user, stream_id=pk)[:CHAT_HISTORY])
    room = {
        "stream": stream.pk, "status": stream.status, "playback": playback_url(stream),
        "socket": f"/ws/streams/{stream.pk}/",
        # A short-lived access token of the signed-in user, for the socket's ``auth`` frame and the API's
        # checkout: the page signs in with its session, the socket and the API with a bearer token.
        "token": access_token_for(request.user) if signed_in else None,
        "buyer": signed_in and request.user.is_consumer,
        "history": [chat_payload(m, user=m.user, host=m.user_id == stream.merchant.user_id)
                    for m in reversed(history)],
        "offers": [live.offer_payload(o) for o in live.stream_offers(user=request.user, stream_id=pk)
                   .filter(status=Offer.Status.LIVE)],
        "pinned": live.product_card(stream.pinned_product) if stream.pinned_product else None,
    }
    return render(request, "pages/live.html", {
        "stream": stream, "room": room,
        "viewers": live.stream_viewer_counts([stream]).get(stream.pk, 0),
        "totals": live.stream_totals(stream=stream) if stream.status == Stream.Status.ENDED else None,
        "villages": region_list(level="village", county=stream.merchant.county_id)[:200] if room["buyer"] else [],
    })


# --- the farmer's console ----------------------------------------------------------------------


@require_GET
@login_required
@page
def console(request):
    """The shop's streams (a user without a shop sees none: the list is scoped as the API's ``mine``)."""
    streams = live.stream_list(user=request.user, mine=True)[:50]
    return render(request, "pages/console.html", {"streams": streams})


def _owned_stream(request, pk: int):
    stream = live.stream_detail(user=request.user, stream_id=pk)
    if not stream.is_owner:  # another shop's stream: the same 404 as a missing one
        raise NotFound()
    return stream


def _console_stream(request, stream, *, pin=None, offer=None, status=200, refusal=None):
    return render(request, "pages/console_stream.html", {
        "stream": stream, "ingest_url": settings.STREAM_INGEST_URL, "refusal": refusal,
        "pin_form": pin or PinForm(stream=stream, initial={"product": stream.pinned_product_id}),
        "offer_form": offer or OfferForm(stream=stream),
    }, status=status)


@require_GET
@login_required
@page
def console_stream(request, pk: int):
    return _console_stream(request, _owned_stream(request, pk))


def _refused(form, error: DomainError) -> None:
    """The service's refusal next to the fields it names (else above the form), in the page's language."""
    fields = {name: msgs for name, msgs in (getattr(error, "fields", None) or {}).items() if name in form.fields}
    for name, messages in fields.items():
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(name, str(message))
    if not fields:
        form.add_error(None, str(error.message))


ACTIONS = {
    "start": lambda request, stream: live_services.stream_start(stream_id=stream.pk, actor=request.user),
    "end": lambda request, stream: live_services.stream_end(stream_id=stream.pk, actor=request.user),
    "rotate-key": lambda request, stream: live_services.stream_key_rotate(stream_id=stream.pk, actor=request.user),
}


@require_POST
@login_required
@page
def console_action(request, pk: int, action: str):
    """Go live by hand, end the stream, rotate the key: the API's services, nothing else."""
    stream = _owned_stream(request, pk)
    if action not in ACTIONS:
        raise NotFound()
    try:
        ACTIONS[action](request, stream)
    except DomainError as error:
        return _console_stream(request, stream, status=error.status, refusal=error.message)
    return redirect("pages:console-stream", pk=pk)


def _console_form(request, pk: int, form_class, slot: str, write):
    """Parse a console form, hand it to ``write`` (one service call), or show the form again with the
    refusal next to its field and what was typed kept (nothing changed)."""
    stream = _owned_stream(request, pk)
    form = form_class(request.POST, stream=stream)
    status = 400
    if form.is_valid():
        try:
            write(form.cleaned_data)
            return redirect("pages:console-stream", pk=pk)
        except DomainError as error:
            _refused(form, error)
            status = error.status
    return _console_stream(request, stream, status=status, **{slot: form})


@require_POST
@login_required
@page
def console_pin(request, pk: int):
    return _console_form(request, pk, PinForm, "pin", lambda data: live_services.stream_pin(
        stream_id=pk, actor=request.user, product_id=data["product"]))


@require_POST
@login_required
@page
def console_offer(request, pk: int):
    return _console_form(request, pk, OfferForm, "offer", lambda data: live_services.offer_start(
        stream_id=pk, actor=request.user, product_id=data["product"], price=data["price"],
        quantity=data["quantity"], duration_s=data["duration_s"], per_buyer_limit=data["per_buyer_limit"]))


@require_POST
@login_required
@page
def console_offer_end(request, pk: int, offer_id: int):
    live_services.offer_cancel(stream_id=pk, offer_id=offer_id, actor=request.user)
    return redirect("pages:console-stream", pk=pk)
