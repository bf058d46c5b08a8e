"""Alipay's open platform (支付宝开放平台, public-key mode, RSA2) behind the provider protocol.

Written against Alipay's published open-platform documents (opendocs.alipay.com); each part names
the document it follows, so a maintainer can hold it against the current version:

- [SIGN]    "自行实现签名" / "生成签名": the request's parameters except ``sign``, empty values left
            out, sorted by name, joined ``k=v`` with ``&`` (values not URL-encoded), signed
            SHA256withRSA (``sign_type=RSA2``) by the app's private key, base64.
- [COMMON]  "公共请求参数": ``app_id, method, format=JSON, charset=utf-8, sign_type=RSA2, timestamp
            (yyyy-MM-dd HH:mm:ss, China time), version=1.0, notify_url, biz_content`` (JSON).
- [RESPONSE] "同步响应验签": the answer is ``{"<method with _ for .>_response": {...}, "sign": ".."}``;
            the signature is over the exact text of the response object as sent.
            ``code`` 10000 is success; 40004 a business failure with ``sub_code``; 20000 service unavailable.
- [PAGE] ``alipay.trade.page.pay`` (FAST_INSTANT_TRADE_PAY), [WAP] ``alipay.trade.wap.pay``
            (QUICK_WAP_WAY), [APP] ``alipay.trade.app.pay`` (QUICK_MSECURITY_PAY): signed parameters the
            browser is sent to (the gateway URL with them) or the app SDK takes (the order string).
- [QUERY]   ``alipay.trade.query`` (``trade_status``: WAIT_BUYER_PAY, TRADE_CLOSED, TRADE_SUCCESS,
            TRADE_FINISHED; ``ACQ.TRADE_NOT_EXIST``).
- [REFUND]  ``alipay.trade.refund`` (``out_request_no`` makes it idempotent; ``fund_change=Y``: the
            money moved) and ``alipay.trade.fastpay.refund.query`` (``refund_status=REFUND_SUCCESS``).
- [NOTIFY]  "异步通知" / "异步通知验签": a form POST; ``sign`` and ``sign_type`` left out, the rest
            sorted and joined as in [SIGN], verified with Alipay's public key; we must check
            ``app_id``, ``seller_id``, ``total_amount`` (against our payment) and ``trade_status``, and
            answer the text ``success`` (anything else and Alipay sends it again, for up to 25 hours).

Why not ``python-alipay-sdk`` (``alipay`` on PyPI) or Alipay's ``alipay-sdk-python``: the first
signs and verifies the same way but needs ``pycryptodomex`` and keeps the sorting and the response
extraction in one client class without a base URL for stand-ins per method; the second is a large
generated SDK. The protocol needs about 120 lines over ``cryptography``, which the project already
has; so it is implemented here directly.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import ChannelExchange
from . import ChargeRequest, ProviderCharge, ProviderPaymentStatus, ProviderRefund, WebhookNotice
from .channel import (
    BadChannelSignature,
    ChannelRefused,
    ChannelUnavailable,
    ForeignNotice,
    MalformedNotice,
    StaleChannelSignature,
    exchange_record,
    http_send,
    out_no,
    parse_out_no,
    parse_yuan,
    private_key,
    public_key,
    rsa_sign,
    rsa_verify,
    yuan_text,
)

NAME = "alipay"
CHINA = ZoneInfo("Asia/Shanghai")
OUT = ChannelExchange.Direction.OUT
PAY_METHODS = {"page": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
               "wap": ("alipay.trade.wap.pay", "QUICK_WAP_WAY"),
               "app": ("alipay.trade.app.pay", "QUICK_MSECURITY_PAY")}
TRADE_STATUSES = {"TRADE_SUCCESS": "succeeded", "TRADE_FINISHED": "succeeded", "WAIT_BUYER_PAY": "pending",
                  "TRADE_CLOSED": "failed"}
# [NOTIFY]: Alipay resends an unanswered notice for up to 25 hours (its schedule: 4m, 10m, 10m, 1h,
# 2h, 6h, 15h); a notify_time older than this, or ahead of our clock by more than 5 minutes, is refused.
NOTICE_MAX_AGE = timedelta(hours=26)
NOTICE_MAX_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class Config:
    app_id: str
    seller_id: str
    private_key: object
    public_key: object
    notify_url: str
    return_url: str
    gateway_url: str


def config() -> Config:
    c = settings.ALIPAY
    return _config(c["app_id"], c["seller_id"], c["private_key"], c["public_key"], c["notify_url"],
                   c["return_url"], c["gateway_url"])


@lru_cache(maxsize=8)
def _config(app_id, seller_id, key, alipay_key, notify_url, return_url, gateway_url) -> Config:
    return Config(app_id=app_id, seller_id=seller_id, private_key=private_key(key), public_key=public_key(alipay_key),
                  notify_url=notify_url, return_url=return_url, gateway_url=gateway_url)


def sign_content(params: dict) -> bytes:
    """[SIGN] / [NOTIFY] The text that is signed: sorted ``k=v`` pairs, no ``sign``/empty values."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v not in ("", None)).encode()


