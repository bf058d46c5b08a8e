"""Harvest batches: each gets the public trace code printed on its label."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from core.uploads import check_upload

from ..models import HarvestBatch
from ..selectors import product_get_owned


@transaction.atomic
def batch_create(*, product_id: int, user, harvested_at: datetime.date, plot: str = "",
                 quantity: Decimal | None = None, inspection: dict | None = None) -> HarvestBatch:
    """The owner records a harvest of its product (with its inspection, if there was one)."""

    product = product_get_owned(product_id=product_id, user=user, for_update=True)
    today = timezone.localdate()
    errors: dict = {}
    if harvested_at > today:
        errors["harvested_at"] = [_("The harvest date is in the future.")]
    batch = HarvestBatch(product=product, harvested_at=harvested_at, plot=(plot or "").strip(), quantity=quantity,
                         unit=product.unit)
    if inspection:
        inspection_errors = {}
        for name in ("agency", "inspected_at", "result"):
            if not inspection.get(name):
                inspection_errors[name] = [_("This field is required for an inspection.")]
        if inspection.get("inspected_at") and inspection["inspected_at"] > today:
            inspection_errors["inspected_at"] = [_("The inspection date is in the future.")]
        if inspection.get("report"):
            try:
                checked = check_upload(inspection["report"], field="report", allow_pdf=True)
                batch.inspection_report = checked.file
            except ValidationFailed as exc:
                inspection_errors.update(exc.fields)
        if inspection_errors:
            errors["inspection"] = inspection_errors
        batch.inspection_agency = (inspection.get("agency") or "").strip()
        batch.inspected_at = inspection.get("inspected_at")
        batch.inspection_result = inspection.get("result") or ""
    if errors:
        raise ValidationFailed(fields=errors)
    batch.save()
    return batch
