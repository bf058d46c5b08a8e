"""DEBUG only: complete a sandbox payment by sending a correctly signed webhook, as the provider would."""

import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from orders.models import Order
from payments.models import Payment
from payments.providers.sandbox import sandbox_notice
from payments.services import payment_create
from payments.signature import HEADER, sign


class Command(BaseCommand):
    help = "DEBUG only: pay an order through the sandbox provider by sending it a signed webhook."

    def add_arguments(self, parser):
        parser.add_argument("order_id", type=int)
        parser.add_argument("--fail", action="store_true", help="send payment.failed instead")
        parser.add_argument("--amount", help="send this amount (to try a mismatch)")
        parser.add_argument("--url", help="POST to a running server (e.g. http://127.0.0.1:8000) instead of "
                                          "calling the app in-process")

    def handle(self, *args, order_id, fail, amount, url, **options):
        if not settings.DEBUG:
            raise CommandError("sandbox_pay only runs with DEBUG=1.")
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise CommandError(f"No order {order_id}.")
        payment = Payment.objects.filter(order=order, provider="sandbox", status=Payment.Status.PENDING).first()
        if payment is None:
            if order.status != Order.Status.PENDING_PAYMENT:
                raise CommandError(f"Order {order_id} is {order.status}, not pending payment.")

            payment = payment_create(buyer=order.buyer, order_id=order.pk, provider_name="sandbox")
        body = sandbox_notice(payment=payment, event_type="payment.failed" if fail else "payment.succeeded",
                              amount=amount)
        path = "/api/payments/webhook/sandbox/"
        if url:
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise CommandError("--url must be an http(s) address of a running Cunbo server.")
            # http(s) only, checked above.
            request = urllib.request.Request(url.rstrip("/") + path, data=body, method="POST",
                                             headers={"Content-Type": "application/json", HEADER: sign(body)})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
                    status, text = response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read().decode()
        else:
            host = (settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".").replace("*", "localhost")
            response = Client(HTTP_HOST=host).post(path, body, content_type="application/json",
                                                   headers={HEADER: sign(body)}, secure=settings.SECURE_SSL_REDIRECT)
            status, text = response.status_code, response.content.decode()
        self.stdout.write(f"payment {payment.pk}: webhook answered {status} {text}")
        if status >= 400:
            raise CommandError("the webhook refused the notice")
