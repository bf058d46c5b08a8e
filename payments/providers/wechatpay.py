"""WeChat Pay API v3 (微信支付 APIv3, direct merchant / 直连商户) behind the provider protocol.

Written against WeChat Pay's published APIv3 documents (pay.weixin.qq.com, "APIv3 文档"); each
part names the document it follows, so a maintainer can hold it against the current version:

- [SIGN]    "签名生成": every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,
            nonce_str=..,signature=..,timestamp=..,serial_no=..``; the signature is SHA256withRSA
            by the merchant's API private key over ``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n``.
- [VERIFY]  "签名验证": every answer and notice carries ``Wechatpay-Timestamp``, ``-Nonce``,
            ``-Signature``, ``-Serial``; SHA256withRSA by the platform certificate named by the serial
            over ``timestamp\\nnonce\\nbody\\n``. Timestamps more than 5 minutes off are refused (the
            document's advice against replays), and so are probe signatures (``WECHATPAY/SIGNTEST/``).
- [CERTS]   "下载平台证书" ``GET /v3/certificates``: the certificates, each encrypted as below; they
            are stored (``WechatPayCertificate``) and refreshed by a beat task and whenever a notice
            names an unknown serial (rotation: old and new overlap, both are kept while valid).
- [DECRYPT] "证书和回调报文解密": AEAD_AES_256_GCM under the APIv3 key, the resource's ``nonce`` and
            ``associated_data``.
- [JSAPI]   "JSAPI下单" ``POST /v3/pay/transactions/jsapi`` → ``prepay_id``; "JSAPI调起支付": the
            bundle ``appId, timeStamp, nonceStr, package=prepay_id=.., signType=RSA, paySign`` with
            paySign = SHA256withRSA over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``.
- [H5]      "H5下单" ``POST /v3/pay/transactions/h5`` (``scene_info.payer_client_ip``, ``h5_info``) → ``h5_url``.
- [NATIVE]  "Native下单" ``POST /v3/pay/transactions/native`` → ``code_url`` (the QR's content).
- [QUERY]   "查询订单" ``GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=``; ``trade_state``.
- [NOTIFY]  "支付通知" (``TRANSACTION.SUCCESS``) and "退款结果通知" (``REFUND.SUCCESS``, ``REFUND.ABNORMAL``,
            ``REFUND.CLOSED``): the envelope ``{id, create_time, event_type, resource_type, resource}``.
- [REFUND]  "退款申请" ``POST /v3/refund/domestic/refunds`` and "查询单笔退款"
            ``GET /v3/refund/domestic/refunds/{out_refund_no}``; ``status`` SUCCESS | PROCESSING |
            CLOSED | ABNORMAL.

Why not the ``wechatpayv3`` package: it signs and decrypts as above, but keeps platform
certificates in a local directory per process and fetches them from its constructor (a network
call at import time for every worker), answers ``(code, text)`` tuples instead of raising, and
uses ``requests``; what we need of it is about 150 lines over ``cryptography``, which the project
already depends on. The glue below is that part, with the certificates in the database.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from core.text import MalformedInput, TextRefused, load_json

from ..models import ChannelExchange, WechatPayCertificate
from . import ChargeRequest, ProviderCharge, ProviderPaymentStatus, ProviderRefund, WebhookNotice
from .channel import (
    BadChannelSignature,
    ChannelRefused,
    ChannelUnavailable,
    ForeignNotice,
    MalformedNotice,
    StaleChannelSignature,
    exchange_record,
    fen_to_yuan,
    http_send,
    out_no,
    parse_out_no,
    private_key,
    rsa_sign,
    rsa_verify,
    yuan_to_fen,
)

NAME = "wechatpay"
SCHEMA = "WECHATPAY2-SHA256-RSA2048"
TOLERANCE_S = 300  # [VERIFY]: 5 minutes
METHODS = ("jsapi", "h5", "native")
OUT = ChannelExchange.Direction.OUT
# [QUERY] trade_state → ours. REFUND: it was paid (and later refunded by us): a success for the payment.
TRADE_STATES = {"SUCCESS": "succeeded", "REFUND": "succeeded", "NOTPAY": "pending", "USERPAYING": "pending",
                "CLOSED": "failed", "REVOKED": "failed", "PAYERROR": "failed"}
REFUND_EVENTS = {"REFUND.SUCCESS": "refund.succeeded", "REFUND.ABNORMAL": "refund.failed",
                 "REFUND.CLOSED": "refund.failed"}


@dataclass(frozen=True)
class Config:
    mchid: str
    appid: str
    apiv3_key: bytes
    private_key: object
    cert_serial: str
    notify_url: str
    base_url: str


def config() -> Config:
    c = settings.WECHATPAY
    return _config(c["mchid"], c["appid"], c["apiv3_key"], c["private_key"], c["cert_serial"], c["notify_url"],
                   c["base_url"])


@lru_cache(maxsize=8)
def _config(mchid, appid, apiv3_key, key, serial, notify_url, base_url) -> Config:
    return Config(mchid=mchid, appid=appid, apiv3_key=apiv3_key.encode(), private_key=private_key(key),
                  cert_serial=serial.upper(), notify_url=notify_url, base_url=base_url.rstrip("/"))


def nonce() -> str:
    return secrets.token_hex(16).upper()


def authorization(cfg: Config, method: str, path: str, body: str, *, timestamp: int | None = None,
                  nonce_str: str | None = None) -> str:
    """[SIGN] The Authorization header of one request (``path`` with its query string)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce_str = nonce_str or nonce()
    signature = rsa_sign(cfg.private_key, f"{method}\n{path}\n{timestamp}\n{nonce_str}\n{body}\n".encode())
    return (f'{SCHEMA} mchid="{cfg.mchid}",nonce_str="{nonce_str}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{cfg.cert_serial}"')


