"""The county's review of products, and what happens when a backing credential goes."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, InvalidTransition, ValidationFailed
from merchants.models import Credential, Merchant
from merchants.selectors import valid_credentials_by_kind
from notifications.services import notify

from ..claims import CLAIM_CREDENTIAL, CREDENTIAL_CLAIMS
from ..models import Claim, Product
from ..selectors import licensed_categories, passed_batch, product_get_for_staff
from .status import P, product_note, product_transition

PRODUCT_DECISIONS = {"approve": P.LISTED, "reject": P.REJECTED}


class ClaimNotBacked(Conflict):
    code = "claim_not_backed"


class LicenceRequired(Conflict):
    code = "licence_required"


def unbacked_claims(product: Product) -> dict[str, str]:
    """Claim -> why it cannot be approved today (empty when every claim is backed)."""
    credentials = valid_credentials_by_kind(merchant_id=product.merchant_id)
    problems = {}
    for claim in product.claims:
        kind = CLAIM_CREDENTIAL.get(claim)
        if kind and kind not in credentials:
            problems[claim] = _("%(claim)s needs a verified, unexpired %(kind)s (%(code)s).") % {
                "claim": Claim(claim).label, "kind": Credential.Kind(kind).label, "code": kind}
        elif kind is None and claim == Claim.PESTICIDE_TESTED and passed_batch(product_id=product.pk) is None:
            problems[claim] = _("%(claim)s needs a harvest batch whose inspection passed.") % {
                "claim": Claim(claim).label}
    return problems


def _check_licence(product: Product) -> None:
    needed = licensed_categories().get(product.category_id)
    if needed and needed not in valid_credentials_by_kind(merchant_id=product.merchant_id):
        label = Credential.Kind(needed).label
        raise LicenceRequired(
            _("Selling in this category needs a verified, unexpired %(kind)s.") % {"kind": label},
            fields={"category": [_("No verified, unexpired %(kind)s (%(code)s).") % {"kind": label, "code": needed}]},
        )


@transaction.atomic
def product_review(*, product_id: int, actor, decision: str, reason: str = "") -> Product:
    """The county's operator (or an admin) lists or rejects a product; others get 404."""

    if decision not in PRODUCT_DECISIONS:
        raise ValidationFailed(fields={"decision": [_("Choose approve or reject.")]})
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationFailed(fields={"reason": [_("Give the shop a reason.")]})
    product = product_get_for_staff(product_id=product_id, user=actor, for_update=True)
    target = PRODUCT_DECISIONS[decision]
    if product.status != P.PENDING_REVIEW:
        raise InvalidTransition(_("Only a product waiting for review can be approved or rejected."),
                                fields={"status": [product.status]})
    if target == P.LISTED:
        if product.merchant.status != Merchant.Status.APPROVED:
            raise Conflict(_("The shop is not approved."), code="merchant_not_approved")
        problems = unbacked_claims(product)
        if problems:
            names = ", ".join(problems)
            raise ClaimNotBacked(
                _("These claims have no valid credential behind them: %(claims)s.") % {"claims": names},
                fields={"claims": [f"{claim}: {text}" for claim, text in problems.items()]},
            )
        _check_licence(product)
    product_transition(product=product, to=target, actor=actor, reason=reason)
    notify(user=product.merchant.user, kind=f"product.{target}",
           params={"product": product.pk, "title": product.title, "reason": reason})
    return product


def products_withdraw_for_credential(*, merchant_id: int, credential_kind: str, reason: str) -> int:
    """A shop lost its only valid ``credential_kind``: withdraw what relied on it. Returns products changed.

    Claims it backed are removed from the shop's listed products, which stay listed; if it was the
    licence a category needs (food_license for processed food), those products are delisted.
    The caller holds a transaction.
    """
    claims = set(CREDENTIAL_CLAIMS.get(credential_kind, []))
    licensed = {pk for pk, kind in licensed_categories().items() if kind == credential_kind}
    if not claims and not licensed:
        return 0
    changed = 0
    products = Product.objects.select_for_update().filter(merchant_id=merchant_id, status=P.LISTED).order_by("pk")
    for product in products:
        if product.category_id in licensed:
            product_transition(product=product, to=P.DELISTED, reason=reason)
            changed += 1
            continue
        lost = claims & set(product.claims)
        if lost:
            product.claims = [c for c in product.claims if c not in lost]
            product.save(update_fields=["claims", "updated_at"])
            product_note(product=product, reason=f"claims withdrawn ({', '.join(sorted(lost))}): {reason}")
            changed += 1
    return changed
