from django.urls import path

from . import api

urlpatterns = [
    path("streams/", api.StreamListApi.as_view(), name="stream-list"),
    path("streams/hooks/publish/", api.PublishHookApi.as_view(), name="stream-hook-publish"),
    path("streams/hooks/unpublish/", api.UnpublishHookApi.as_view(), name="stream-hook-unpublish"),
    path("streams/<int:stream_id>/", api.StreamDetailApi.as_view(), name="stream-detail"),
    path("streams/<int:stream_id>/start/", api.StreamStartApi.as_view(), name="stream-start"),
    path("streams/<int:stream_id>/end/", api.StreamEndApi.as_view(), name="stream-end"),
    path("streams/<int:stream_id>/cancel/", api.StreamCancelApi.as_view(), name="stream-cancel"),
    path("streams/<int:stream_id>/rotate-key/", api.StreamKeyRotateApi.as_view(), name="stream-rotate-key"),
    path("streams/<int:stream_id>/pin/", api.StreamPinApi.as_view(), name="stream-pin"),
    path("streams/<int:stream_id>/offers/", api.OfferListApi.as_view(), name="stream-offers"),
    path("streams/<int:stream_id>/offers/<int:offer_id>/end/", api.OfferEndApi.as_view(), name="stream-offer-end"),
    path("streams/<int:stream_id>/messages/", api.ChatMessageListApi.as_view(), name="stream-messages"),
    path("streams/<int:stream_id>/messages/<int:message_id>/", api.ChatMessageDeleteApi.as_view(),
         name="stream-message"),
    path("streams/<int:stream_id>/mutes/", api.ChatMuteListApi.as_view(), name="stream-mutes"),
    path("streams/<int:stream_id>/mutes/<int:user_id>/", api.ChatUnmuteApi.as_view(), name="stream-mute"),
]
