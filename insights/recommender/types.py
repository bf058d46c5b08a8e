from __future__ import annotations

from dataclasses import dataclass, field

# How much each kind of interaction says about interest in a product.
WEIGHTS = {"view": 1.0, "cart_add": 3.0, "order": 4.0, "paid": 6.0, "review": 2.0}


@dataclass(frozen=True)
class Item:
    id: int
    text: str  # title and description
    category: str
    county: str
    province: str = ""
    claims: tuple[str, ...] = ()
    price_band: str = ""


@dataclass(frozen=True)
class Interaction:
    user: int
    item: int
    kind: str
    at: float  # seconds since the epoch

    @property
    def weight(self) -> float:
        return WEIGHTS.get(self.kind, 0.0)


@dataclass
class Catalogue:
    items: dict[int, Item]
    provinces: dict[int, str] = field(default_factory=dict)  # buyer -> province ('' unknown)
