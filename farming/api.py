"""HTTP for adoptions: parse, check role, call, render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsConsumer, IsMerchant
from core.idempotency import idempotent
from core.parsers import UPLOAD_PARSERS
from orders.api import IDEMPOTENCY_PARAM
from orders.services.direct import DirectAddress

from . import selectors, services
from .serializers import (
    AdoptInput,
    AdoptionCreateInput,
    AdoptionListFilter,
    AdoptionOutput,
    SubscriptionOutput,
    UpdateInput,
    UpdateOutput,
)


class AdoptionListApi(generics.ListAPIView):
    serializer_class = AdoptionOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(parameters=[AdoptionListFilter], summary="Open adoptions (a merchant also sees its own)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = AdoptionListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.adoption_list(user=self.request.user, **params.validated_data)

    @extend_schema(request=AdoptionCreateInput, responses={201: AdoptionOutput},
                   summary="Offer an adoption (a tree, an animal, a plot share) with its season and schedule")
    def post(self, request):
        data = AdoptionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        schedule = values.pop("schedule")
        adoption = services.adoption_create(user=request.user, product_id=values.pop("product"), **values,
                                            every=schedule["every"], first_delivery=schedule["first_delivery"],
                                            deliveries=schedule["deliveries"])
        return Response(AdoptionOutput(selectors.adoption_get(adoption_id=adoption.pk, user=request.user)).data,
                        status=status.HTTP_201_CREATED)


class AdoptionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=AdoptionOutput, summary="An adoption, with its delivery dates and places left")
    def get(self, request, adoption_id: int):
        return Response(AdoptionOutput(selectors.adoption_get(adoption_id=adoption_id, user=request.user)).data)


class AdoptApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=AdoptInput, responses={201: SubscriptionOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Adopt: take a place and get the order to pay up front")
    @idempotent
    def post(self, request, adoption_id: int):
        data = AdoptInput(data=request.data)
        data.is_valid(raise_exception=True)
        address = data.validated_data["address"]
        subscription = services.adoption_adopt(
            buyer=request.user, adoption_id=adoption_id, stream_id=data.validated_data.get("stream"),
            address=DirectAddress(village_id=address["village"], detail=address["detail"],
                                  recipient=address["recipient"], phone=address["phone"]))
        subscription = selectors.subscriptions_for(user=request.user).get(pk=subscription.pk)
        return Response(SubscriptionOutput(subscription).data, status=status.HTTP_201_CREATED)


class AdoptionUpdateListApi(generics.ListAPIView):
    parser_classes = UPLOAD_PARSERS  # a photo may come with the note
    serializer_class = UpdateOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(summary="The farmer's updates, for the owner and the adopters")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.adoption_updates(adoption_id=self.kwargs["adoption_id"], user=self.request.user)

    @extend_schema(request={"multipart/form-data": UpdateInput, "application/json": UpdateInput},
                   responses={201: UpdateOutput}, summary="Post a photo or a note for the adopters")
    def post(self, request, adoption_id: int):
        data = UpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        update = services.adoption_update_post(user=request.user, adoption_id=adoption_id, **data.validated_data)
        return Response(UpdateOutput(update, context={"request": request}).data, status=status.HTTP_201_CREATED)


class SubscriptionListApi(generics.ListAPIView):
    permission_classes = [IsConsumer]
    serializer_class = SubscriptionOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.subscriptions_for(user=self.request.user)


class SubscriptionCancelApi(APIView):
    permission_classes = [IsConsumer]

    @extend_schema(request=None, responses=SubscriptionOutput,
                   summary="Cancel an adoption: deliveries past the cut-off are refunded pro rata")
    def post(self, request, subscription_id: int):
        services.subscription_cancel(buyer=request.user, subscription_id=subscription_id)
        subscription = selectors.subscriptions_for(user=request.user).get(pk=subscription_id)
        return Response(SubscriptionOutput(subscription).data)
