"""Bench-only app configs (never in the product's INSTALLED_APPS).

``NoLedgerPostingsConfig`` is added by bench/settings.py when ``BENCH_LEDGER=0``: once every app is
ready (the ledger's receivers connected), it disconnects the ledger's posting of a received payment,
so bench/webhook.py can measure the same webhook with and without its posting.
"""

from django.apps import AppConfig


class NoLedgerPostingsConfig(AppConfig):
    name = "bench"
    label = "bench_no_ledger"
    verbose_name = "bench: payments without their ledger posting"

    def ready(self):
        from ledger.receivers import post_the_payment
        from payments.domain_events import payment_received

        payment_received.disconnect(post_the_payment)
