from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsConsumer
from core.idempotency import idempotent
from orders.api import IDEMPOTENCY_PARAM

from .providers import ChargeRequest
from .serializers import PayInput, PaymentOutput, WebhookNoticeInput, WebhookOutput
from .services import payment_create, webhook_handle
from .signature import HEADER as SIGNATURE_HEADER

WEBHOOK_DESCRIPTION = f"""
A payment provider's signed notice. Header
`{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256(PAYMENT_WEBHOOK_SECRET, "<t>.<raw body>")>`
— the HMAC is computed over the timestamp, a dot, and the exact bytes of the body.

- A bad signature, a timestamp more than 300 s from the server's clock, a malformed body or an
  unknown payment answers 400 and changes nothing.
- An amount or currency that does not match the payment answers 400 and flags the payment
  (nothing is marked paid).
WeChat Pay (`/api/payments/webhook/wechatpay/`) and Alipay (`/alipay/`) post in their own
documented formats instead (docs/orders-payments.md, "Payment channels"): WeChat Pay's signed
JSON with the `Wechatpay-*` headers, Alipay's RSA2-signed form, answered with the text `success`.

- A repeated `event_id` answers 200 (`duplicate`) and changes nothing more.
- `payment.succeeded` for an order still pending payment marks it paid — also past its payment
  deadline if the sweep has not cancelled it yet (its stock is still held). If the order was
  already cancelled (or paid by another payment), the money is refunded in full through the
  provider (`refunded_late`).
"""


class PayApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=PayInput, responses={201: PaymentOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Start paying an order pending payment",
                   description="`client_params` is what the buyer's client hands to the channel (docs/"
                               "orders-payments.md, \"Payment channels\"). A channel that cannot be reached "
                               "answers 503 with Retry-After; the order stays payable and a retry reuses the "
                               "same payment (the same out-trade-no at the channel).")
    @idempotent(atomic=False)  # the payment commits before the channel is called (payment_create)
    def post(self, request, order_id: int):
        data = PayInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payment = payment_create(buyer=request.user, order_id=order_id, provider_name=values["provider"],
                                 request=ChargeRequest(method=values["method"], openid=values["openid"],
                                                       client_ip=request.META.get("REMOTE_ADDR", "")))
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class WebhookApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=WebhookNoticeInput, responses={200: WebhookOutput}, description=WEBHOOK_DESCRIPTION,
                   summary="Payment provider notification (signed)",
                   parameters=[OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True,
                                                description="t=<unix seconds>,v1=<hex hmac>")])
    def post(self, request, provider: str):
        outcome = webhook_handle(provider_name=provider, headers=request.headers, body=request.body)
        if provider == "alipay":  # Alipay's notify protocol: the text "success", or it sends the notice again
            return HttpResponse("success", content_type="text/plain")
        return Response({"outcome": outcome})
