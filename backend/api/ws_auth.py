"""WebSocket sign-in: the dashboard's session cookie, or `?token=` for API clients
(browsers cannot set headers on a WebSocket)."""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
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


def SessionOrTokenAuth(app):  # noqa: N802  (named like the Channels stacks it wraps)
    return AuthMiddlewareStack(TokenAuthMiddleware(app))
