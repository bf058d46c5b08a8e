from django.urls import path

from . import api

urlpatterns = [
    path("adoptions/", api.AdoptionListApi.as_view(), name="adoption-list"),
    path("adoptions/<int:adoption_id>/", api.AdoptionDetailApi.as_view(), name="adoption-detail"),
    path("adoptions/<int:adoption_id>/adopt/", api.AdoptApi.as_view(), name="adoption-adopt"),
    path("adoptions/<int:adoption_id>/updates/", api.AdoptionUpdateListApi.as_view(), name="adoption-updates"),
    path("adoption-subscriptions/", api.SubscriptionListApi.as_view(), name="adoption-subscription-list"),
    path("adoption-subscriptions/<int:subscription_id>/cancel/", api.SubscriptionCancelApi.as_view(),
         name="adoption-subscription-cancel"),
]
