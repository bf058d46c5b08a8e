"""A tiny write endpoint that exists only in the tests, to exercise Idempotency-Key."""

import time

from django.urls import include, path
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Conflict
from core.idempotency import idempotent
from regions.models import Region


class CountyInput(serializers.Serializer):
    name = serializers.CharField()
    code = serializers.CharField()
    pause = serializers.FloatField(required=False, default=0)
    refuse = serializers.BooleanField(required=False, default=False)


class IdempotentCountyCreate(APIView):
    permission_classes = [IsAuthenticated]

    @idempotent
    def post(self, request):
        data = CountyInput(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["refuse"]:
            raise Conflict("refused on purpose", code="refused")
        county = Region.objects.create(name=data.validated_data["name"], code=data.validated_data["code"], level="county")
        time.sleep(data.validated_data["pause"])
        return Response({"id": county.pk, "code": county.code}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("api/test/counties/", IdempotentCountyCreate.as_view()),
    path("", include("marketplace.urls")),
]
