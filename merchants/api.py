"""HTTP for shops, their credentials, vetting and follows. Thin: parse, call, render."""

from __future__ import annotations

from pathlib import PurePosixPath

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsConsumer, IsMerchant, IsStaffMember
from core.errors import NotFound
from core.parsers import UPLOAD_PARSERS
from core.storage import private_file_response

from . import selectors, services
from .serializers import (
    CredentialInput,
    CredentialOutput,
    CredentialReviewInput,
    FollowOutput,
    MerchantApplyInput,
    MerchantEventOutput,
    MerchantListFilter,
    MerchantListOutput,
    MerchantOutput,
    MerchantQueueFilter,
    MerchantResubmitInput,
    MerchantReviewInput,
    MerchantUpdateInput,
)


def profile_response(merchant, request, status_code=200) -> Response:
    """Render a shop as ``request.user`` may see it (owner and county staff unmasked)."""
    user = request.user
    privileged = selectors.may_see_everything(user, merchant)
    if not hasattr(merchant, "followers_count"):
        merchant = selectors.merchant_get_visible(merchant_id=merchant.pk, user=user)
    context = {
        "privileged": privileged,
        "credentials": list(selectors.credentials_visible(merchant=merchant, user=user)),
        "last_decision": selectors.merchant_last_decision(merchant=merchant) if privileged else None,
    }
    return Response(MerchantOutput(merchant, context=context).data, status=status_code)


class MerchantListApi(generics.GenericAPIView):
    parser_classes = UPLOAD_PARSERS  # a file may come with the body
    """Approved shops (anyone), or apply for a shop (merchant accounts)."""

    serializer_class = MerchantListOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(parameters=[MerchantListFilter], responses=MerchantListOutput(many=True))
    def get(self, request):
        params = MerchantListFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        qs = selectors.merchant_list_public(user=request.user, **params.validated_data)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MerchantListOutput(page, many=True).data)

    @extend_schema(request=MerchantApplyInput, responses={201: MerchantOutput})
    def post(self, request):
        data = MerchantApplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = services.merchant_apply(user=request.user, **data.validated_data)
        return profile_response(merchant, request, status.HTTP_201_CREATED)


class MerchantDetailApi(APIView):
    parser_classes = UPLOAD_PARSERS  # a file may come with the body
    """A shop's profile (public once approved); its owner edits it."""

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "PATCH" else [AllowAny()]

    @extend_schema(responses=MerchantOutput)
    def get(self, request, pk: int):
        return profile_response(selectors.merchant_get_visible(merchant_id=pk, user=request.user), request)

    @extend_schema(request=MerchantUpdateInput, responses=MerchantOutput)
    def patch(self, request, pk: int):
        merchant = selectors.merchant_get_owned(merchant_id=pk, user=request.user)
        data = MerchantUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        merchant = services.merchant_update(merchant=merchant, actor=request.user, **data.validated_data)
        return profile_response(merchant, request)


class MerchantResubmitApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(request=MerchantResubmitInput, responses=MerchantOutput, summary="Resubmit a rejected application")
    def post(self, request, pk: int):
        merchant = selectors.merchant_get_owned(merchant_id=pk, user=request.user)
        data = MerchantResubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = services.merchant_resubmit(merchant=merchant, actor=request.user, **data.validated_data)
        return profile_response(merchant, request)


class MerchantReviewApi(APIView):
    """Vetting: the operator of the shop's county or an admin; anyone else gets 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=MerchantReviewInput, responses=MerchantOutput)
    def post(self, request, pk: int):
        if not request.user.is_staff_member:
            raise NotFound()
        data = MerchantReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = services.merchant_review(merchant_id=pk, actor=request.user, **data.validated_data)
        return profile_response(merchant, request)


class MerchantEventsApi(generics.GenericAPIView):
    """The audit trail of vetting decisions (county staff)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MerchantEventOutput
    filter_backends: list = []

    @extend_schema(responses=MerchantEventOutput(many=True))
    def get(self, request, pk: int):
        merchant = selectors.merchant_get_for_staff(merchant_id=pk, user=request.user)
        page = self.paginate_queryset(selectors.merchant_events(merchant=merchant))
        return self.get_paginated_response(MerchantEventOutput(page, many=True).data)


