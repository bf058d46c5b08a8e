"""The provider settlement file: one day of a provider's transactions, as a strict CSV.

The format (docs/orders-payments.md, "Provider settlement file") is modelled on WeChat Pay's trade
bill and Alipay's settlement file: UTF-8, a header row, one row per transaction. It is written
(``settlement_file_write``, by the sandbox) and read (``parse_settlement_file``, by whoever
reconciles) here only, so the two cannot drift apart.

The file comes from outside, so the parser trusts nothing: any input at all either parses into
rows or raises ``SettlementFileInvalid`` (a ``ValidationFailed``, 400 through the API) whose
message names the line, never another exception.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from django.utils.translation import gettext as _

from core.errors import ValidationFailed

HEADER = ("transaction_id", "type", "out_trade_no", "out_refund_no", "amount", "fee", "currency", "completed_at")
TYPES = ("payment", "refund")
MAX_ROWS = 200_000
# Far above what MAX_ROWS rows of this format take (about 120 bytes each), so only junk reaches it.
MAX_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 64

_MONEY = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_MONEY_MAX = Decimal("9999999999.99")  # the 12 digits, 2 places of our money columns
_ID = re.compile(r"[1-9][0-9]{0,17}")  # a positive id that fits a bigint
_REFERENCE = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# ISO 8601 with seconds and an explicit offset (fromisoformat alone also takes dates, weeks, "Z"-less
# naive times and fractions of a minute offset; the file promises one shape).
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?[+-][0-9]{2}:[0-9]{2}")


@dataclass(frozen=True)
class SettlementRow:
    """One provider transaction of the day."""

    transaction_id: str  # the provider's reference
    type: str  # "payment" | "refund"
    out_trade_no: int  # our payment id
    out_refund_no: int | None  # our refund id (refunds only)
    amount: Decimal
    fee: Decimal  # what the provider kept; 0.00 for refunds in the sandbox
    currency: str
    completed_at: datetime


class SettlementFileInvalid(ValidationFailed):
    code = "settlement_file_invalid"

    def __init__(self, message, *, line: int | None = None):
        self.line = line
        super().__init__(message, fields={"line": [str(line)]} if line is not None else None)


def _refuse(line: int, message: str) -> NoReturn:
    raise SettlementFileInvalid(_("Settlement file, line %(line)d: %(problem)s") % {"line": line, "problem": message},
                                line=line)


def settlement_file_write(rows) -> bytes:
    """The file for ``rows`` (``SettlementRow``s, in the order given): the one writer of the format."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.transaction_id, row.type, row.out_trade_no,
                         "" if row.out_refund_no is None else row.out_refund_no,
                         f"{row.amount:.2f}", f"{row.fee:.2f}", row.currency,
                         row.completed_at.isoformat(timespec="seconds")])
    return out.getvalue().encode("utf-8")


def parse_settlement_file(data: bytes) -> list[SettlementRow]:
    """Every row of a settlement file, or ``SettlementFileInvalid`` naming the first bad line.

    Strict on purpose: a file that is not exactly the documented format is refused whole rather
    than half read, since a reconciliation over half a day would report the other half missing."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SettlementFileInvalid(_("The settlement file must be bytes."))
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise SettlementFileInvalid(_("The settlement file is larger than %(limit)d bytes.") % {"limit": MAX_BYTES})
    if data.startswith(codecs.BOM_UTF8):  # what spreadsheet programs put in front of a UTF-8 CSV
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        _refuse(data.count(b"\n", 0, error.start) + 1, _("the file is not UTF-8."))
    if "\x00" in text:
        _refuse(text.count("\n", 0, text.index("\x00")) + 1, _("the line contains a NUL character."))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[SettlementRow] = []
    seen: dict[str, int] = {}
    line = 1
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            _refuse(line, _("the line is not valid CSV (%(error)s).") % {"error": error})
        if line == 1:
            if tuple(record) != HEADER:
                _refuse(1, _("the header must be exactly: %(header)s.") % {"header": ",".join(HEADER)})
            continue
        if len(rows) >= MAX_ROWS:
            _refuse(line, _("the file has more than %(limit)d rows.") % {"limit": MAX_ROWS})
        row = _row(line, record)
        if row.transaction_id in seen:
            _refuse(line, _("transaction %(id)s is listed again (first on line %(first)d).")
                    % {"id": row.transaction_id, "first": seen[row.transaction_id]})
        seen[row.transaction_id] = line
        rows.append(row)
    if line == 1 and reader.line_num == 0:
        _refuse(1, _("the file is empty; it must start with the header row."))
    return rows


def _row(line: int, record: list[str]) -> SettlementRow:
    if not record:
        _refuse(line, _("the line is empty."))
    if len(record) != len(HEADER):
        _refuse(line, _("the row has %(found)d columns, not %(expected)d.") % {"found": len(record),
                                                                             "expected": len(HEADER)})
    transaction_id, kind, trade_no, refund_no, amount, fee, currency, completed_at = record
    if not _REFERENCE.fullmatch(transaction_id):
        _refuse(line, _("transaction_id must be 1 to 64 letters, digits, “_” or “-”."))
    if kind not in TYPES:
        _refuse(line, _("type must be payment or refund."))
    if not _ID.fullmatch(trade_no):
        _refuse(line, _("out_trade_no must be a payment id (a positive whole number)."))
    if kind == "payment" and refund_no:
        _refuse(line, _("out_refund_no must be empty for a payment."))
    if kind == "refund" and not _ID.fullmatch(refund_no):
        _refuse(line, _("out_refund_no must be a refund id (a positive whole number) for a refund."))
    amount_value = _money(line, "amount", amount)
    fee_value = _money(line, "fee", fee)
    if amount_value == 0:
        _refuse(line, _("amount must be more than 0."))
    if fee_value > amount_value:
        _refuse(line, _("fee is more than the amount."))
    if not _CURRENCY.fullmatch(currency):
        _refuse(line, _("currency must be three capital letters (CNY)."))
    return SettlementRow(transaction_id=transaction_id, type=kind, out_trade_no=int(trade_no),
                         out_refund_no=int(refund_no) if kind == "refund" else None, amount=amount_value,
                         fee=fee_value, currency=currency, completed_at=_timestamp(line, completed_at))


def _money(line: int, column: str, text: str) -> Decimal:
    if len(text) > MAX_FIELD_CHARS or not _MONEY.fullmatch(text):
        _refuse(line, _("%(column)s is not a decimal number.") % {"column": column})
    value = Decimal(text)
    if value < 0:
        _refuse(line, _("%(column)s is negative.") % {"column": column})
    if value.as_tuple().exponent < -2:
        _refuse(line, _("%(column)s has more than two decimal places.") % {"column": column})
    if value > _MONEY_MAX:
        _refuse(line, _("%(column)s is too large.") % {"column": column})
    return value.quantize(Decimal("0.01"))


def _timestamp(line: int, text: str) -> datetime:
    if not _TIMESTAMP.fullmatch(text):
        _refuse(line, _("completed_at must be an ISO 8601 time with its offset, e.g. 2026-12-03T09:30:00+08:00."))
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the shape is right, the calendar is not (month 13, 25 o'clock, offset +99:00)
        _refuse(line, _("completed_at is not a real time."))
