"""``Idempotency-Key`` for writes that create money-bearing objects.

A retry with the same key and body returns the first response and creates
nothing; the same key with another body answers 422; a request that arrives
while the first is still running answers 409. The key row is claimed by one
autocommit ``INSERT … ON CONFLICT DO NOTHING`` (so a concurrent duplicate sees it
at once), and the response is stored in the same transaction as the business
write, so the two can never disagree. A claim whose request died is taken over
after ``IDEMPOTENCY_IN_PROGRESS_TIMEOUT``.

A view that can render its answer before its write (the checkout) asks
``answer(request, status=…, data=…)`` for the row to write itself, in the same
statement as its own rows; the decorator then stores nothing more. Such a view
may be decorated ``@idempotent(atomic=False)``: no transaction is held around it
(its write is one statement, or opens its own transaction). Either way a key
whose answer was stored is never released or overwritten.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from .errors import Conflict, DomainError, error_body
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used with a different request.")


class IdempotencyKeyInProgress(Conflict):
    code = "idempotency_key_in_progress"
    default_message = _("A request with this Idempotency-Key is still being processed; retry shortly.")


def request_fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


@dataclass
class Claim:
    """This request's hold on its key (the row's id)."""

    pk: int
    answered: bool = False


@dataclass(frozen=True)
class Answer:
    """The first answer to store under a claimed key: ``body`` is its JSON text."""

    key_id: int
    status: int
    body: str

    def store(self) -> None:
        IdempotencyKey.objects.filter(pk=self.key_id).update(
            state=IdempotencyKey.State.DONE, response_status=self.status, response_body=json.loads(self.body))


def answer(request, *, status: int, data) -> Answer | None:
    """The answer the view will give, for the view to write with its own rows (None: no key).
    The view must then write it in the transaction of the request, or fail."""
    claim = getattr(request._request, "cunbo_idempotency_claim", None)
    if claim is None:
        return None
    claim.answered = True
    return Answer(key_id=claim.pk, status=status, body=DjangoJSONEncoder().encode(data))


def _claim_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("user_id", "key", "scope", "fingerprint", "state", "created_at",
                                            "locked_at"))
    return (f"INSERT INTO {quote(IdempotencyKey._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT ({quote('user_id')}, {quote('key')}) DO NOTHING RETURNING {quote('id')}")


def _claim(*, user, key: str, scope: str, fingerprint: str) -> Claim | Response:
    """Claim ``key`` for this request, or return the stored first response."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [user.pk, key, scope, fingerprint, IdempotencyKey.State.IN_PROGRESS, now, now])
        row = cursor.fetchone()
    if row is not None:
        return Claim(pk=row[0])
    with transaction.atomic():
        record = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
        if record.fingerprint != fingerprint or record.scope != scope:
            raise IdempotencyKeyReused()
        if record.state == IdempotencyKey.State.DONE:
            response = Response(record.response_body, status=record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        if now - record.locked_at < settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT:
            raise IdempotencyKeyInProgress()
        record.locked_at = now  # the first request died: take its claim over
        record.save(update_fields=["locked_at"])
        return Claim(pk=record.pk)


def _release(claim: Claim) -> None:
    """Forget a claim whose request gave no answer (a retry runs afresh); a stored answer stays."""
    def forget():
        IdempotencyKey.objects.filter(pk=claim.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()

    try:
        forget()
    except DatabaseError:
        if connection.in_atomic_block:
            raise
        # The request's connection died under it (killed, failover): forget on a fresh one, or the
        # claim would turn the client's retry away for IDEMPOTENCY_IN_PROGRESS_TIMEOUT.
        connection.close()
        forget()


def idempotent(view_method=None, *, atomic: bool = True):
    """Decorate a DRF view method (``def post(self, request, ...)``); see the module's docstring
    for ``atomic=False``."""
    if view_method is None:
        return functools.partial(idempotent, atomic=atomic)

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise DomainError(_("Idempotency-Key is longer than 255 characters."), code="invalid_idempotency_key")
        claimed = _claim(
            user=request.user,
            key=key,
            scope=f"{request.method} {request.path}",
            fingerprint=request_fingerprint(request),
        )
        if isinstance(claimed, Response):
            return claimed
        request._request.cunbo_idempotency_claim = claimed
        try:
            with transaction.atomic() if atomic else contextlib.nullcontext():
                response = view_method(self, request, *args, **kwargs)
                if response.status_code >= 500:
                    raise _Abandon(response)
                if not claimed.answered:
                    Answer(key_id=claimed.pk, status=response.status_code,
                           body=DjangoJSONEncoder().encode(response.data)).store()
                return response
        except _Abandon as abandon:
            _release(claimed)
            return abandon.response
        except DomainError as error:
            # A refusal is an answer too: store it, so a retry gets the same one.
            _store_error(claimed, error)
            raise
        except BaseException:
            _release(claimed)
            raise

    return wrapper


class _Abandon(Exception):
    def __init__(self, response):
        self.response = response


def _store_error(record: Claim, error: DomainError) -> None:
    if error.status >= 500 or isinstance(error, (IdempotencyKeyInProgress, IdempotencyKeyReused)):
        _release(record)
        return
    body = json.loads(DjangoJSONEncoder().encode(error_body(error.code, error.message, error.fields)))
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS).update(
        state=IdempotencyKey.State.DONE, response_status=error.status, response_body=body
    )


def purge_expired_keys() -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_TTL``; returns how many."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
