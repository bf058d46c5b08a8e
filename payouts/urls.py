from django.urls import path

from . import api

urlpatterns = [
    path("merchant/payout-account/", api.PayoutAccountApi.as_view(), name="merchant-payout-account"),
    path("merchant/payouts/", api.PayoutListCreateApi.as_view(), name="merchant-payout-list"),
    path("merchant/payouts/<int:payout_id>/", api.PayoutDetailApi.as_view(), name="merchant-payout-detail"),
    path("county/payout-accounts/", api.CountyPayoutAccountListApi.as_view(), name="county-payout-account-list"),
    path("county/payout-accounts/<int:account_id>/verify/", api.PayoutAccountVerifyApi.as_view(),
         name="county-payout-account-verify"),
    path("county/payout-accounts/<int:account_id>/reject/", api.PayoutAccountRejectApi.as_view(),
         name="county-payout-account-reject"),
    path("payouts/callback/<str:provider>/", api.CallbackApi.as_view(), name="payout-callback"),
]
