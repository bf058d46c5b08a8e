from django import template

from core.masking import mask_number

register = template.Library()


@register.filter
def masked(value) -> str:
    """A certificate's number as every public output shows it (core/masking.py)."""
    return mask_number(str(value or ""))


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
