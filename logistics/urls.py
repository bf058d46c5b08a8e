from django.urls import path

from . import api

urlpatterns = [
    path("logistics/hubs/", api.HubListApi.as_view(), name="hub-list"),
    path("logistics/shipments/", api.ShipmentQueueApi.as_view(), name="shipment-queue"),
    path("logistics/dispatches/", api.DispatchListCreateApi.as_view(), name="dispatch-list"),
    path("logistics/dispatches/suggestions/", api.DispatchSuggestionApi.as_view(), name="dispatch-suggestions"),
    path("logistics/dispatches/<int:pk>/", api.DispatchDetailApi.as_view(), name="dispatch-detail"),
    path("logistics/dispatches/<int:pk>/depart/", api.DispatchDepartApi.as_view(), name="dispatch-depart"),
    path("logistics/dispatches/<int:pk>/arrive/", api.DispatchArriveApi.as_view(), name="dispatch-arrive"),
    path("logistics/dispatches/<int:pk>/cancel/", api.DispatchCancelApi.as_view(), name="dispatch-cancel"),
    path("logistics/couriers/", api.CourierListCreateApi.as_view(), name="courier-list"),
    path("logistics/vehicles/", api.VehicleListCreateApi.as_view(), name="vehicle-list"),
    path("merchant-orders/<int:pk>/ship/", api.ShipApi.as_view(), name="merchant-order-ship"),
    path("shipments/<int:pk>/", api.ShipmentDetailApi.as_view(), name="shipment-detail"),
    path("shipments/<int:pk>/events/", api.ShipmentScanApi.as_view(), name="shipment-events"),
]
