"""HTTP for balances, entries, monthly statements, county and platform totals, and a cooperative's
members and shares: parse, check role, call, render (docs/ledger.md)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin, IsMerchant, IsStaffMember
from core.errors import ValidationFailed

from . import members as member_services
from . import selectors
from .serializers import (
    MAX_SHARES,
    BalanceOutput,
    CountyTotalsOutput,
    EntryFilter,
    EntryOutput,
    LineBatchInput,
    MemberInput,
    MemberOutput,
    PlatformTotalsOutput,
    ShareItem,
    ShareOutput,
    StatementFilter,
    StatementOutput,
    TotalsFilter,
)
from .statement_csv import statement_csv_response


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- balances and entries ---------------------------------------------------------------------------

class BalanceApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses=BalanceOutput, summary="The shop's balances: pending, available, paid out")
    def get(self, request):
        balance = selectors.merchant_balance(merchant=selectors.merchant_of(user=request.user))
        return Response(BalanceOutput(balance).data)


class EntryListApi(generics.ListAPIView):
    permission_classes = [IsMerchant]
    serializer_class = EntryOutput
    filter_backends: list = []

    def get_queryset(self):
        filters = _valid(EntryFilter, self.request.query_params)
        return selectors.merchant_entries(merchant=selectors.merchant_of(user=self.request.user),
                                          account=filters.get("account"), kind=filters.get("kind"),
                                          date_from=filters.get("date_from"), date_to=filters.get("date_to"))

    @extend_schema(summary="The entries on the shop's pending and available accounts, newest first", parameters=[
        OpenApiParameter("account", str, enum=["pending", "available"]),
        OpenApiParameter("kind", str), OpenApiParameter("from", str, description="YYYY-MM-DD (included)"),
        OpenApiParameter("to", str, description="YYYY-MM-DD (included)")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- statements -----------------------------------------------------------------------------------------

class CSVRenderer(BaseRenderer):
    """Chooses CSV in content negotiation (``?format=csv`` or ``Accept: text/csv``); the statement
    view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class _StatementView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]

    def handle_exception(self, exc):
        # An error is always the JSON envelope, even when CSV was asked for.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    def answer(self, request, *, merchant, month: str):
        statement = selectors.merchant_statement(merchant=merchant, month=selectors.month_parse(month))
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return statement_csv_response(statement)
        return Response(StatementOutput(statement).data)


STATEMENT_DOC = {"responses": {(200, "application/json"): StatementOutput,
                               (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR, description="CSV")},
                 "parameters": [OpenApiParameter("format", str, enum=["csv"], required=False)]}


class StatementApi(_StatementView):
    permission_classes = [IsMerchant]
    # The month is no object (the shop is the caller's own): another role gets 403, as on the balance.
    path_names_object = False

    @extend_schema(summary="The shop's monthly statement (JSON, or CSV)", **STATEMENT_DOC)
    def get(self, request, month: str):
        return self.answer(request, merchant=selectors.merchant_of(user=request.user), month=month)


class StaffStatementApi(_StatementView):
    permission_classes = [IsStaffMember]

    @extend_schema(summary="A shop's monthly statement: an operator's county's shops, any for an admin",
                   **{**STATEMENT_DOC, "parameters": [*STATEMENT_DOC["parameters"],
                                                      OpenApiParameter("merchant", int, required=True)]})
    def get(self, request, month: str):
        query = _valid(StatementFilter, request.query_params)
        merchant = selectors.merchant_for_staff(user=request.user, merchant_id=query["merchant"])
        return self.answer(request, merchant=merchant, month=month)


# --- totals ------------------------------------------------------------------------------------------------

class CountyTotalsApi(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=CountyTotalsOutput, summary="A county's month (an operator's own county)",
                   parameters=[OpenApiParameter("month", str, required=True, description="YYYY-MM"),
                               OpenApiParameter("county", int, description="Admins name the county.")])
    def get(self, request):
        query = _valid(TotalsFilter, request.query_params)
        county = selectors.county_for_staff(user=request.user, county_id=query.get("county"))
        totals = selectors.county_totals(county=county, month=selectors.month_parse(query["month"]))
        return Response(CountyTotalsOutput(totals).data)


class PlatformTotalsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=PlatformTotalsOutput, summary="The platform's month, with a summary per county",
                   parameters=[OpenApiParameter("month", str, required=True, description="YYYY-MM")])
    def get(self, request):
        query = _valid(TotalsFilter, request.query_params)
        return Response(PlatformTotalsOutput(selectors.platform_totals(month=selectors.month_parse(query["month"])))
                        .data)


# --- cooperative members --------------------------------------------------------------------------------

def _cooperative(request):
    merchant = selectors.merchant_of(user=request.user)
    member_services.cooperative_check(merchant)
    return merchant


class MemberListCreateApi(generics.ListAPIView):
    permission_classes = [IsMerchant]
    serializer_class = MemberOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.members_of(merchant=_cooperative(self.request))

    @extend_schema(request=MemberInput, responses={201: MemberOutput}, summary="Record a member household")
    def post(self, request):
        merchant = _cooperative(request)
        data = _valid(MemberInput, request.data)
        member = member_services.member_create(merchant=merchant, **data)
        return Response(MemberOutput(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses=MemberOutput)
    def get(self, request, member_id: int):
        return Response(MemberOutput(selectors.member_get(merchant=_cooperative(request), member_id=member_id)).data)

    @extend_schema(request=MemberInput(partial=True), responses=MemberOutput)
    def patch(self, request, member_id: int):
        merchant = _cooperative(request)
        member = selectors.member_get(merchant=merchant, member_id=member_id)
        data = _valid(MemberInput, request.data, instance=member, partial=True)
        member = member_services.member_update(merchant=merchant, member_id=member.pk, **data)
        return Response(MemberOutput(member).data)

    @extend_schema(responses={204: None})
    def delete(self, request, member_id: int):
        member_services.member_delete(merchant=_cooperative(request), member_id=member_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _share_items(request) -> list[dict]:
    """``{"shares": [...]}`` or the bare list, at most ``MAX_SHARES`` items (checked before any item is)."""
    data = request.data.get("shares") if isinstance(request.data, dict) else request.data
    if not isinstance(data, list):
        raise ValidationFailed(fields={"shares": [_("Give the shares as a list of {member, percent}.")]})
    if len(data) > MAX_SHARES:
        message = serializers.ListSerializer.default_error_messages["max_length"].format(max_length=MAX_SHARES)
        raise ValidationFailed(fields={"shares": [message]})
    return _valid(ShareItem, data, many=True)


class ProductSharesApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses=ShareOutput(many=True), summary="The members' shares of a product")
    def get(self, request, product_id: int):
        product = member_services.product_owned(merchant=_cooperative(request), product_id=product_id)
        return Response(ShareOutput(selectors.shares_of(product_id=product.pk), many=True).data)

    @extend_schema(request=ShareItem(many=True), responses=ShareOutput(many=True),
                   summary="Replace the members' shares of a product (together exactly 100)")
    def put(self, request, product_id: int):
        merchant = _cooperative(request)
        member_services.product_shares_set(merchant=merchant, product_id=product_id, items=_share_items(request))
        return Response(ShareOutput(selectors.shares_of(product_id=product_id), many=True).data)


class BatchSharesApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(responses=ShareOutput(many=True), summary="The members' shares of a harvest batch")
    def get(self, request, batch_id: int):
        batch = member_services.batch_owned(merchant=_cooperative(request), batch_id=batch_id)
        return Response(ShareOutput(selectors.shares_of(batch_id=batch.pk), many=True).data)

    @extend_schema(request=ShareItem(many=True), responses=ShareOutput(many=True),
                   summary="Replace the members' shares of a harvest batch (together exactly 100)")
    def put(self, request, batch_id: int):
        merchant = _cooperative(request)
        member_services.batch_shares_set(merchant=merchant, batch_id=batch_id, items=_share_items(request))
        return Response(ShareOutput(selectors.shares_of(batch_id=batch_id), many=True).data)


class LineBatchApi(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(request=LineBatchInput, responses=LineBatchInput,
                   summary="Record the harvest batch an order line was packed from (its shares then apply)")
    def put(self, request, line_id: int):
        data = _valid(LineBatchInput, request.data)
        link = member_services.line_batch_set(merchant=_cooperative(request), line_id=line_id, batch_id=data["batch"])
        return Response({"batch": link.batch_id if link else None})
