"""HTTP for insights: what is kept of a buyer (PIPL), "for you", similar products."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsConsumer
from catalog.serializers import ProductListOutput
from livestream.selectors import stream_viewer_counts
from livestream.serializers import StreamListOutput

from . import selectors, services
from .models import InteractionEvent
from .serializers import (
    ForYouProductsOutput,
    ForYouQuery,
    ForYouStreamsOutput,
    InsightsSettingsInput,
    InteractionOutput,
    MyInsightsOutput,
    SimilarProductsOutput,
)


class MyInsightsApi(APIView):
    """The buyer's own interest profile and what is kept; nobody else reads it."""

    permission_classes = [IsConsumer]

    @extend_schema(responses=MyInsightsOutput)
    def get(self, request):
        return Response(MyInsightsOutput(selectors.my_insights(user=request.user)).data)

    @extend_schema(request=InsightsSettingsInput, responses=MyInsightsOutput)
    def patch(self, request):
        data = InsightsSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.profile_settings_update(user=request.user, **data.validated_data)
        return Response(MyInsightsOutput(selectors.my_insights(user=request.user)).data)

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.insights_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyInteractionListApi(generics.ListAPIView):
    """A paginated list (the schema says so: a ListAPIView, not one object)."""

    permission_classes = [IsConsumer]
    serializer_class = InteractionOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no signed-in buyer
            return InteractionEvent.objects.none()
        return selectors.my_interactions(user=self.request.user)


class ForYouProductsApi(APIView):
    """Products for the caller: a signed-in buyer's recommendations (never a delisted, suspended or
    sold-out product), topped up and, for anyone else, answered by what is popular in the province."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[ForYouQuery], responses=ForYouProductsOutput)
    def get(self, request):
        params = ForYouQuery(data=request.query_params)
        params.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated and request.user.is_consumer else AnonymousUser()
        products, source = selectors.for_you_products(user=user, province=params.validated_data.get("province", ""))
        return Response({"source": source, "results": ProductListOutput(products, many=True).data})


class ForYouStreamsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ForYouStreamsOutput)
    def get(self, request):
        user = request.user if request.user.is_authenticated and request.user.is_consumer else AnonymousUser()
        streams = selectors.for_you_streams(user=user)
        context = {"request": request, "viewers": stream_viewer_counts(streams)}
        return Response({"results": StreamListOutput(streams, many=True, context=context).data})


class SimilarProductsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=SimilarProductsOutput)
    def get(self, request, pk: int):
        products = selectors.similar_products(product_id=pk, user=request.user)
        return Response({"results": ProductListOutput(products, many=True).data})
