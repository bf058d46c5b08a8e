"""The provider settlement file: the sandbox writes it from its own books, the strict parser reads it."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from core.errors import ValidationFailed
from payments import settlement_file
from payments.models import SandboxTransaction
from payments.providers import SupportsSettlementFile, get_provider
from payments.providers.sandbox import sandbox_fee, sandbox_notice
from payments.services import provider_settlement_rows
from payments.settlement_file import HEADER, SettlementFileInvalid, SettlementRow, parse_settlement_file

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEAD = ",".join(HEADER)
GOOD = (f"{HEAD}\n"
        "sbx_a1,payment,12,,25.25,0.15,CNY,2026-12-03T09:30:00+08:00\n"
        "sbx_rf_7_b2,refund,12,7,5.00,0.00,CNY,2026-12-03T10:00:00+08:00\n")


def good_rows():
    return parse_settlement_file(GOOD.encode())


def test_a_good_file_parses():
    payment, refund = good_rows()
    assert payment == SettlementRow(transaction_id="sbx_a1", type="payment", out_trade_no=12, out_refund_no=None,
                                    amount=Decimal("25.25"), fee=Decimal("0.15"), currency="CNY",
                                    completed_at=datetime(2026, 12, 3, 9, 30, tzinfo=SHANGHAI))
    assert (refund.type, refund.out_refund_no, refund.amount, refund.fee) == ("refund", 7, Decimal("5.00"), 0)
    assert parse_settlement_file(f"{HEAD}\n".encode()) == []  # a day without transactions
    assert parse_settlement_file(b"\xef\xbb\xbf" + GOOD.encode().replace(b"\n", b"\r\n")) == good_rows()


def test_the_writer_and_the_parser_agree():
    assert parse_settlement_file(settlement_file.settlement_file_write(good_rows())) == good_rows()


@pytest.mark.django_db
def test_the_sandbox_file_round_trips(order, payment, settings):
    """A payment paid and partly refunded at the sandbox: its file of the day lists both, as its books say."""
    sandbox = get_provider("sandbox")
    assert isinstance(sandbox, SupportsSettlementFile)
    sandbox_notice(payment=payment)
    sandbox.refund(payment=payment, amount=Decimal("3.00"), refund_id=41)
    trade = SandboxTransaction.objects.get(kind="payment")
    day = trade.created_at.astimezone(SHANGHAI).date()
    rows = parse_settlement_file(sandbox.settlement_file(day))
    assert [(r.type, r.out_trade_no, r.out_refund_no, r.amount, r.fee) for r in rows] == [
        ("payment", payment.pk, None, payment.amount, sandbox_fee(payment.amount)),
        ("refund", payment.pk, 41, Decimal("3.00"), Decimal("0.00"))]
    assert rows[0].transaction_id == payment.provider_reference
    assert rows[0].completed_at == trade.created_at.replace(microsecond=0)
    assert rows[0].completed_at.utcoffset() == timedelta(hours=8)
    assert provider_settlement_rows(provider_name="sandbox", day=day) == rows
    assert parse_settlement_file(sandbox.settlement_file(day + timedelta(days=1))) == []


@pytest.mark.django_db
def test_the_file_holds_one_china_standard_time_day_of_completed_transactions():
    def record(reference, at, status="succeeded"):
        SandboxTransaction.objects.create(kind="payment", payment_id=len(reference) + ord(reference[-1]),
                                          reference=reference, amount=Decimal("10.00"), fee=Decimal("0.06"),
                                          status=status, created_at=at)

    record("sbx_before", datetime(2026, 12, 2, 23, 59, 59, tzinfo=SHANGHAI))
    record("sbx_first", datetime(2026, 12, 2, 16, 0, tzinfo=ZoneInfo("UTC")))  # 00:00 on the 3rd in Shanghai
    record("sbx_last", datetime(2026, 12, 3, 23, 59, 59, tzinfo=SHANGHAI))
    record("sbx_open", datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI), status="pending")
    record("sbx_failed", datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI), status="failed")
    record("sbx_after", datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI))
    data = get_provider("sandbox").settlement_file(date(2026, 12, 3))
    assert [r.transaction_id for r in parse_settlement_file(data)] == ["sbx_first", "sbx_last"]
    assert b"2026-12-03T00:00:00+08:00" in data


def test_the_fee_is_rounded_half_up(settings):
    assert sandbox_fee(Decimal("7.50")) == Decimal("0.05")  # 0.045: half-even would say 0.04
    assert sandbox_fee(Decimal("25.25")) == Decimal("0.15")
    settings.PAYMENT_SANDBOX_FEE_RATE = Decimal("0.01")
    assert sandbox_fee(Decimal("0.50")) == Decimal("0.01")


def _replace(line: int, text: str) -> bytes:
    lines = GOOD.split("\n")
    lines[line - 1] = text
    return "\n".join(lines).encode()


ROW = "sbx_a1,payment,12,,{amount},0.00,CNY,2026-12-03T09:30:00+08:00"
BAD = {
    "empty": (b"", 1, "empty"),
    "header renamed": (_replace(1, HEAD.replace("fee", "fees")), 1, "header must be exactly"),
    "header only a prefix": (_replace(1, "transaction_id,type"), 1, "header must be exactly"),
    "not utf-8": (GOOD.encode().replace(b"CNY,2026-12-03T10", b"\xff\xfeCNY,2026-12-03T10"), 3, "not UTF-8"),
    "nul": (_replace(2, ROW.format(amount="1.00").replace("CNY", "C\x00NY")), 2, "NUL"),
    "bad decimal": (_replace(2, ROW.format(amount="12.x")), 2, "amount is not a decimal"),
    "exponent": (_replace(2, ROW.format(amount="1e3")), 2, "amount is not a decimal"),
    "arabic digits": (_replace(2, ROW.format(amount="١٢.٠٠")), 2, "amount is not a decimal"),
    "negative": (_replace(2, ROW.format(amount="-1.00")), 2, "amount is negative"),
    "over-precise": (_replace(2, ROW.format(amount="1.001")), 2, "more than two decimal places"),
    "too large": (_replace(2, ROW.format(amount="99999999999.00")), 2, "amount is too large"),
    "zero": (_replace(2, ROW.format(amount="0.00")), 2, "more than 0"),
    "fee over amount": (_replace(2, ROW.format(amount="1.00").replace(",0.00,", ",2.00,")), 2, "fee is more"),
    "negative fee": (_replace(3, "sbx_rf,refund,12,7,5.00,-0.01,CNY,2026-12-03T10:00:00+08:00"), 3, "fee is negative"),
    "unknown type": (_replace(3, "sbx_rf,chargeback,12,7,5.00,0.00,CNY,2026-12-03T10:00:00+08:00"), 3, "type must"),
    "short row": (_replace(2, "sbx_a1,payment,12,,25.25,0.15,CNY"), 2, "7 columns, not 8"),
    "long row": (_replace(2, ROW.format(amount="1.00") + ",x"), 2, "9 columns, not 8"),
    "blank line": (_replace(2, ""), 2, "empty"),
    "bad trade no": (_replace(2, ROW.format(amount="1.00").replace(",12,", ",0,")), 2, "out_trade_no"),
    "refund no on a payment": (_replace(2, ROW.format(amount="1.00").replace(",12,,", ",12,7,")), 2, "must be empty"),
    "refund without refund no": (_replace(3, "sbx_rf,refund,12,,5.00,0.00,CNY,2026-12-03T10:00:00+08:00"), 3,
                                 "out_refund_no must be a refund id"),
    "bad reference": (_replace(2, ROW.format(amount="1.00").replace("sbx_a1", "sbx a1")), 2, "transaction_id"),
    "lower-case currency": (_replace(2, ROW.format(amount="1.00").replace("CNY", "cny")), 2, "currency"),
    "naive time": (_replace(2, ROW.format(amount="1.00").replace("+08:00", "")), 2, "completed_at must"),
    "date only": (_replace(2, ROW.format(amount="1.00").replace("2026-12-03T09:30:00+08:00", "2026-12-03")), 2,
                  "completed_at must"),
    "impossible time": (_replace(2, ROW.format(amount="1.00").replace("12-03T09", "13-03T09")), 2, "not a real time"),
    "impossible offset": (_replace(2, ROW.format(amount="1.00").replace("+08:00", "+99:00")), 2, "not a real time"),
    "repeated transaction": (_replace(3, ROW.format(amount="1.00")), 3, "listed again (first on line 2)"),
    "bad quoting": (_replace(3, 'sbx_rf,"refund"x,12,7,5.00,0.00,CNY,2026-12-03T10:00:00+08:00'), 3, "not valid CSV"),
    "unclosed quote": (_replace(3, 'sbx_rf,"refund,12,7,5.00,0.00,CNY,2026-12-03T10:00:00+08:00'), 3, "not valid CSV"),
}


@pytest.mark.parametrize("data,line,words", BAD.values(), ids=BAD.keys())
def test_each_bad_input_names_its_line(data, line, words):
    with translation.override("en"), pytest.raises(SettlementFileInvalid) as refused:
        parse_settlement_file(data)
    error = refused.value
    assert isinstance(error, ValidationFailed) and error.status == 400 and error.code == "settlement_file_invalid"
    assert error.line == line and error.fields == {"line": [str(line)]}
    assert str(error).startswith(f"Settlement file, line {line}: ") and words in str(error), str(error)


def test_the_messages_are_in_chinese():
    with translation.override("zh-hans"), pytest.raises(SettlementFileInvalid) as refused:
        parse_settlement_file(b"nope\n")
    assert "第 1 行" in str(refused.value)


def test_too_many_rows_is_refused_at_the_first_row_too_many(monkeypatch):
    monkeypatch.setattr(settlement_file, "MAX_ROWS", 2)
    assert len(good_rows()) == 2
    with translation.override("en"), pytest.raises(SettlementFileInvalid) as refused:
        parse_settlement_file((GOOD + "sbx_c3,payment,13,,1.00,0.01,CNY,2026-12-03T11:00:00+08:00\n").encode())
    assert refused.value.line == 4 and "more than 2 rows" in str(refused.value)


def test_the_real_row_limit():
    rows = "".join(f"sbx_{n},payment,{n},,1.00,0.01,CNY,2026-12-03T11:00:00+08:00\n"
                   for n in range(1, settlement_file.MAX_ROWS + 2))
    with translation.override("en"), pytest.raises(SettlementFileInvalid) as refused:
        parse_settlement_file(f"{HEAD}\n{rows}".encode())
    assert refused.value.line == settlement_file.MAX_ROWS + 2


def test_what_is_not_bytes_or_too_big_is_refused(monkeypatch):
    with pytest.raises(SettlementFileInvalid):
        parse_settlement_file(GOOD)  # a str
    monkeypatch.setattr(settlement_file, "MAX_BYTES", 10)
    with pytest.raises(SettlementFileInvalid):
        parse_settlement_file(GOOD.encode())


def _parses_or_refuses(data: bytes) -> None:
    try:
        rows = parse_settlement_file(data)
    except ValidationFailed as error:
        assert isinstance(error, SettlementFileInvalid) and str(error)
    else:
        assert all(isinstance(row, SettlementRow) for row in rows)


def test_fuzz_random_bytes_only_ever_refused_cleanly():
    rng = random.Random(20261203)
    for _ in range(300):
        _parses_or_refuses(rng.randbytes(rng.randrange(0, 400)))


def test_fuzz_a_damaged_good_file_only_ever_parses_or_is_refused_cleanly():
    rng = random.Random(1203)
    good = GOOD.encode()
    alphabet = b',"\r\n\x00.-+:T0123456789abcCNY \xff\xe4\xb8'
    for _ in range(400):
        data = bytearray(good)
        for _edit in range(rng.randrange(1, 4)):
            at = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.4:
                data[at] = rng.choice(alphabet)
            elif choice < 0.7:
                data.insert(at, rng.choice(alphabet))
            else:
                del data[at]
        _parses_or_refuses(bytes(data))


@pytest.mark.django_db
def test_the_command_writes_the_day(order, payment, tmp_path, capsys):
    sandbox_notice(payment=payment)
    day = SandboxTransaction.objects.get().created_at.astimezone(SHANGHAI).date().isoformat()
    target = tmp_path / "bill.csv"
    call_command("sandbox_settlement_file", "--date", day, "--output", str(target))
    rows = parse_settlement_file(target.read_bytes())
    assert [r.out_trade_no for r in rows] == [payment.pk]
    call_command("sandbox_settlement_file", "--date", day)
    assert parse_settlement_file(capsys.readouterr().out.encode()) == rows
    for bad in ("2026-13-01", "20261203", "yesterday"):
        with pytest.raises(CommandError):
            call_command("sandbox_settlement_file", "--date", bad)
