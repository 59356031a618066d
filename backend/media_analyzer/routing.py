from django.urls import path, re_path

from api.live import StreamConsumer

CLOSE_NO_SUCH_SOCKET = 4404


async def no_such_socket(scope, receive, send):
    """Any other path: accepted and closed with 4404 and a reason, so a client can tell why.
    URLRouter alone raises on an unknown path, which the server answers with a 500."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_NO_SUCH_SOCKET, "reason": "no such socket"})


websocket_urlpatterns = [
    path("ws/streams/<uuid:stream_id>/", StreamConsumer.as_asgi()),
    re_path(r"", no_such_socket),  # last: everything the routes above do not match
]
