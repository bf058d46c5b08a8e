from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsLogisticsWorker, IsStaffMember
from core.idempotency import idempotent

from . import selectors, services
from .serializers import (
    CourierInput,
    CourierOutput,
    DispatchCreateInput,
    DispatchDetailOutput,
    DispatchListFilter,
    DispatchOutput,
    HubListFilter,
    HubOutput,
    QueueFilter,
    ScanInput,
    ShipInput,
    ShipmentOutput,
    ShipmentSummaryOutput,
    SuggestionFilter,
    SuggestionOutput,
    VehicleInput,
    VehicleOutput,
)


class HubListApi(generics.ListAPIView):
    """County distribution centres, township express stations and village service points."""

    permission_classes = [AllowAny]
    serializer_class = HubOutput
    filter_backends: list = []

    @extend_schema(parameters=[HubListFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = HubListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.hub_list(**params.validated_data)


def _shipment_response(request, shipment_id: int, code=status.HTTP_200_OK) -> Response:
    shipment = selectors.shipment_get(user=request.user, shipment_id=shipment_id)
    return Response(ShipmentOutput(shipment, context={"viewer": request.user}).data, status=code)


# --- shipments -------------------------------------------------------------------------------

class ShipApi(APIView):
    """The merchant hands a paid sub-order to the county network (``Idempotency-Key`` accepted)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ShipInput, responses={201: ShipmentOutput})
    @idempotent
    def post(self, request, pk: int):
        data = ShipInput(data=request.data)
        data.is_valid(raise_exception=True)
        shipment = services.shipment_create(user=request.user, merchant_order_id=pk, **data.validated_data)
        return _shipment_response(request, shipment.pk, status.HTTP_201_CREATED)


class ShipmentDetailApi(APIView):
    """Tracking: status, route, events in order, current hub and expected delivery."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ShipmentOutput)
    def get(self, request, pk: int):
        return _shipment_response(request, pk)


class ShipmentScanApi(APIView):
    """A hub scan by an operator or courier of the hub's county."""

    permission_classes = [IsLogisticsWorker]

    @extend_schema(request=ScanInput, responses={201: ShipmentOutput})
    def post(self, request, pk: int):
        data = ScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.shipment_scan(user=request.user, shipment_id=pk, status=values["status"], hub_id=values.get("hub"),
                               note=values["note"], pickup_code=values["pickup_code"], reason=values["reason"])
        return _shipment_response(request, pk, status.HTTP_201_CREATED)


class ShipmentQueueApi(generics.ListAPIView):
    """The county's work queue: perishables and overdue parcels first."""

    permission_classes = [IsStaffMember]
    serializer_class = ShipmentSummaryOutput
    filter_backends: list = []

    @extend_schema(parameters=[QueueFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = QueueFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.shipment_queue(user=self.request.user, **params.validated_data)


# --- runs -------------------------------------------------------------------------------------------

class DispatchListCreateApi(generics.ListAPIView):
    """Couriers list their county's runs; only operators (and admins) plan them."""

    def get_permissions(self):
        return [IsStaffMember()] if self.request.method == "POST" else [IsLogisticsWorker()]

    serializer_class = DispatchOutput
    filter_backends: list = []

    @extend_schema(parameters=[DispatchListFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = DispatchListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.dispatches_for(user=self.request.user, **params.validated_data)

    @extend_schema(request=DispatchCreateInput, responses={201: DispatchDetailOutput})
    def post(self, request):
        data = DispatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dispatch = services.dispatch_create(
            user=request.user, shipment_ids=values["shipments"], vehicle_id=values["vehicle"],
            hub_id=values.get("hub"), township_id=values.get("township"), courier_id=values.get("courier"),
            note=values["note"])
        return _dispatch_response(request, dispatch.pk, status.HTTP_201_CREATED)


def _dispatch_response(request, dispatch_id: int, code=status.HTTP_200_OK) -> Response:
    dispatch = selectors.dispatch_get(user=request.user, dispatch_id=dispatch_id)
    return Response(DispatchDetailOutput(dispatch).data, status=code)


class DispatchDetailApi(APIView):
    permission_classes = [IsLogisticsWorker]

    @extend_schema(responses=DispatchDetailOutput)
    def get(self, request, pk: int):
        return _dispatch_response(request, pk)


class DispatchDepartApi(APIView):
    """The run leaves: every parcel on board moves at once (one event each)."""

    permission_classes = [IsLogisticsWorker]

    @extend_schema(request=None, responses=DispatchDetailOutput)
    def post(self, request, pk: int):
        services.dispatch_depart(user=request.user, dispatch_id=pk)
        return _dispatch_response(request, pk)


class DispatchArriveApi(APIView):
    """The arrival scan of a trunk run at its hub: every parcel on board arrives at once."""

    permission_classes = [IsLogisticsWorker]

    @extend_schema(request=None, responses=DispatchDetailOutput)
    def post(self, request, pk: int):
        services.dispatch_arrive(user=request.user, dispatch_id=pk)
        return _dispatch_response(request, pk)


class DispatchCancelApi(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=None, responses=DispatchDetailOutput)
    def post(self, request, pk: int):
        services.dispatch_cancel(user=request.user, dispatch_id=pk)
        return _dispatch_response(request, pk)


class DispatchSuggestionApi(APIView):
    """The waiting parcels grouped by next hub (or delivery township), each ready to POST as a run."""

    permission_classes = [IsStaffMember]

    @extend_schema(parameters=[SuggestionFilter], responses=SuggestionOutput(many=True))
    def get(self, request):
        params = SuggestionFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        groups = selectors.dispatch_suggestions(user=request.user, **params.validated_data)
        return Response(SuggestionOutput(groups, many=True).data)


# --- fleet ------------------------------------------------------------------------------------------------

class CourierListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = CourierOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.couriers_for(user=self.request.user)

    @extend_schema(request=CourierInput, responses={201: CourierOutput})
    def post(self, request):
        data = CourierInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        courier = services.courier_create(actor=request.user, user_id=values["user"],
                                          township_id=values.get("township"), county_id=values.get("county"))
        return Response(CourierOutput(courier).data, status=status.HTTP_201_CREATED)


class VehicleListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = VehicleOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.vehicles_for(user=self.request.user)

    @extend_schema(request=VehicleInput, responses={201: VehicleOutput})
    def post(self, request):
        data = VehicleInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        vehicle = services.vehicle_create(actor=request.user, plate=values["plate"], name=values["name"],
                                          cold_chain=values["cold_chain"], capacity_kg=values["capacity_kg"],
                                          county_id=values.get("county"))
        return Response(VehicleOutput(vehicle).data, status=status.HTTP_201_CREATED)
