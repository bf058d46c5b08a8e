"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.middleware import RequestBodyLimit  # noqa: E402
from core.ws_auth import JWTAuthMiddleware, allowed_hosts_origin_validator  # noqa: E402
from core.ws_limits import SocketsPerAddress  # noqa: E402
from marketplace.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": SocketsPerAddress(
            allowed_hosts_origin_validator(JWTAuthMiddleware(URLRouter(websocket_urlpatterns)))),
    }
)
