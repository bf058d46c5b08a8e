"""HTTP for carts, orders, merchant orders, reviews and disputes: parse, check role, call, render."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsConsumer, IsMerchant, IsStaffMember
from core.errors import NotFound
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import answer as idempotency_answer
from core.idempotency import idempotent
from core.interactions import interaction_note
from core.parsers import UPLOAD_PARSERS

from . import selectors, services
from .checkout.admission import (
    checkout_admission,
    checkout_slot,
    offer_lines_of,
    token_user_id,
)
from .checkout.plan import CheckoutAddress, CheckoutLine, checkout_plan, checkout_write
from .serializers import (
    CartItemInput,
    CartItemOutput,
    CartItemUpdateInput,
    CartOutput,
    CheckoutInput,
    DisputeListFilter,
    DisputeOpenInput,
    DisputeOutput,
    DisputeResolveInput,
    DisputeRespondInput,
    MerchantOrderListFilter,
    MerchantOrderOutput,
    OrderOutput,
    ReviewInput,
    ReviewOutput,
    checkout_input_plain,
    order_output_data,
)
from .throttles import CheckoutIPThrottle, CheckoutUserThrottle

IDEMPOTENCY_PARAM = OpenApiParameter(
    IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
    description=_("A retry with the same key and body returns the first answer and creates nothing new."))


def _order_output(request, order_id: int):
    return OrderOutput(selectors.order_get(user=request.user, order_id=order_id), context={"request": request}).data


# --- cart ------------------------------------------------------------------------------------------

class CartApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(responses=CartOutput, summary="The consumer's cart, at today's prices")
    def get(self, request):
        return Response(CartOutput(selectors.cart_for(user=request.user)).data)


class CartItemCreateApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=CartItemInput, responses={201: CartItemOutput})
    def post(self, request):
        data = CartItemInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.cart_item_add(user=request.user, product_id=data.validated_data["product"],
                                      quantity=data.validated_data["quantity"],
                                      offer_id=data.validated_data.get("offer"))
        return Response(CartItemOutput(selectors.cart_item_get(user=request.user, item_id=item.pk)).data,
                        status=status.HTTP_201_CREATED)


class CartItemApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=CartItemUpdateInput, responses=CartItemOutput)
    def patch(self, request, item_id: int):
        data = CartItemUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_item_update(user=request.user, item_id=item_id, quantity=data.validated_data["quantity"])
        return Response(CartItemOutput(selectors.cart_item_get(user=request.user, item_id=item_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, item_id: int):
        services.cart_item_remove(user=request.user, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- orders ----------------------------------------------------------------------------------------

class OrderListCreateApi(generics.ListAPIView):
    """The checkout answers a buyer the offer gate refuses before touching the database: the
    token is checked without a query and the user is loaded only once the gate admitted them."""

    permission_classes = [IsConsumer]
    serializer_class = OrderOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.orders_for(user=self.request.user)

    def perform_authentication(self, request):
        if request.method != "POST":
            super().perform_authentication(request)

    def check_permissions(self, request):
        if request.method != "POST":
            super().check_permissions(request)

    def get_throttles(self):
        if self.request.method == "POST":
            return [CheckoutUserThrottle(), CheckoutIPThrottle()]
        return super().get_throttles()

    @extend_schema(request=CheckoutInput, responses={201: OrderOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Checkout: reserve stock and create the order (status pending_payment)")
    def post(self, request):
        request.body  # noqa: B018 - keep the raw body readable for the Idempotency-Key fingerprint
        offer_lines = offer_lines_of(request.data)
        with checkout_admission(buyer_id=token_user_id(request), offer_lines=offer_lines,
                                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, "").strip()) as outcome:
            with checkout_slot():
                super().perform_authentication(request)
                super().check_permissions(request)
                validated = checkout_input_plain(request.data)
                if validated is None:
                    data = CheckoutInput(data=request.data)
                    data.is_valid(raise_exception=True)
                    validated = data.validated_data
                response = self._create(request, data=validated)
            outcome["failed"] = response.status_code >= 400 or response.has_header("Idempotent-Replayed")
        if not outcome["failed"]:  # after the commit, the slot and the gate: an append to a buffer
            interaction_note(kind="order", user_id=request.user.pk, ref=response.data["id"])
        return response

    @idempotent(atomic=False)  # the checkout writes its answer with the order (checkout.plan.checkout_write)
    def _create(self, request, *, data):
        address = data["address"]
        plan = checkout_plan(
            buyer=request.user,
            lines=[CheckoutLine(product_id=i["product"], quantity=i["quantity"], offer_id=i.get("offer"))
                   for i in data.get("items") or []],
            address=CheckoutAddress(village_id=address["village"], detail=address["detail"],
                                          recipient=address["recipient"], phone=address["phone"]),
            stream_id=data.get("stream"), from_cart=data["from_cart"])
        rendered = {}

        def answer_for(order):  # the answer is stored with the order's rows (core.idempotency)
            rendered["data"] = order_output_data(order)
            return idempotency_answer(request, status=status.HTTP_201_CREATED, data=rendered["data"])

        checkout_write(plan=plan, answer_for=answer_for)
        return Response(rendered["data"], status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(responses=OrderOutput)
    def get(self, request, order_id: int):
        order = selectors.order_get(user=request.user, order_id=order_id)
        if order is None:
            raise NotFound()
        return Response(OrderOutput(order).data)


class OrderCancelApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=None, responses=OrderOutput,
                   summary="Cancel before shipping: units go back on sale, anything paid is refunded")
    def post(self, request, order_id: int):
        services.order_cancel(buyer=request.user, order_id=order_id)
        return Response(_order_output(request, order_id))


# --- merchant orders -------------------------------------------------------------------------------

class MerchantOrderListApi(generics.ListAPIView):
    permission_classes = [IsMerchant]
    serializer_class = MerchantOrderOutput
    filter_backends: list = []

    @extend_schema(parameters=[MerchantOrderListFilter], summary="The merchant's sub-orders")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = MerchantOrderListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.merchant_orders_for(user=self.request.user, status=params.validated_data.get("status"))


class MerchantOrderDetailApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses=MerchantOrderOutput)
    def get(self, request, merchant_order_id: int):
        mo = selectors.merchant_orders_for(user=request.user).filter(pk=merchant_order_id).first()
        if mo is None:
            raise NotFound()
        return Response(MerchantOrderOutput(mo).data)


class MerchantOrderConfirmApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=None, responses=OrderOutput, summary="The buyer confirms receipt")
    def post(self, request, merchant_order_id: int):
        mo = services.merchant_order_confirm(buyer=request.user, merchant_order_id=merchant_order_id)
        return Response(_order_output(request, mo.order_id))


class ReviewCreateApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=ReviewInput, responses={201: ReviewOutput})
    def post(self, request, merchant_order_id: int):
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(buyer=request.user, merchant_order_id=merchant_order_id,
                                        **data.validated_data)
        return Response(ReviewOutput(review).data, status=status.HTTP_201_CREATED)


# --- disputes --------------------------------------------------------------------------------------

def _dispute_output(request, dispute_id: int):
    dispute = selectors.disputes_for(user=request.user).get(pk=dispute_id)
    return DisputeOutput(dispute, context={"request": request}).data


class DisputeCreateApi(APIView):
    parser_classes = UPLOAD_PARSERS  # a file may come with the body
    permission_classes = [IsConsumer]

    @extend_schema(request={"application/json": DisputeOpenInput, "multipart/form-data": DisputeOpenInput},
                   responses={201: DisputeOutput}, summary="Open a dispute on a paid merchant order")
    def post(self, request, merchant_order_id: int):
        data = DisputeOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_open(buyer=request.user, merchant_order_id=merchant_order_id,
                                        **data.validated_data)
        return Response(_dispute_output(request, dispute.pk), status=status.HTTP_201_CREATED)


class DisputeListApi(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = DisputeOutput
    filter_backends: list = []

    @extend_schema(parameters=[DisputeListFilter],
                   summary="Disputes: the buyer's, the merchant's, or an operator's county's")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = DisputeListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.disputes_for(user=self.request.user, status=params.validated_data.get("status"))


class DisputeDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=DisputeOutput)
    def get(self, request, dispute_id: int):
        if not selectors.disputes_for(user=request.user).filter(pk=dispute_id).exists():
            raise NotFound()
        return Response(_dispute_output(request, dispute_id))


class DisputeRespondApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(request=DisputeRespondInput, responses=DisputeOutput,
                   summary="The merchant accepts (refund issued) or contests (the county decides)")
    def post(self, request, dispute_id: int):
        data = DisputeRespondInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.dispute_respond(merchant_user=request.user, dispute_id=dispute_id, **data.validated_data)
        return Response(_dispute_output(request, dispute_id))


class DisputeResolveApi(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=DisputeResolveInput, responses=DisputeOutput,
                   summary="A county operator decides an escalated dispute")
    def post(self, request, dispute_id: int):
        data = DisputeResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.dispute_resolve(staff_user=request.user, dispute_id=dispute_id, **data.validated_data)
        return Response(_dispute_output(request, dispute_id))
