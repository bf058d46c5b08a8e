"""HTTP for the figures: a shop's own, a county's for its operators (anything else 404)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .serializers import RangeQuery

RANGE = [OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE)]


def _range(request) -> tuple:
    params = RangeQuery(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data["first"], params.validated_data["last"]


class MerchantFiguresApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=RANGE, responses=OpenApiTypes.OBJECT)
    def get(self, request, merchant_id: int):
        merchant = selectors.merchant_for_figures(user=request.user, merchant_id=merchant_id)  # 404 before 400
        first, last = _range(request)
        return Response(selectors.merchant_figures(merchant=merchant, first=first, last=last))


class CountyFiguresApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=RANGE, responses=OpenApiTypes.OBJECT)
    def get(self, request, county_id: int):
        county = selectors.county_for_figures(user=request.user, county_id=county_id)
        first, last = _range(request)
        return Response(selectors.county_figures(county_id=county, first=first, last=last))


class StreamFunnelApi(APIView):
    """One stream's funnel, for its shop (another's or none: 404)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, stream_id: int):
        stream = selectors.stream_for_figures(user=request.user, stream_id=stream_id)
        return Response(selectors.stream_funnel(stream=stream))


class DemandOutlookApi(APIView):
    """Units a week each product may sell in the coming four weeks, with the method's past error."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, merchant_id: int):
        merchant = selectors.merchant_for_figures(user=request.user, merchant_id=merchant_id)
        return Response(selectors.demand_outlook(merchant=merchant))
