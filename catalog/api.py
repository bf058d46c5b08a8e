"""HTTP for the catalogue, product review, harvest batches and trace pages."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsMerchant, IsStaffMember
from core.errors import NotFound
from core.interactions import interaction_note
from core.parsers import UPLOAD_PARSERS, MultiPartParser
from core.throttling import IPRateThrottle

from . import selectors, services
from .serializers import (
    BatchInput,
    BatchOutput,
    CategoryOutput,
    ImageInput,
    ImageOutput,
    ProductCreateInput,
    ProductDelistInput,
    ProductListFilter,
    ProductListOutput,
    ProductOutput,
    ProductQueueFilter,
    ProductReviewInput,
    ProductUpdateInput,
    StockAdjustInput,
    TraceOutput,
)
from .trace import trace_qr_png, trace_url


class TraceIPThrottle(IPRateThrottle):
    """Trace codes are printed on labels; guessing them from one address is slowed down."""

    scope = "trace_ip"


def product_response(product_id: int, request, status_code=200) -> Response:
    product = selectors.product_get_visible(product_id=product_id, user=request.user)
    evidence = selectors.claim_evidence(product=product)
    return Response(ProductOutput(product, context={"evidence": evidence}).data, status=status_code)


class CategoryListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CategoryOutput
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return selectors.category_tree()


class ProductListApi(generics.GenericAPIView):
    """The public catalogue (or ``?mine=1``: a merchant's own products in every status); create a product."""

    serializer_class = ProductListOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(parameters=[ProductListFilter], responses=ProductListOutput(many=True))
    def get(self, request):
        params = ProductListFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        mine = filters.pop("mine")
        if mine and not request.user.is_authenticated:
            raise NotAuthenticated()
        if not mine:
            filters.pop("status", None)
        qs = selectors.product_list(user=request.user, mine=mine, filters=selectors.ProductFilters(**filters))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ProductListOutput(page, many=True).data)

    @extend_schema(request=ProductCreateInput, responses={201: ProductOutput})
    def post(self, request):
        data = ProductCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(user=request.user, **data.validated_data)
        return product_response(product.pk, request, status.HTTP_201_CREATED)


class ProductQueueApi(generics.GenericAPIView):
    """Products waiting for review in the reviewer's county (admins: every county)."""

    permission_classes = [IsStaffMember]
    serializer_class = ProductListOutput
    filter_backends: list = []

    @extend_schema(parameters=[ProductQueueFilter], responses=ProductListOutput(many=True))
    def get(self, request):
        params = ProductQueueFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.product_review_queue(user=request.user, **params.validated_data))
        return self.get_paginated_response(ProductListOutput(page, many=True).data)


class ProductDetailApi(APIView):
    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "PATCH" else [AllowAny()]

    @extend_schema(responses=ProductOutput)
    def get(self, request, pk: int):
        response = product_response(pk, request)
        if request.user.is_authenticated and request.user.is_consumer:
            interaction_note(kind="view", user_id=request.user.pk, product_id=pk)
        return response

    @extend_schema(request=ProductUpdateInput, responses=ProductOutput)
    def patch(self, request, pk: int):
        selectors.product_get_owned(product_id=pk, user=request.user)  # 404 before any field error
        data = ProductUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.product_update(product_id=pk, user=request.user, **data.validated_data)
        return product_response(pk, request)


class ProductReviewApi(APIView):
    """The county's operator or an admin lists or rejects a product; anyone else gets 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ProductReviewInput, responses=ProductOutput)
    def post(self, request, pk: int):
        if not request.user.is_staff_member:
            raise NotFound()
        data = ProductReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.product_review(product_id=pk, actor=request.user, **data.validated_data)
        return product_response(pk, request)


class ProductDelistApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ProductDelistInput, responses=ProductOutput)
    def post(self, request, pk: int):
        data = ProductDelistInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.product_delist(product_id=pk, user=request.user, **data.validated_data)
        return product_response(pk, request)


class ProductRelistApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(request=None, responses=ProductOutput, summary="Ask for a delisted or rejected product's review")
    def post(self, request, pk: int):
        services.product_relist(product_id=pk, user=request.user)
        return product_response(pk, request)


class ProductStockApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(request=StockAdjustInput, responses=ProductOutput, summary="Add or remove units")
    def post(self, request, pk: int):
        selectors.product_get_owned(product_id=pk, user=request.user)
        data = StockAdjustInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.product_stock_adjust(product_id=pk, user=request.user, **data.validated_data)
        return product_response(pk, request)


class ProductImageListApi(APIView):
    parser_classes = (MultiPartParser,)  # the image is the body
    permission_classes = [IsMerchant]

    @extend_schema(request={"multipart/form-data": ImageInput}, responses={201: ImageOutput})
    def post(self, request, pk: int):
        selectors.product_get_owned(product_id=pk, user=request.user)
        data = ImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.product_image_add(product_id=pk, user=request.user, **data.validated_data)
        return Response(ImageOutput(image).data, status=status.HTTP_201_CREATED)


class ProductImageDetailApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int, image_id: int):
        services.product_image_delete(product_id=pk, image_id=image_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchListApi(generics.GenericAPIView):
    parser_classes = UPLOAD_PARSERS  # a file may come with the body
    """A product's harvest batches (owner and county staff); the owner records one."""

    serializer_class = BatchOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(responses=BatchOutput(many=True))
    def get(self, request, pk: int):
        product = selectors.product_get_visible(product_id=pk, user=request.user)
        if not selectors.product_is_managed_by(product, request.user):
            raise NotFound()
        page = self.paginate_queryset(selectors.batches_of(product=product))
        return self.get_paginated_response(BatchOutput(page, many=True).data)

    @extend_schema(request=BatchInput, responses={201: BatchOutput})
    def post(self, request, pk: int):
        selectors.product_get_owned(product_id=pk, user=request.user)
        data = BatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.batch_create(product_id=pk, user=request.user, **data.validated_data)
        return Response(BatchOutput(batch).data, status=status.HTTP_201_CREATED)


class TraceApi(APIView):
    """What a label's code tells anyone: product, shop, origin, harvest, inspection, and the proof behind each claim."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TraceIPThrottle]

    @extend_schema(responses=TraceOutput)
    def get(self, request, code: str):
        batch = selectors.batch_get_by_code(code=code)
        product = batch.product
        body = {
            "trace_code": batch.trace_code,
            "product": product,
            "merchant": product.merchant,
            "origin": product.origin,
            "harvest": batch,
            "inspection": batch if batch.has_inspection else None,
            "claims": selectors.claim_evidence(product=product, batch=batch),
            "qr_url": f"/api/trace/{batch.trace_code}/qr.png",
        }
        return Response(TraceOutput(body).data)


class TraceQrApi(APIView):
    """The QR code for a batch's label, pointing at its trace page."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TraceIPThrottle]

    @extend_schema(responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, code: str):
        batch = selectors.batch_get_by_code(code=code)
        png = trace_qr_png(trace_url(batch.trace_code, request=request))
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "public, max-age=86400"
        return response