def decrypt(cfg: Config, resource: dict) -> bytes:
    """[DECRYPT] AEAD_AES_256_GCM of a notice's resource or a certificate."""
    try:
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise ValueError
        return AESGCM(cfg.apiv3_key).decrypt(str(resource["nonce"]).encode(),
                                             base64.b64decode(str(resource["ciphertext"]), validate=True),
                                             str(resource.get("associated_data") or "").encode())
    except (InvalidTag, ValueError, KeyError, TypeError, AttributeError):
        raise BadChannelSignature(_("The notice's resource does not decrypt under the APIv3 key.")) from None


# [CERTS] Platform certificates: the database is the truth shared by every process; each process
# keeps the public keys it has read.
_KEYS: dict[str, tuple[object, datetime]] = {}
_LAST_REFRESH = [-1e9]
REFRESH_COOLDOWN_S = 60


def _known_key(serial: str):
    now = timezone.now()
    cached = _KEYS.get(serial)
    if cached is None:
        record = WechatPayCertificate.objects.filter(serial_no=serial).first()
        if record is None:
            return None
        cached = _KEYS[serial] = (x509.load_pem_x509_certificate(record.pem.encode()).public_key(), record.expires_at)
    key, expires_at = cached
    return key if expires_at > now else None


def certificates_refresh() -> list[str]:
    """[CERTS] Download the platform certificates and store the valid ones; returns their serials.

    The answer is signed by one of the certificates it lists. The first download has nothing to
    check that signature against; what vouches for it then is that each certificate decrypts
    under the APIv3 key (AEAD: only WeChat Pay and we hold that key), as the document says."""
    cfg = config()
    answer, headers, body = _call(cfg, "GET", "/v3/certificates", None, operation="GET /v3/certificates",
                                  signed=False)
    try:
        items = [(str(item["serial_no"]).upper(), decrypt(cfg, item["encrypt_certificate"]).decode(),
                  parse_datetime(item["effective_time"]), parse_datetime(item["expire_time"]))
                 for item in answer["data"]]
    except (KeyError, TypeError, UnicodeDecodeError):
        raise ChannelRefused(_("WeChat Pay's certificate list is not in the documented format.")) from None
    downloaded = {}
    for serial, pem, effective_at, expires_at in items:
        cert = x509.load_pem_x509_certificate(pem.encode())
        if f"{cert.serial_number:X}" != serial.lstrip("0") or effective_at is None or expires_at is None:
            raise ChannelRefused(_("A WeChat Pay certificate does not match its serial number."))
        downloaded[serial] = cert.public_key()
    signer = headers.get("Wechatpay-Serial", "").upper()
    key = _known_key(signer) or downloaded.get(signer)
    if key is None or not _verify_signature(key, headers, body):
        raise BadChannelSignature(_("WeChat Pay's certificate list is not signed by a certificate we know."))
    # One upsert: processes refreshing at once (a rotation seen by several workers) do not collide.
    WechatPayCertificate.objects.bulk_create(
        [WechatPayCertificate(serial_no=serial, pem=pem, effective_at=effective_at, expires_at=expires_at)
         for serial, pem, effective_at, expires_at in items],
        update_conflicts=True, unique_fields=["serial_no"], update_fields=["pem", "effective_at", "expires_at"])
    for serial, *_rest in items:
        _KEYS.pop(serial, None)
    return sorted(downloaded)


