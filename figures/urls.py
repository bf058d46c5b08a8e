from django.urls import path

from . import api

urlpatterns = [
    path("figures/merchants/<int:merchant_id>/", api.MerchantFiguresApi.as_view(), name="merchant-figures"),
    path("figures/counties/<int:county_id>/", api.CountyFiguresApi.as_view(), name="county-figures"),
    path("figures/streams/<int:stream_id>/", api.StreamFunnelApi.as_view(), name="stream-figures"),
    path("figures/merchants/<int:merchant_id>/outlook/", api.DemandOutlookApi.as_view(), name="merchant-outlook"),
]
