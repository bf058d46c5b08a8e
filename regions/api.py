from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny

from .selectors import region_list
from .serializers import RegionListFilter, RegionOutput


class RegionListApi(generics.ListAPIView):
    """The county → township → village tree, one level or one parent at a time."""

    permission_classes = [AllowAny]
    serializer_class = RegionOutput
    filter_backends: list = []

    @extend_schema(parameters=[RegionListFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = RegionListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return region_list(**params.validated_data)