def signed_params(cfg: Config, method: str, biz: dict, *, now: datetime | None = None, **extra) -> dict:
    """[COMMON] + [SIGN] The request's parameters with their ``sign``."""
    now = (now or timezone.now()).astimezone(CHINA)
    params = {"app_id": cfg.app_id, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
              "timestamp": now.strftime("%Y-%m-%d %H:%M:%S"), "version": "1.0",
              "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))} | {
                  k: v for k, v in extra.items() if v}
    params["sign"] = rsa_sign(cfg.private_key, sign_content(params))
    return params


def response_text(body: str, node: str) -> str | None:
    """[RESPONSE] The exact text of ``node``'s object in the answer (what the signature covers)."""
    marker = f'"{node}"'
    at = body.find(marker)
    if at < 0:
        return None
    start = body.index(":", at + len(marker)) + 1
    while body[start].isspace():
        start += 1
    try:
        _value, end = json.JSONDecoder().raw_decode(body, start)
    except ValueError:
        return None
    return body[start:end]


def _call(cfg: Config, method: str, biz: dict, *, payment_id: int, refund_id: int | None = None) -> dict:
    """One gateway call; the verified response object. Unreachable, 5xx or code 20000:
    ChannelUnavailable; a business failure is returned (``code`` ≠ 10000) for the caller to read."""
    params = signed_params(cfg, method, biz)
    node = method.replace(".", "_") + "_response"
    log = {k: v for k, v in params.items()}
    response = http_send(provider=NAME, method="POST", url=cfg.gateway_url,
                         headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                         content=urllib.parse.urlencode(params).encode(), operation=method, request_log=log,
                         payment_id=payment_id, refund_id=refund_id)
    text = response.content.decode("utf-8", "replace")

    def record(answer, outcome: str):
        exchange_record(provider=NAME, direction=OUT, operation=method, request=log, response=answer,
                        status_code=response.status_code, outcome=outcome, payment_id=payment_id,
                        refund_id=refund_id)

    if response.status_code >= 500:
        record(text[:2000], "unavailable")
        raise ChannelUnavailable()
    signed = response_text(text, node)
    try:
        envelope = json.loads(text)
        answer = envelope[node]
        signature = str(envelope.get("sign") or "")
    except (ValueError, KeyError, TypeError):
        envelope = None
    if envelope is None or signed is None:
        record(text[:2000], "unreadable")
        if response_text(text, "error_response") is not None:  # the gateway refused us (e.g. a bad sign)
            raise ChannelRefused(_("Alipay refused the request: %(answer)s") % {"answer": text[:200]})
        raise ChannelUnavailable()
    if not rsa_verify(cfg.public_key, signed.encode(), signature):
        record(envelope, "answer refused: invalid_signature")
        raise ChannelUnavailable()  # an unverifiable answer is no answer; ask again
    code = str(answer.get("code", ""))
    record(envelope, "ok" if code == "10000" else f"{code} {answer.get('sub_code', '')}")
    if code == "20000":
        raise ChannelUnavailable()
    return answer


