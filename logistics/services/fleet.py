"""The county's fleet: couriers (accounts that scan and carry only) and vehicles."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from core.errors import Conflict, ValidationFailed
from regions.models import Region

from ..models import Courier, Vehicle


def _county_of(actor, county_id: int | None) -> int:
    if actor.is_operator:
        return actor.county_id
    if not county_id or not Region.objects.filter(pk=county_id, level=Region.Level.COUNTY).exists():
        raise ValidationFailed(fields={"county": [_("Name the county.")]})
    return county_id


@transaction.atomic
def courier_create(*, actor, user_id: int, township_id: int | None = None, county_id: int | None = None) -> Courier:
    """Give a courier account (or an operator) of the county a courier profile. An operator made a
    courier takes the courier's role: from then on it scans and carries only."""
    county = _county_of(actor, county_id)
    user = (User.objects.select_for_update()
            .filter(pk=user_id, role__in=(Role.OPERATOR, Role.COURIER), county_id=county, is_active=True).first())
    if user is None:
        raise ValidationFailed(fields={"user": [_("Not an operator of this county.")]})
    if township_id is not None and not Region.objects.filter(
            pk=township_id, level=Region.Level.TOWNSHIP, county_id=county).exists():
        raise ValidationFailed(fields={"township": [_("Not a township of this county.")]})
    try:
        with transaction.atomic():
            courier = Courier.objects.create(user=user, county_id=county, township_id=township_id)
    except IntegrityError:
        raise Conflict(_("This operator is already a courier."), code="already_courier") from None
    if user.role != Role.COURIER:
        user.role = Role.COURIER
        user.save(update_fields=["role"])
    return courier


@transaction.atomic
def vehicle_create(*, actor, plate: str, capacity_kg: Decimal, cold_chain: bool = False, name: str = "",
                   county_id: int | None = None) -> Vehicle:
    county = _county_of(actor, county_id)
    plate = plate.strip().upper()
    if Vehicle.objects.filter(plate=plate).exists():
        raise Conflict(_("A vehicle with this plate is already registered."), code="plate_taken",
                       fields={"plate": [plate]})
    return Vehicle.objects.create(county_id=county, plate=plate, name=name, cold_chain=cold_chain,
                                  capacity_kg=capacity_kg)
