"""A stand-in for Alipay's open-platform gateway, speaking its documented wire protocol (the
documents named in payments/providers/alipay.py): it checks our RSA2 request signature with our app
public key, answers ``{"<method>_response": {...}, "sign": ...}`` signed with its own key over the
response object's exact text, and builds RSA2-signed asynchronous notifications. Keys are made in the test."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .stand_in import StandInServer, private_pem, public_pem, rsa_key, sign, verify

APP_ID, SELLER_ID = "2021000000000001", "2088000000000001"
CHINA = timezone(timedelta(hours=8))


def china_now(offset: timedelta = timedelta(0)) -> str:
    return (datetime.now(CHINA) + offset).strftime("%Y-%m-%d %H:%M:%S")


def content(params: dict, *, leave_out=("sign",)) -> bytes:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in leave_out and v != "").encode()


class AlipayStandIn(StandInServer):
    def __init__(self):
        self.app_key = rsa_key()  # ours: the app's key pair (the stand-in knows only its public half)
        self.alipay_key = rsa_key()
        self.trades: dict[str, dict] = {}
        self.refunds: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self.down = False
        self.refund_delayed = False  # fund_change=N: the money moves later (the refund query says when)

    def settings(self, gateway_url: str):
        return {"app_id": APP_ID, "seller_id": SELLER_ID, "private_key": private_pem(self.app_key),
                "public_key": public_pem(self.alipay_key), "notify_url": "https://cunbo.example.cn/api/payments/webhook/alipay/",
                "return_url": "https://cunbo.example.cn/paid/", "gateway_url": gateway_url}

    # -- the buyer -------------------------------------------------------------------------------
    def open_pay(self, query: str) -> dict:
        """The buyer's browser (or app) brings our signed pay parameters: checked, the trade opened."""
        params = dict(urllib.parse.parse_qsl(query))
        assert params["app_id"] == APP_ID and params["sign_type"] == "RSA2"
        assert verify(self.app_key.public_key(), content(params), params["sign"]), "our pay parameters' sign"
        biz = json.loads(params["biz_content"])
        trade = self.trades.setdefault(biz["out_trade_no"], {
            "out_trade_no": biz["out_trade_no"], "total_amount": biz["total_amount"], "trade_status": "WAIT_BUYER_PAY",
            "trade_no": "2026" + secrets.token_hex(12), "method": params["method"], "product_code": biz["product_code"]})
        return trade

    def pay(self, out_trade_no: str, status: str = "TRADE_SUCCESS") -> dict:
        trade = self.trades[out_trade_no]
        trade["trade_status"] = status
        trade["send_pay_date"] = china_now()
        return trade

    def notice(self, trade: dict, *, key=None, notify_time: str | None = None, **overrides) -> bytes:
        """The form Alipay posts to notify_url for ``trade``, signed (RSA2) unless ``key`` says otherwise."""
        params = {"notify_time": notify_time or china_now(), "notify_type": "trade_status_sync",
                  "notify_id": secrets.token_hex(16), "app_id": APP_ID, "charset": "utf-8", "version": "1.0",
                  "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"], "buyer_id": "2088102122524333",
                  "seller_id": SELLER_ID, "total_amount": trade["total_amount"],
                  "receipt_amount": trade["total_amount"], "trade_status": trade["trade_status"],
                  "gmt_create": china_now(), "gmt_payment": china_now(), "subject": "村播订单"} | overrides
        params["sign"] = sign(key or self.alipay_key, content(params, leave_out=("sign", "sign_type")))
        params["sign_type"] = "RSA2"
        return urllib.parse.urlencode(params).encode()

    # -- the gateway ---------------------------------------------------------------------------
    def respond(self, method: str, payload: dict):
        node = method.replace(".", "_") + "_response"
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        body = f'{{"{node}":{text},"sign":"{sign(self.alipay_key, text.encode())}"}}'
        return 200, {"Content-Type": "application/json;charset=utf-8"}, body.encode()

    def handle(self, method: str, path: str, headers, body: bytes):
        if self.down:
            return 502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>"
        params = dict(urllib.parse.parse_qsl(body.decode()))
        self.requests.append(params)
        if params.get("app_id") != APP_ID or params.get("sign_type") != "RSA2" or not verify(
                self.app_key.public_key(), content(params), params.get("sign", "")):
            error = json.dumps({"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"})
            return 200, {"Content-Type": "application/json"}, f'{{"error_response":{error}}}'.encode()
        api, biz = params["method"], json.loads(params["biz_content"])
        trade = self.trades.get(biz.get("out_trade_no", ""))
        missing = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                   "sub_msg": "交易不存在"}
        if api == "alipay.trade.query":
            if trade is None:
                return self.respond(api, missing)
            return self.respond(api, {"code": "10000", "msg": "Success", **{k: trade[k] for k in (
                "trade_no", "out_trade_no", "trade_status", "total_amount")}, "send_pay_date": trade.get("send_pay_date", "")})
        if api == "alipay.trade.refund":
            if trade is None or trade["trade_status"] not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                return self.respond(api, missing)
            key = (trade["out_trade_no"], biz["out_request_no"])
            if key not in self.refunds:  # the same out_request_no is the same refund
                done = sum(Decimal(r["refund_amount"]) for (t, _n), r in self.refunds.items() if t == key[0])
                if done + Decimal(biz["refund_amount"]) > Decimal(trade["total_amount"]):
                    return self.respond(api, {"code": "40004", "msg": "Business Failed",
                                              "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"})
                self.refunds[key] = {"refund_amount": biz["refund_amount"], "moved": not self.refund_delayed}
            refund = self.refunds[key]
            return self.respond(api, {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                                      "out_trade_no": trade["out_trade_no"], "refund_fee": refund["refund_amount"],
                                      "fund_change": "Y" if refund["moved"] else "N"})
        if api == "alipay.trade.fastpay.refund.query":
            refund = self.refunds.get((biz.get("out_trade_no", ""), biz.get("out_request_no", "")))
            if refund is None:
                return self.respond(api, {"code": "10000", "msg": "Success"})  # "no data: not refunded"
            return self.respond(api, {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                                      "out_trade_no": trade["out_trade_no"], "out_request_no": biz["out_request_no"],
                                      "refund_amount": refund["refund_amount"],
                                      "refund_status": "REFUND_SUCCESS" if refund["moved"] else "REFUND_PROCESSING"})
        return self.respond(api, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.INVALID_METHOD"})
