"""DEBUG only: deliver a sandbox payout's result as the provider would, with a signed callback."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from payouts.models import Payout
from payouts.providers.sandbox import HEADER, sandbox_callback, sign


class Command(BaseCommand):
    help = "DEBUG only: say a sandbox payout was paid (--paid) or failed (--failed) by a signed callback."

    def add_arguments(self, parser):
        parser.add_argument("payout_id", type=int)
        outcome = parser.add_mutually_exclusive_group(required=True)
        outcome.add_argument("--paid", action="store_true")
        outcome.add_argument("--failed", action="store_true")
        parser.add_argument("--reason", default="", help="the failure reason (with --failed)")
        parser.add_argument("--amount", help="send this amount (to try a mismatch)")

    def handle(self, *args, payout_id, paid, failed, reason, amount, **options):
        if not settings.DEBUG:
            raise CommandError("sandbox_payout_result only runs with DEBUG=1.")
        payout = Payout.objects.filter(pk=payout_id, provider="sandbox").first()
        if payout is None:
            raise CommandError(f"No sandbox payout {payout_id}.")
        body = sandbox_callback(payout=payout, paid=paid, amount=amount, reason=reason)
        host = (settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".").replace("*", "localhost")
        response = Client(HTTP_HOST=host).post("/api/payouts/callback/sandbox/", body, content_type="application/json",
                                               headers={HEADER: sign(body)}, secure=settings.SECURE_SSL_REDIRECT)
        text = response.content.decode()
        self.stdout.write(f"payout {payout.pk}: callback answered {response.status_code} {text}")
        if response.status_code >= 400:
            raise CommandError(text)
