"""Product stock: the only place it changes, always by a conditional UPDATE."""

from django.db.models import F

from .models import Product


def product_stock_take(*, product_id: int, quantity: int) -> bool:
    """Take ``quantity`` units if that many are there; False (and nothing changed) if not."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return bool(
        Product.objects.filter(pk=product_id, stock__gte=quantity).update(stock=F("stock") - quantity)
    )


def product_stock_return(*, product_id: int, quantity: int) -> None:
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)


def product_stock_set(*, product_id: int, stock: int) -> None:
    """The shop states how many units are on hand (a single UPDATE; the caller holds the row lock)."""
    if stock < 0:
        raise ValueError("stock cannot be negative")
    Product.objects.filter(pk=product_id).update(stock=stock)