class MerchantQueueApi(generics.GenericAPIView):
    """Shops waiting for (or past) vetting in the reviewer's county; admins see every county."""

    permission_classes = [IsStaffMember]
    serializer_class = MerchantListOutput
    filter_backends: list = []

    @extend_schema(parameters=[MerchantQueueFilter], responses=MerchantListOutput(many=True))
    def get(self, request):
        params = MerchantQueueFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.merchant_review_queue(user=request.user, **params.validated_data))
        return self.get_paginated_response(MerchantListOutput(page, many=True).data)


class CredentialListApi(generics.GenericAPIView):
    parser_classes = UPLOAD_PARSERS  # a file may come with the body
    """A shop's credentials (numbers masked for all but owner and county staff); the owner uploads."""

    serializer_class = CredentialOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(responses=CredentialOutput(many=True))
    def get(self, request, pk: int):
        merchant = selectors.merchant_get_visible(merchant_id=pk, user=request.user)
        context = {"privileged": selectors.may_see_everything(request.user, merchant)}
        page = self.paginate_queryset(selectors.credentials_visible(merchant=merchant, user=request.user))
        return self.get_paginated_response(CredentialOutput(page, many=True, context=context).data)

    @extend_schema(request=CredentialInput, responses={201: CredentialOutput})
    def post(self, request, pk: int):
        merchant = selectors.merchant_get_owned(merchant_id=pk, user=request.user)
        data = CredentialInput(data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_add(merchant=merchant, actor=request.user, **data.validated_data)
        return Response(CredentialOutput(credential, context={"privileged": True}).data, status=status.HTTP_201_CREATED)


class CredentialReviewApi(APIView):
    """County staff verify, reject or revoke a credential."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CredentialReviewInput, responses=CredentialOutput)
    def post(self, request, pk: int, credential_id: int):
        merchant = selectors.merchant_get_for_staff(merchant_id=pk, user=request.user)
        credential = selectors.credential_get(merchant=merchant, credential_id=credential_id)
        data = CredentialReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_review(credential=credential, actor=request.user, **data.validated_data)
        return Response(CredentialOutput(credential, context={"privileged": True}).data)


class CredentialFileApi(APIView):
    """The uploaded document itself: owner and county staff only (on object storage, a redirect to
    a signed URL that expires after a few minutes)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
                              302: OpenApiResponse(description="Object storage: a signed URL of the file.")})
    def get(self, request, pk: int, credential_id: int):
        merchant = selectors.merchant_get_owned_or_staff(merchant_id=pk, user=request.user)
        credential = selectors.credential_get(merchant=merchant, credential_id=credential_id)
        if not credential.file:
            raise NotFound()
        suffix = PurePosixPath(credential.file.name).suffix
        # The bytes through the app (local disk), or a redirect to a signed URL of a few minutes (S3).
        return private_file_response(credential.file, filename=f"credential-{credential.pk}{suffix}",
                                     content_type=credential.file_content_type or None)


class FollowApi(APIView):
    """Follow (POST) or unfollow (DELETE) an approved shop. Both are idempotent."""

    permission_classes = [IsConsumer]

    @extend_schema(request=None, responses={200: FollowOutput, 201: FollowOutput})
    def post(self, request, pk: int):
        _follow, created = services.follow_create(user=request.user, merchant_id=pk)
        return Response({"following": True, "followers_count": services.followers_count(merchant_id=pk)},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses=FollowOutput)
    def delete(self, request, pk: int):
        selectors.merchant_get_visible(merchant_id=pk, user=request.user)
        services.follow_delete(user=request.user, merchant_id=pk)
        return Response({"following": False, "followers_count": services.followers_count(merchant_id=pk)})
