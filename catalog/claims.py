"""Which credential backs which claim, and which categories need a licence to be sold.

The rules (docs/merchants-catalog.md):

* ``organic`` needs a valid ``organic_cert``; ``green_food`` a valid ``green_food_cert``;
  ``geo_indication`` a valid ``geo_indication`` authorisation. "Valid" means verified by the
  county and not past its expiry date.
* ``pesticide_tested`` is backed by evidence, not a certificate: a harvest batch of the
  product whose inspection passed.
* Processed food (the ``processed`` category and its children) may only be sold with a
  valid ``food_license``.

When a backing credential expires or is revoked (and the shop has no other valid one of
that kind), the claim is withdrawn from the shop's listed products, which stay listed;
a lost ``food_license`` delists the shop's processed food.
"""

from __future__ import annotations

from merchants.models import Credential

from .models import Claim

CLAIM_CREDENTIAL: dict[str, str | None] = {
    Claim.ORGANIC: Credential.Kind.ORGANIC_CERT,
    Claim.GREEN_FOOD: Credential.Kind.GREEN_FOOD_CERT,
    Claim.GEO_INDICATION: Credential.Kind.GEO_INDICATION,
    Claim.PESTICIDE_TESTED: None,  # backed by a passed batch inspection
}

CREDENTIAL_CLAIMS: dict[str, list[str]] = {}
for _claim, _kind in CLAIM_CREDENTIAL.items():
    if _kind:
        CREDENTIAL_CLAIMS.setdefault(_kind, []).append(_claim)

LICENSED_CATEGORY_ROOTS: dict[str, str] = {"processed": Credential.Kind.FOOD_LICENSE}
