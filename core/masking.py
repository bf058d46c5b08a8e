"""Masks for numbers and names shown to people who may not see them whole."""


def mask_number(value: str, *, keep_start: int = 4, keep_end: int = 4) -> str:
    """``370702199001011234`` -> ``3707**********1234``; short values keep less."""
    value = value or ""
    if len(value) <= keep_start + keep_end:
        keep = max(1, len(value) // 4)
        return value[:keep] + "*" * max(0, len(value) - 2 * keep) + value[-keep:] if len(value) > 2 else "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_phone(value: str) -> str:
    """``13800001234`` -> ``138****1234``."""
    return mask_number(value, keep_start=3, keep_end=4)


def mask_name(value: str) -> str:
    """``王小明`` -> ``王**``; ``alice`` -> ``a****``."""
    value = value or ""
    return value[:1] + "*" * max(2, len(value) - 1) if value else "***"
