"""The one ASGI process: HTTP (API, admin, dashboard) and WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "media_analyzer.settings.development")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from api.ws_auth import OriginOrToken, SessionOrTokenAuth  # noqa: E402  (needs Django set up first)
from media_analyzer.lifespan import LifespanApp  # noqa: E402
from media_analyzer.routing import websocket_urlpatterns  # noqa: E402

application = LifespanApp(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": OriginOrToken(SessionOrTokenAuth(URLRouter(websocket_urlpatterns))),
        }
    )
)
