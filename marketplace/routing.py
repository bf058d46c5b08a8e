"""Every WebSocket route of the product, gathered from the apps."""

websocket_urlpatterns: list = []
