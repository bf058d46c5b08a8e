"""A monthly statement as CSV: UTF-8 with a byte-order mark (so Excel reads the Chinese right), the
column headers in the request's language, the same figures as the JSON answer."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _

from .selectors import ROW_FIELDS, Statement

BOM = "\ufeff"


def _headers() -> list[str]:
    labels = {"goods": _("Goods"), "delivery": _("Delivery"), "commission": _("Commission"),
              "service_fee": _("County service fee"), "refunds": _("Refunds"), "net": _("Net to the shop")}
    return [_("Merchant order"), _("Order")] + [labels[name] for name in ROW_FIELDS]


def _text(value: str) -> str:
    """A text cell Excel will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def statement_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_headers())
    for row in statement.rows:
        writer.writerow([row.merchant_order_id, row.order_id] + [f"{getattr(row, name):.2f}" for name in ROW_FIELDS])
    writer.writerow([_("Total"), ""] + [f"{statement.totals[name]:.2f}" for name in ROW_FIELDS])
    if statement.members is not None:
        writer.writerow([])
        writer.writerow([_("Member"), _("Name"), _("Amount")])
        for member in statement.members:
            writer.writerow([member["member"] if member["member"] is not None else "",
                             _text(member["name"]) if member["member"] is not None else _("The cooperative's own"),
                             f"{member['amount']:.2f}"])
    return BOM + out.getvalue()


def statement_csv_response(statement: Statement) -> HttpResponse:
    response = HttpResponse(statement_csv(statement).encode("utf-8"), content_type="text/csv; charset=utf-8")
    name = f"cunbo-statement-{statement.merchant.pk}-{statement.month.label}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
