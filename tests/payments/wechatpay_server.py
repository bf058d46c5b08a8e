"""A stand-in for WeChat Pay API v3, speaking its documented wire protocol (the documents named in
payments/providers/wechatpay.py): it checks our ``WECHATPAY2-SHA256-RSA2048`` Authorization with our
merchant public key, signs its answers with its platform key (``Wechatpay-*`` headers), serves its
platform certificates encrypted under the APIv3 key, and builds notifications whose resource is
AEAD_AES_256_GCM-encrypted under that key. Keys are made in the test."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .stand_in import StandInServer, certificate, private_pem, rsa_key, sign, verify

MCHID, APPID = "1900000109", "wxd678efh567hg6787"
AUTH = re.compile(r'WECHATPAY2-SHA256-RSA2048 (.+)')


def _serial(cert) -> str:
    return f"{cert.serial_number:X}"


class WechatPayStandIn(StandInServer):
    def __init__(self):
        self.merchant_key = rsa_key()
        self.merchant_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
        self.apiv3_key = secrets.token_hex(16)  # 32 characters, as the merchant platform sets it
        self.platform = []  # (key, certificate), the newest last; answers are signed by ``signer``
        self.rotate()
        self.trades: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.down = False
        self.clock_offset = 0  # seconds the stand-in's clock is ahead of ours
        self.on_prepay = None  # called (with the trade) before the prepay answer is sent

    # -- keys ---------------------------------------------------------------------------------
    def rotate(self, *, keep_old: bool = True):
        """A new platform certificate; it signs from now on (WeChat Pay's rotation)."""
        key = rsa_key()
        cert = certificate(key, serial=int(secrets.token_hex(10), 16))
        self.platform = ([*self.platform] if keep_old else []) + [(key, cert)]
        self.signer = len(self.platform) - 1

    @property
    def serial(self) -> str:
        return _serial(self.platform[self.signer][1])

    def settings(self, base_url: str, notify_url: str = "https://cunbo.example.cn/api/payments/webhook/wechatpay/"):
        return {"mchid": MCHID, "appid": APPID, "apiv3_key": self.apiv3_key,
                "private_key": private_pem(self.merchant_key), "cert_serial": self.merchant_serial,
                "notify_url": notify_url, "base_url": base_url}

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def signed_headers(self, body: bytes, *, timestamp: int | None = None, key_index: int | None = None) -> dict:
        key, cert = self.platform[self.signer if key_index is None else key_index]
        timestamp = self.now() if timestamp is None else timestamp
        nonce = secrets.token_hex(16)
        signature = sign(key, f"{timestamp}\n{nonce}\n".encode() + body + b"\n")
        return {"Wechatpay-Timestamp": str(timestamp), "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                "Wechatpay-Serial": _serial(cert), "Request-ID": uuid.uuid4().hex}

    def encrypt(self, plaintext: bytes, associated_data: str) -> dict:
        nonce = secrets.token_hex(6)  # 12 characters
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(nonce.encode(), plaintext, associated_data.encode())
        return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated_data, "nonce": nonce}

    # -- the buyer and the back office ------------------------------------------------------------
    def pay(self, out_trade_no: str, *, state: str = "SUCCESS"):
        trade = self.trades[out_trade_no]
        trade["trade_state"] = state
        if state == "SUCCESS":
            trade["transaction_id"] = "42000" + secrets.token_hex(10)
            trade["success_time"] = datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds")
        return trade

    def finish_refund(self, out_refund_no: str, status: str = "SUCCESS"):
        self.refunds[out_refund_no]["status"] = status
        return self.refunds[out_refund_no]

    def notice(self, resource: dict, *, event_type: str = "TRANSACTION.SUCCESS", event_id: str | None = None,
               timestamp: int | None = None, key_index: int | None = None, apiv3_key: str | None = None):
        """(headers, body) of a notification of ``resource`` (a trade or a refund), as WeChat Pay posts it."""
        original = "refund" if event_type.startswith("REFUND") else "transaction"
        plaintext = json.dumps(resource).encode()
        if apiv3_key:
            saved, self.apiv3_key = self.apiv3_key, apiv3_key
            encrypted = self.encrypt(plaintext, original)
            self.apiv3_key = saved
        else:
            encrypted = self.encrypt(plaintext, original)
        body = json.dumps({
            "id": event_id or str(uuid.uuid4()), "create_time": datetime.now(timezone.utc).isoformat(),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
            "resource": {**encrypted, "original_type": original}}).encode()
        headers = self.signed_headers(body, timestamp=timestamp, key_index=key_index)
        return {"Content-Type": "application/json", **headers}, body

    def refund_resource(self, refund: dict) -> dict:
        return {"mchid": MCHID, "out_trade_no": refund["out_trade_no"], "transaction_id": refund["transaction_id"],
                "out_refund_no": refund["out_refund_no"], "refund_id": refund["refund_id"],
                "refund_status": refund["status"], "success_time": refund.get("success_time", ""),
                "user_received_account": "支付用户零钱",
                "amount": {"total": refund["amount"]["total"], "refund": refund["amount"]["refund"],
                           "payer_total": refund["amount"]["total"], "payer_refund": refund["amount"]["refund"]}}

    # -- the wire -------------------------------------------------------------------------------
    def answer(self, status: int, payload: dict | None):
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        return status, {"Content-Type": "application/json", **self.signed_headers(body)}, body

    def authorised(self, method: str, path: str, headers, body: bytes) -> bool:
        match = AUTH.fullmatch(headers.get("Authorization", ""))
        if not match:
            return False
        fields = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if fields.get("mchid") != MCHID or fields.get("serial_no") != self.merchant_serial:
            return False
        if not fields.get("timestamp", "").isdigit() or abs(self.now() - int(fields["timestamp"])) > 300:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n".encode() + body + b"\n"
        return verify(self.merchant_key.public_key(), message, fields.get("signature", ""))

    def handle(self, method: str, path: str, headers, body: bytes):
        if self.down:
            return self.answer(503, {"code": "SYSTEM_ERROR", "message": "系统繁忙"})
        if not self.authorised(method, path, headers, body):
            return self.answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        data = json.loads(body) if body else {}
        self.requests.append((method, path, data))
        url = urlsplit(path)
        if method == "POST" and (kind := re.fullmatch(r"/v3/pay/transactions/(jsapi|h5|native)", url.path)):
            return self.prepay(kind.group(1), data)
        if method == "GET" and (m := re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", url.path)):
            if parse_qs(url.query).get("mchid") != [MCHID] or m.group(1) not in self.trades:
                return self.answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            return self.answer(200, self.trades[m.group(1)])
        if method == "POST" and url.path == "/v3/refund/domestic/refunds":
            return self.refund(data)
        if method == "GET" and (m := re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", url.path)):
            if m.group(1) not in self.refunds:
                return self.answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
            return self.answer(200, self.refunds[m.group(1)])
        if method == "GET" and url.path == "/v3/certificates":
            pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM).decode()  # noqa: E731
            return self.answer(200, {"data": [{
                "serial_no": _serial(cert), "effective_time": cert.not_valid_before_utc.isoformat(),
                "expire_time": cert.not_valid_after_utc.isoformat(),
                "encrypt_certificate": self.encrypt(pem(cert).encode(), "certificate")} for _key, cert in self.platform]})
        return self.answer(404, {"code": "NOT_FOUND", "message": "no such API"})

    def prepay(self, kind: str, data: dict):
        out_trade_no = str(data.get("out_trade_no", ""))
        total = (data.get("amount") or {}).get("total")
        if (data.get("appid") != APPID or data.get("mchid") != MCHID or not 6 <= len(out_trade_no) <= 32
                or not isinstance(total, int) or total <= 0 or not data.get("notify_url")
                or (kind == "jsapi" and not (data.get("payer") or {}).get("openid"))
                or (kind == "h5" and not (data.get("scene_info") or {}).get("payer_client_ip"))):
            return self.answer(400, {"code": "PARAM_ERROR", "message": "参数错误"})
        trade = self.trades.get(out_trade_no)
        if trade is not None and (trade["amount"]["total"] != total or trade["trade_state"] != "NOTPAY"):
            return self.answer(400, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"})
        if trade is None:
            trade = self.trades[out_trade_no] = {
                "appid": APPID, "mchid": MCHID, "out_trade_no": out_trade_no, "trade_type": kind.upper(),
                "trade_state": "NOTPAY", "trade_state_desc": "", "prepay_id": "wx" + secrets.token_hex(14),
                "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
                "payer": data.get("payer") or {"openid": "o" + secrets.token_hex(8)}}
        if self.on_prepay is not None:
            self.on_prepay(trade)
        if kind == "jsapi":
            return self.answer(200, {"prepay_id": trade["prepay_id"]})
        if kind == "h5":
            return self.answer(200, {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={trade['prepay_id']}"})
        return self.answer(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={trade['prepay_id'][:7]}"})

    def refund(self, data: dict):
        out_refund_no = str(data.get("out_refund_no", ""))
        if out_refund_no in self.refunds:  # the same out_refund_no is the same refund
            return self.answer(200, self.refunds[out_refund_no])
        trade = self.trades.get(str(data.get("out_trade_no", "")))
        amount = data.get("amount") or {}
        if trade is None or trade["trade_state"] not in ("SUCCESS", "REFUND"):
            return self.answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
        refunded = sum(r["amount"]["refund"] for r in self.refunds.values() if r["out_trade_no"] == trade["out_trade_no"])
        if amount.get("total") != trade["amount"]["total"] or refunded + int(amount.get("refund", 0)) > amount["total"]:
            return self.answer(400, {"code": "INVALID_REQUEST", "message": "退款金额超过订单金额"})
        refund = self.refunds[out_refund_no] = {
            "refund_id": "50000" + secrets.token_hex(10), "out_refund_no": out_refund_no,
            "transaction_id": trade["transaction_id"], "out_trade_no": trade["out_trade_no"], "channel": "ORIGINAL",
            "status": "PROCESSING", "create_time": datetime.now(timezone.utc).isoformat(),
            "amount": {"total": amount["total"], "refund": amount["refund"], "currency": "CNY"}}
        trade["trade_state"] = "REFUND"
        return self.answer(200, refund)
