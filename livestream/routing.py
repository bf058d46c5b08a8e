from django.urls import path

from .consumers import LiveRoomConsumer

websocket_urlpatterns = [
    path("ws/streams/<int:stream_id>/", LiveRoomConsumer.as_asgi()),
]
