"""WebSocket sign-in: the dashboard's session cookie, or `?token=` for API clients
(browsers cannot set headers on a WebSocket)."""

from importlib import import_module
from urllib.parse import parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware
from django.conf import settings
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _token_user(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


class TokenAuthMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            keys = parse_qs(scope.get("query_string", b"").decode()).get("token")
            if keys:
                token_user = await _token_user(keys[0][:64])
                if token_user is not None:
                    scope = {**scope, "user": token_user}
        return await self.app(scope, receive, send)


class ReadOnlySessionMiddleware:
    """Channels' SessionMiddleware without its wrapped `send`, which inspects the session on
    every outgoing message in case the consumer changed it. Sockets here only read the
    session, to sign in; at 500 viewers that inspection cost a tenth of a core (bench/ws)."""

    def __init__(self, app) -> None:
        self.app = app
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        session = self.store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))  # loaded lazily, in a thread
        return await self.app({**scope, "session": session}, receive, send)


def SessionOrTokenAuth(app):  # noqa: N802  (named like the Channels stacks it wraps)
    return CookieMiddleware(ReadOnlySessionMiddleware(AuthMiddleware(TokenAuthMiddleware(app))))