class AlipayProvider:
    name = NAME

    def create_charge(self, *, payment, request: ChargeRequest | None = None) -> ProviderCharge:
        """[PAGE] / [WAP] / [APP]: signed here, no call to Alipay (the buyer's browser or app makes it)."""
        request = request or ChargeRequest()
        cfg = config()
        method = request.method or "page"
        if method not in PAY_METHODS:
            raise ChannelRefused(_("Alipay pays by page, wap or app."), code="invalid_method", status=400)
        api, product = PAY_METHODS[method]
        deadline = payment.order.payment_deadline.astimezone(CHINA)
        biz = {"out_trade_no": out_no(payment.pk), "total_amount": yuan_text(payment.amount),
               "subject": f"Cunbo order {payment.order_id}", "product_code": product,
               "time_expire": deadline.strftime("%Y-%m-%d %H:%M:%S")}
        params = signed_params(cfg, api, biz, notify_url=cfg.notify_url,
                               return_url=cfg.return_url if method != "app" else "")
        query = urllib.parse.urlencode(params)
        client = {"provider": NAME, "method": method, "out_trade_no": out_no(payment.pk)}
        if method == "app":
            client["order_string"] = query
        else:
            client["url"] = f"{cfg.gateway_url}?{query}"
        exchange_record(provider=NAME, direction=OUT, operation=api, request=params, outcome="signed for the client",
                        payment_id=payment.pk)
        return ProviderCharge(reference=out_no(payment.pk), client_params=client)

    def query_payment(self, *, payment) -> ProviderPaymentStatus:
        answer = _call(config(), "alipay.trade.query", {"out_trade_no": out_no(payment.pk)}, payment_id=payment.pk)
        if answer.get("code") != "10000":
            return ProviderPaymentStatus(status="unknown")  # ACQ.TRADE_NOT_EXIST and other business failures
        status = TRADE_STATUSES.get(answer.get("trade_status"), "unknown")
        paid = status == "succeeded"
        return ProviderPaymentStatus(
            status=status, amount=parse_yuan(answer.get("total_amount")) if paid else None, currency="CNY",
            reference=str(answer.get("trade_no") or ""),
            paid_at=_china_time(answer.get("send_pay_date")) if paid else None)

    def refund(self, *, payment, amount: Decimal, refund_id: int) -> ProviderRefund:
        answer = _call(config(), "alipay.trade.refund",
                       {"out_trade_no": out_no(payment.pk), "refund_amount": yuan_text(amount),
                        "out_request_no": out_no(refund_id), "refund_reason": "Cunbo refund"},
                       payment_id=payment.pk, refund_id=refund_id)
        reference = str(answer.get("trade_no") or "")
        if answer.get("code") != "10000":
            return ProviderRefund(reference=reference, succeeded=False,
                                  error=f"Alipay {answer.get('code')} {answer.get('sub_code', '')}")
        if answer.get("fund_change") == "Y":
            return ProviderRefund(reference=f"{reference}:{out_no(refund_id)}", succeeded=True)
        return ProviderRefund(reference=f"{reference}:{out_no(refund_id)}", succeeded=False, pending=True)

    def query_refund(self, *, payment, refund_id: int) -> ProviderRefund:
        answer = _call(config(), "alipay.trade.fastpay.refund.query",
                       {"out_trade_no": out_no(payment.pk), "out_request_no": out_no(refund_id)},
                       payment_id=payment.pk, refund_id=refund_id)
        reference = f"{answer.get('trade_no') or ''}:{out_no(refund_id)}"
        if answer.get("code") == "10000" and answer.get("refund_amount"):
            if answer.get("refund_status") in (None, "", "REFUND_SUCCESS"):
                return ProviderRefund(reference=reference, succeeded=True)
            return ProviderRefund(reference=reference, succeeded=False, pending=True)
        # No refund by that out_request_no: it never reached Alipay; send it again.
        return ProviderRefund(reference="", succeeded=False, error=f"Alipay {answer.get('sub_code') or 'no refund'}")

    def parse_webhook(self, *, headers, body: bytes) -> WebhookNotice:
        """[NOTIFY] Verified, then checked to be ours (app_id, seller_id); the amount is checked
        against the payment by the common path (``notice_apply``)."""
        cfg = config()
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                                           max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            raise MalformedNotice() from None
        data = dict(pairs)
        if len(data) != len(pairs) or any("\x00" in v for v in data.values()):
            raise MalformedNotice()
        signature = data.get("sign", "")
        if data.get("sign_type") != "RSA2" or not signature:
            raise BadChannelSignature()
        content = {k: v for k, v in data.items() if k not in ("sign", "sign_type")}
        if not rsa_verify(cfg.public_key, sign_content(content), signature):
            raise BadChannelSignature()
        sent = _china_time(data.get("notify_time"))
        if sent is None:
            raise MalformedNotice()
        now = timezone.now()
        if sent < now - NOTICE_MAX_AGE or sent > now + NOTICE_MAX_AHEAD:
            raise StaleChannelSignature()
        if data.get("app_id") != cfg.app_id or data.get("seller_id") != cfg.seller_id:
            raise ForeignNotice()
        status = TRADE_STATUSES.get(data.get("trade_status", ""))
        notify_id = data.get("notify_id", "")
        if data.get("notify_type") != "trade_status_sync" or status is None or not notify_id or len(notify_id) > 100:
            raise MalformedNotice()
        return WebhookNotice(event_id=notify_id, type=f"payment.{status}",
                             payment_id=parse_out_no(data.get("out_trade_no")),
                             amount=parse_yuan(data.get("total_amount")), currency="CNY",
                             reference=data.get("trade_no", ""), raw=content)


def _china_time(text) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None
