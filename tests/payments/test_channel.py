"""What both real channels share (payments/providers/channel.py): exact money, our ids at the channel, redaction."""

from decimal import Decimal

import pytest

from payments.providers.channel import (
    MalformedNotice,
    fen_to_yuan,
    out_no,
    parse_out_no,
    parse_yuan,
    redact,
    yuan_text,
    yuan_to_fen,
)


def test_money_converts_exactly():
    assert yuan_to_fen(Decimal("0.01")) == 1 and yuan_to_fen(Decimal("19.99")) == 1999
    assert yuan_to_fen(Decimal("1234567.89")) == 123456789  # a float would give 123456788.99999999
    assert fen_to_yuan(1999) == Decimal("19.99") and fen_to_yuan(1) == Decimal("0.01")
    assert yuan_text(Decimal("7")) == "7.00" and parse_yuan("0.10") == Decimal("0.10")
    with pytest.raises(ValueError):
        yuan_to_fen(Decimal("0.001"))
    for bad in (1.5, "100", True, None):
        with pytest.raises(MalformedNotice):
            fen_to_yuan(bad)
    for bad in ("1.005", "NaN", "Infinity", "", "1e400x"):
        with pytest.raises(MalformedNotice):
            parse_yuan(bad)


def test_out_trade_no_is_the_payment_id():
    assert out_no(17) == "00000017" and parse_out_no("00000017") == 17
    assert out_no(123456789012) == "123456789012"
    for bad in ("", "abc", "-1", "0", "１２", "1" * 19, None):
        with pytest.raises(MalformedNotice):
            parse_out_no(bad)


def test_secrets_are_redacted_at_any_depth():
    assert redact({"sign": "x", "a": [{"paySign": "y", "ok": 1}], "resource": {"ciphertext": "z", "nonce": "n"},
                   "Authorization": "WECHATPAY2"}) == {
        "sign": "[redacted]", "a": [{"paySign": "[redacted]", "ok": 1}],
        "resource": {"ciphertext": "[redacted]", "nonce": "n"}, "Authorization": "[redacted]"}
