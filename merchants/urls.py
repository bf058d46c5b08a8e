from django.urls import path

from . import api

urlpatterns = [
    path("merchants/", api.MerchantListApi.as_view(), name="merchant-list"),
    path("merchants/review-queue/", api.MerchantQueueApi.as_view(), name="merchant-review-queue"),
    path("merchants/<int:pk>/", api.MerchantDetailApi.as_view(), name="merchant-detail"),
    path("merchants/<int:pk>/resubmit/", api.MerchantResubmitApi.as_view(), name="merchant-resubmit"),
    path("merchants/<int:pk>/review/", api.MerchantReviewApi.as_view(), name="merchant-review"),
    path("merchants/<int:pk>/events/", api.MerchantEventsApi.as_view(), name="merchant-events"),
    path("merchants/<int:pk>/follow/", api.FollowApi.as_view(), name="merchant-follow"),
    path("merchants/<int:pk>/credentials/", api.CredentialListApi.as_view(), name="merchant-credentials"),
    path("merchants/<int:pk>/credentials/<int:credential_id>/review/", api.CredentialReviewApi.as_view(),
         name="credential-review"),
    path("merchants/<int:pk>/credentials/<int:credential_id>/file/", api.CredentialFileApi.as_view(),
         name="credential-file"),
]
