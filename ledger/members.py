"""Writes of a cooperative's members and their shares (docs/ledger.md, "Cooperative members").

A cooperative shop records its member households (name, mobile, the account their money is paid
to, sealed at rest) and each member's share, in percent, of a product's or a harvest batch's
money; the statements split the shop's net money by them (ledger.selectors.member_breakdown).
Only a cooperative has members (anything else: 409 ``not_a_cooperative``); a shop only ever
touches its own members, products and batches (another shop's product or batch: 404, another
shop's member named in a share: 400).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from catalog.models import HarvestBatch, Product
from core.errors import Conflict, NotFound, ValidationFailed
from merchants.models import Merchant
from orders.models import OrderLine

from .models import CoopMember, LineBatch, MemberShare

HUNDRED = Decimal("100.00")
MEMBER_FIELDS = ("name", "phone", "payout_kind", "payout_account", "bank_name", "active")


class NotACooperative(Conflict):
    code = "not_a_cooperative"
    default_message = _("Only a cooperative shop has members.")


def cooperative_check(merchant: Merchant) -> None:
    if merchant.kind != Merchant.Kind.COOPERATIVE:
        raise NotACooperative()


def member_create(*, merchant: Merchant, name: str, phone: str, payout_kind: str, payout_account: str,
                  bank_name: str = "", active: bool = True) -> CoopMember:
    cooperative_check(merchant)
    return CoopMember.objects.create(merchant=merchant, name=name.strip(), phone=phone, payout_kind=payout_kind,
                                     payout_account=payout_account.strip(), bank_name=(bank_name or "").strip(),
                                     active=active)


@transaction.atomic
def member_update(*, merchant: Merchant, member_id: int, **changes) -> CoopMember:
    cooperative_check(merchant)
    member = CoopMember.objects.select_for_update().filter(pk=member_id, merchant_id=merchant.pk).first()
    if member is None:
        raise NotFound()
    changed = [name for name in MEMBER_FIELDS if name in changes]
    for name in changed:
        value = changes[name]
        setattr(member, name, value.strip() if isinstance(value, str) else value)
    if changed:
        member.save(update_fields=[*changed, "updated_at"])
    return member


class MemberHasShares(Conflict):
    code = "member_has_shares"
    default_message = _("This member holds shares of products or batches: deactivate the member instead.")


@transaction.atomic
def member_delete(*, merchant: Merchant, member_id: int) -> None:
    """Remove a member recorded by mistake; a member with shares is deactivated instead (409)."""
    cooperative_check(merchant)
    member = CoopMember.objects.select_for_update().filter(pk=member_id, merchant_id=merchant.pk).first()
    if member is None:
        raise NotFound()
    if MemberShare.objects.filter(member_id=member.pk).exists():
        raise MemberHasShares()
    member.delete()


# --- shares ------------------------------------------------------------------------------------------

def _percent(value) -> Decimal | None:
    try:
        percent = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not percent.is_finite() or percent != percent.quantize(Decimal("0.01")) or not 0 < percent <= HUNDRED:
        return None
    return percent


def _checked_shares(*, merchant: Merchant, items: list[dict]) -> dict[int, Decimal]:
    """``[{member, percent}]`` → ``{member id: percent}``: members of this shop, active, each once, each
    share above 0 with at most two places, together exactly 100 (an empty list clears the shares)."""
    errors: dict = {}
    shares: dict[int, Decimal] = {}
    for index, item in enumerate(items):
        percent = _percent(item.get("percent"))
        member_id = item.get("member")
        if percent is None:
            errors[str(index)] = {"percent": [_("Give a share above 0 and at most 100, with at most two decimal "
                                                "places.")]}
        elif member_id in shares:
            errors[str(index)] = {"member": [_("This member is listed twice.")]}
        else:
            shares[member_id] = percent
    if errors:
        raise ValidationFailed(_("Some shares are invalid."), fields={"shares": errors})
    members = dict(CoopMember.objects.filter(merchant_id=merchant.pk, pk__in=list(shares)).values_list("pk", "active"))
    foreign = [member_id for member_id in shares if member_id not in members]
    if foreign:
        raise ValidationFailed(_("Shares can only go to members of this cooperative."),
                               fields={"shares": [_("Not a member of this cooperative: %(ids)s.")
                                                  % {"ids": ", ".join(str(m) for m in foreign)}]})
    inactive = [member_id for member_id, active in members.items() if not active]
    if inactive:
        raise ValidationFailed(_("An inactive member cannot be given a share."),
                               fields={"shares": [_("Inactive members: %(ids)s.")
                                                  % {"ids": ", ".join(str(m) for m in sorted(inactive))}]})
    total = sum(shares.values(), Decimal("0.00"))
    if shares and total != HUNDRED:
        message = _("The shares must add up to exactly 100%%; these add up to %(total)s%%.") % {"total": total}
        raise ValidationFailed(message, fields={"shares": [message]})
    return shares


def _replace(*, merchant: Merchant, shares: dict[int, Decimal], product: Product | None = None,
             batch: HarvestBatch | None = None) -> list[MemberShare]:
    target = {"product": product} if product is not None else {"batch": batch}
    MemberShare.objects.filter(**target).delete()
    return MemberShare.objects.bulk_create([MemberShare(member_id=member_id, percent=percent, **target)
                                            for member_id, percent in shares.items()])


@transaction.atomic
def product_shares_set(*, merchant: Merchant, product_id: int, items: list[dict]) -> list[MemberShare]:
    """Replace the members' shares of one of the shop's products (the product's row lock serialises
    two writers)."""
    cooperative_check(merchant)
    product = Product.objects.select_for_update().filter(pk=product_id, merchant_id=merchant.pk).first()
    if product is None:
        raise NotFound()
    return _replace(merchant=merchant, shares=_checked_shares(merchant=merchant, items=items), product=product)


@transaction.atomic
def batch_shares_set(*, merchant: Merchant, batch_id: int, items: list[dict]) -> list[MemberShare]:
    """Replace the members' shares of one harvest batch of the shop's products (they win over the
    product's shares for lines packed from that batch)."""
    cooperative_check(merchant)
    batch = (HarvestBatch.objects.select_for_update(of=("self",)).filter(pk=batch_id, product__merchant_id=merchant.pk)
             .first())
    if batch is None:
        raise NotFound()
    return _replace(merchant=merchant, shares=_checked_shares(merchant=merchant, items=items), batch=batch)


def product_owned(*, merchant: Merchant, product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, merchant_id=merchant.pk).first()
    if product is None:
        raise NotFound()
    return product


def batch_owned(*, merchant: Merchant, batch_id: int) -> HarvestBatch:
    batch = HarvestBatch.objects.filter(pk=batch_id, product__merchant_id=merchant.pk).first()
    if batch is None:
        raise NotFound()
    return batch


@transaction.atomic
def line_batch_set(*, merchant: Merchant, line_id: int, batch_id: int | None) -> LineBatch | None:
    """Record which harvest batch one of the shop's order lines was packed from (None: forget it)."""
    cooperative_check(merchant)
    line = OrderLine.objects.filter(pk=line_id, merchant_order__merchant_id=merchant.pk).first()
    if line is None:
        raise NotFound()
    if batch_id is None:
        LineBatch.objects.filter(line_id=line.pk).delete()
        return None
    if not HarvestBatch.objects.filter(pk=batch_id, product_id=line.product_id).exists():
        raise ValidationFailed(fields={"batch": [_("Give a harvest batch of this line's product.")]})
    link, _created = LineBatch.objects.update_or_create(line_id=line.pk, defaults={"batch_id": batch_id})
    return link