def _verify_signature(key, headers, body: bytes) -> bool:
    signature = headers.get("Wechatpay-Signature", "")
    if not signature or signature.startswith("WECHATPAY/SIGNTEST/"):
        return False
    message = (f"{headers.get('Wechatpay-Timestamp', '')}\n{headers.get('Wechatpay-Nonce', '')}\n".encode()
               + body + b"\n")
    return rsa_verify(key, message, signature)


def verify(headers, body: bytes, *, now: float | None = None) -> None:
    """[VERIFY] An answer's or a notice's signature, by the platform certificate it names; an
    unknown serial first refreshes the certificates once (WeChat Pay rotated them)."""
    timestamp = headers.get("Wechatpay-Timestamp", "")
    serial = headers.get("Wechatpay-Serial", "").upper()
    if not timestamp.isdigit() or not serial or not headers.get("Wechatpay-Nonce"):
        raise BadChannelSignature()
    key = _known_key(serial)
    if key is None and time.monotonic() - _LAST_REFRESH[0] > REFRESH_COOLDOWN_S:
        certificates_refresh()
        key = _known_key(serial)
        if key is None:  # a serial the channel does not list: made-up serials cost one download a minute
            _LAST_REFRESH[0] = time.monotonic()
    if key is None or not _verify_signature(key, headers, body):
        raise BadChannelSignature()
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_S:
        raise StaleChannelSignature()


def _call(cfg: Config, method: str, path: str, payload: dict | None, *, operation: str, signed: bool = True,
          payment_id: int | None = None, refund_id: int | None = None, missing_ok: bool = False):
    """One signed call; the verified JSON answer (None for a 404 when ``missing_ok``), its headers
    and raw body. 5xx, 429 and network errors: ChannelUnavailable; other 4xx: ChannelRefused."""
    body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    headers = {"Authorization": authorization(cfg, method, path, body), "Accept": "application/json",
               "Content-Type": "application/json", "User-Agent": "cunbo"}
    log = {"method": method, "path": path, "body": payload or {}}
    response = http_send(provider=NAME, method=method, url=cfg.base_url + path, headers=headers,
                         content=body.encode() if payload is not None else None, operation=operation,
                         request_log=log, payment_id=payment_id, refund_id=refund_id)
    raw = response.content
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        answer = {"text": raw[:2000].decode("utf-8", "replace")}

    def record(outcome: str):
        exchange_record(provider=NAME, direction=OUT, operation=operation, request=log, response=answer,
                        status_code=response.status_code, outcome=outcome, payment_id=payment_id,
                        refund_id=refund_id)

    if response.status_code >= 500 or response.status_code == 429:
        record("unavailable")
        raise ChannelUnavailable()
    if response.status_code == 404 and missing_ok:
        record("not found")
        return None, response.headers, raw
    if response.status_code >= 400:
        record(f"refused: {answer.get('code', '')}")
        raise ChannelRefused(_("WeChat Pay refused the request: %(code)s %(message)s")
                             % {"code": answer.get("code", ""), "message": answer.get("message", "")})
    if signed:
        try:
            verify(response.headers, raw)
        except BadChannelSignature as error:
            record(f"answer refused: {error.code}")
            raise ChannelUnavailable() from error  # an unverifiable answer is no answer; ask again
    record("ok")
    return answer, response.headers, raw


