"""What the merchants domain tells other domains without importing them."""

from django.dispatch import Signal

# Sent inside the transaction that moves an approved shop to any other status (suspended, or back to
# review): the shop may no longer sell. Arguments: ``merchant`` (locked, new status set), ``actor``, ``reason``.
merchant_stopped_selling = Signal()
