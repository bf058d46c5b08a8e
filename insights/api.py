"""HTTP for insights: what is kept of a buyer (PIPL), "for you", similar products."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsConsumer

from . import selectors, services
from .serializers import InsightsSettingsInput, InteractionOutput, MyInsightsOutput


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


class MyInteractionListApi(generics.GenericAPIView):
    permission_classes = [IsConsumer]
    serializer_class = InteractionOutput

    def get(self, request):
        page = self.paginate_queryset(selectors.my_interactions(user=request.user))
        return self.get_paginated_response(InteractionOutput(page, many=True).data)
