"""HTTP for payout accounts, payouts and the payout provider's callback: parse, call, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsMerchant, IsOperator
from core.errors import NotFound
from core.idempotency import idempotent
from orders.api import IDEMPOTENCY_PARAM

from . import services
from .models import Payout
from .providers.sandbox import HEADER as SIGNATURE_HEADER
from .serializers import (
    CallbackOutput,
    CountyPayoutAccountFilter,
    CountyPayoutAccountOutput,
    PayoutAccountInput,
    PayoutAccountOutput,
    PayoutAccountRejectInput,
    PayoutOutput,
    PayoutRequestInput,
)

CALLBACK_DESCRIPTION = f"""
The payout provider's signed result of a transfer. Header
`{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256(PAYOUT_CALLBACK_SECRET, "<t>.<raw body>")>`.
Body (the sandbox's, shaped like Alipay's): `notify_id`, `out_biz_no` (the payout's `request_id`),
`order_id` (the provider's reference), `status` (`SUCCESS` | `FAIL`), `trans_amount`, `fail_reason`.

- A bad signature, a timestamp more than 300 s from now, a malformed body, an unknown `out_biz_no`
  or an amount other than the payout's answers 400 and changes nothing.
- A result the payout already has answers 200 `duplicate`.
- `SUCCESS`: the payout is paid; `FAIL`: it failed and its money is back in the merchant's available
  balance. The merchant is told either way.
"""


class PayoutAccountApi(APIView):
    """The merchant's own payout account (the newest version), masked."""

    permission_classes = [IsMerchant]

    @extend_schema(responses=PayoutAccountOutput, summary="The shop's payout account (masked)")
    def get(self, request):
        merchant = services.merchant_of(request.user)
        account = services.account_current(merchant.pk)
        if account is None:
            raise NotFound(code="no_payout_account")
        return Response(PayoutAccountOutput(account).data)

    @extend_schema(request=PayoutAccountInput, responses=PayoutAccountOutput,
                   summary="Change the payout account (payouts are on hold until the county verifies it)")
    def put(self, request):
        data = PayoutAccountInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.payout_account_change(user=request.user, **data.validated_data)
        return Response(PayoutAccountOutput(account).data)


class PayoutListCreateApi(generics.ListAPIView):
    permission_classes = [IsMerchant]
    serializer_class = PayoutOutput
    filter_backends: list = []

    @extend_schema(summary="The shop's payouts, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        merchant = services.merchant_of(self.request.user)
        return Payout.objects.filter(merchant=merchant).select_related("account").order_by("-created_at", "-pk")

    @extend_schema(request=PayoutRequestInput, responses={201: PayoutOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Ask for a payout of part or all of the available balance")
    @idempotent
    def post(self, request):
        data = PayoutRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.payout_request(user=request.user, amount=data.validated_data["amount"])
        return Response(PayoutOutput(payout).data, status=status.HTTP_201_CREATED)


class PayoutDetailApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses=PayoutOutput)
    def get(self, request, payout_id: int):
        payout = Payout.objects.select_related("account").filter(
            pk=payout_id, merchant__user_id=request.user.pk).first()
        if payout is None:
            raise NotFound()
        return Response(PayoutOutput(payout).data)


class CountyPayoutAccountListApi(generics.GenericAPIView):
    """Payout accounts of the operator's county, e.g. ``?status=unverified``: the ones to verify."""

    permission_classes = [IsOperator]
    serializer_class = CountyPayoutAccountOutput
    filter_backends: list = []

    @extend_schema(parameters=[CountyPayoutAccountFilter], responses=CountyPayoutAccountOutput(many=True))
    def get(self, request):
        params = CountyPayoutAccountFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.paginate_queryset(services.accounts_for_county(user=request.user, **params.validated_data))
        return self.get_paginated_response(CountyPayoutAccountOutput(page, many=True).data)


class PayoutAccountVerifyApi(APIView):
    permission_classes = [IsOperator]

    @extend_schema(request=None, responses=CountyPayoutAccountOutput,
                   summary="Verify a payout account of the county's shop (payouts may use it)")
    def post(self, request, account_id: int):
        account = services.payout_account_review(user=request.user, account_id=account_id, decision="verify")
        return Response(CountyPayoutAccountOutput(account).data)


class PayoutAccountRejectApi(APIView):
    permission_classes = [IsOperator]

    @extend_schema(request=PayoutAccountRejectInput, responses=CountyPayoutAccountOutput,
                   summary="Reject a payout account of the county's shop, with a reason")
    def post(self, request, account_id: int):
        if not services.accounts_for_county(user=request.user).filter(pk=account_id).exists():
            raise NotFound()  # another county's: 404 before its input is even read
        data = PayoutAccountRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.payout_account_review(user=request.user, account_id=account_id, decision="reject",
                                                 reason=data.validated_data["reason"])
        return Response(CountyPayoutAccountOutput(account).data)


class CallbackApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=None, responses={200: CallbackOutput}, description=CALLBACK_DESCRIPTION,
                   summary="Payout provider's result callback (signed)",
                   parameters=[OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True,
                                                description="t=<unix seconds>,v1=<hex hmac>")])
    def post(self, request, provider: str):
        outcome = services.callback_handle(provider_name=provider, headers=request.headers, body=request.body)
        return Response({"outcome": outcome})
