"""Every WebSocket route of the product, gathered from the apps."""

from livestream.routing import websocket_urlpatterns as livestream_routes
from notifications.routing import websocket_urlpatterns as notification_routes

websocket_urlpatterns = [*livestream_routes, *notification_routes]