class WechatPayProvider:
    name = NAME

    def create_charge(self, *, payment, request: ChargeRequest | None = None) -> ProviderCharge:
        request = request or ChargeRequest()
        cfg = config()
        method = request.method or ("jsapi" if request.openid else "native")
        if method not in METHODS:
            raise ChannelRefused(_("WeChat Pay pays by jsapi, h5 or native."), code="invalid_method", status=400)
        payload = {"appid": cfg.appid, "mchid": cfg.mchid, "description": f"Cunbo order {payment.order_id}",
                   "out_trade_no": out_no(payment.pk), "notify_url": cfg.notify_url,
                   "amount": {"total": yuan_to_fen(payment.amount), "currency": payment.currency}}
        if method == "jsapi":
            if not request.openid:
                raise ChannelRefused(_("WeChat JSAPI payment needs the payer's openid."), code="openid_required",
                                     status=400)
            payload["payer"] = {"openid": request.openid}
        elif method == "h5":
            payload["scene_info"] = {"payer_client_ip": request.client_ip or "127.0.0.1", "h5_info": {"type": "Wap"}}
        path = f"/v3/pay/transactions/{method}"
        answer, _headers, _raw = _call(cfg, "POST", path, payload, operation=f"POST {path}", payment_id=payment.pk)
        params = {"provider": NAME, "method": method, "out_trade_no": out_no(payment.pk)}
        if method == "jsapi":
            params |= jsapi_bundle(cfg, str(answer.get("prepay_id", "")))
        elif method == "h5":
            params["h5_url"] = answer.get("h5_url", "")
        else:
            params["code_url"] = answer.get("code_url", "")
        return ProviderCharge(reference=out_no(payment.pk), client_params=params)

    def query_payment(self, *, payment) -> ProviderPaymentStatus:
        cfg = config()
        path = f"/v3/pay/transactions/out-trade-no/{out_no(payment.pk)}?mchid={cfg.mchid}"
        answer, _h, _b = _call(cfg, "GET", path, None, operation="GET /v3/pay/transactions/out-trade-no",
                               payment_id=payment.pk, missing_ok=True)
        if answer is None or answer.get("mchid") != cfg.mchid or answer.get("appid") != cfg.appid:
            return ProviderPaymentStatus(status="unknown")
        status = TRADE_STATES.get(answer.get("trade_state"), "unknown")
        amount = answer.get("amount") or {}
        paid = status == "succeeded"
        return ProviderPaymentStatus(
            status=status, amount=fen_to_yuan(amount.get("total")) if paid else None,
            currency=str(amount.get("currency") or "CNY"), reference=str(answer.get("transaction_id") or ""),
            paid_at=parse_datetime(answer["success_time"]) if paid and answer.get("success_time") else None)

    def refund(self, *, payment, amount: Decimal, refund_id: int) -> ProviderRefund:
        cfg = config()
        path = "/v3/refund/domestic/refunds"
        payload = {"out_trade_no": out_no(payment.pk), "out_refund_no": out_no(refund_id),
                   "notify_url": cfg.notify_url,
                   "amount": {"refund": yuan_to_fen(amount), "total": yuan_to_fen(payment.amount),
                              "currency": payment.currency}}
        answer, _h, _b = _call(cfg, "POST", path, payload, operation=f"POST {path}", payment_id=payment.pk,
                               refund_id=refund_id)
        return _refund_result(answer)

    def query_refund(self, *, payment, refund_id: int) -> ProviderRefund:
        path = f"/v3/refund/domestic/refunds/{out_no(refund_id)}"
        answer, _h, _b = _call(config(), "GET", path, None, operation="GET /v3/refund/domestic/refunds",
                               payment_id=payment.pk, refund_id=refund_id, missing_ok=True)
        if answer is None:  # never reached WeChat Pay: send it again
            return ProviderRefund(reference="", succeeded=False, error="REFUND_NOT_EXIST")
        return _refund_result(answer)

    def parse_webhook(self, *, headers, body: bytes) -> WebhookNotice:
        """[NOTIFY] Verified ([VERIFY]), decrypted ([DECRYPT]), and checked to be ours."""
        verify(headers, body)
        cfg = config()
        try:
            envelope = load_json(body.decode("utf-8"))
            resource = envelope["resource"]
            event_id, event_type = str(envelope["id"]), str(envelope["event_type"])
            if not isinstance(resource, dict) or not event_id or len(event_id) > 100:
                raise ValueError
        except (ValueError, KeyError, TypeError, MalformedInput, TextRefused):
            raise MalformedNotice() from None
        try:
            data = load_json(decrypt(cfg, resource).decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError, MalformedInput, TextRefused):
            raise MalformedNotice() from None
        if data.get("mchid") != cfg.mchid or ("appid" in data and data.get("appid") != cfg.appid):
            raise ForeignNotice()
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        if event_type in REFUND_EVENTS:
            return WebhookNotice(event_id=event_id, type=REFUND_EVENTS[event_type],
                                 payment_id=parse_out_no(data.get("out_trade_no")),
                                 refund_id=parse_out_no(data.get("out_refund_no")),
                                 amount=fen_to_yuan(amount.get("refund")), currency="CNY",
                                 reference=str(data.get("refund_id") or ""), raw=data)
        if event_type != "TRANSACTION.SUCCESS" or data.get("appid") != cfg.appid:
            raise MalformedNotice()
        state = TRADE_STATES.get(data.get("trade_state"), "pending")
        return WebhookNotice(event_id=event_id, type=f"payment.{state}", payment_id=parse_out_no(data.get("out_trade_no")),
                             amount=fen_to_yuan(amount.get("total")), currency=str(amount.get("currency") or ""),
                             reference=str(data.get("transaction_id") or ""), raw=data)


def jsapi_bundle(cfg: Config, prepay_id: str) -> dict:
    """[JSAPI] What ``wx.requestPayment`` / ``WeixinJSBridge`` takes."""
    timestamp, nonce_str, package = str(int(time.time())), nonce(), f"prepay_id={prepay_id}"
    pay_sign = rsa_sign(cfg.private_key, f"{cfg.appid}\n{timestamp}\n{nonce_str}\n{package}\n".encode())
    return {"appId": cfg.appid, "timeStamp": timestamp, "nonceStr": nonce_str, "package": package,
            "signType": "RSA", "paySign": pay_sign}


def _refund_result(answer: dict) -> ProviderRefund:
    status, reference = answer.get("status"), str(answer.get("refund_id") or "")
    if status == "SUCCESS":
        return ProviderRefund(reference=reference, succeeded=True)
    if status == "PROCESSING":
        return ProviderRefund(reference=reference, succeeded=False, pending=True)
    return ProviderRefund(reference=reference, succeeded=False, error=f"WeChat Pay refund {status}")

