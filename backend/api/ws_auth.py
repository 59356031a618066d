"""WebSocket sign-in: the dashboard's session cookie, or `?token=` for API clients
(browsers cannot set headers on a WebSocket)."""

from importlib import import_module
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import CookieMiddleware
from django.conf import settings

from api.tokens import token_user

_token_user = database_sync_to_async(token_user)  # expiry as for the REST API


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


CLOSE_ORIGIN_REFUSED = 4403


class OriginOrToken:
    """The Origin check protects cookie sessions from other sites (a socket has no CSRF
    token). A client with no Origin header is not a browser, so no site can make it send a
    victim's cookies: its cookies are dropped and it signs in by `?token=` alone. A browser
    from an origin not in ALLOWED_HOSTS is accepted and closed with 4403 and a reason, so
    it can tell why."""

    def __init__(self, app) -> None:
        self.app = app
        self.checker = AllowedHostsOriginValidator(app)

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        if b"origin" not in headers:
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"cookie"]}
            return await self.app(scope, receive, send)
        if self.checker.valid_origin(urlparse(headers[b"origin"].decode("latin1"))):
            return await self.app(scope, receive, send)
        return await _refuse(receive, send, f"origin {headers[b'origin'].decode(errors='replace')[:100]} not allowed")


async def _refuse(receive, send, reason: str) -> None:
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_ORIGIN_REFUSED, "reason": reason})
