"""Events to the channel layer, sent only after the transaction that caused them commits,
so no client ever sees a row that rolled back."""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

PROTOCOL_VERSION = 1
SEND_TIMEOUT_S = 5.0
_server_loop: asyncio.AbstractEventLoop | None = None


def stream_group(stream_id) -> str:
    return f"stream.{stream_id}"


def bind_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """The in-memory channel layer's queues belong to the server's event loop: events
    from worker threads (ingest registry, analysis pool) are sent on that loop."""
    global _server_loop
    _server_loop = loop


def wire_event(message: dict) -> dict:
    """The channel-layer event for a message: its JSON is written once here, not once per
    viewer (at 500 viewers that was a tenth of a core). `type` still routes it."""
    return {"type": message["type"], "text": json.dumps({"v": PROTOCOL_VERSION, **message})}


def broadcast(stream_id, message: dict) -> None:
    """`message["type"]` names the event (`stream.state`, `analysis.frame`, ...)."""
    layer = get_channel_layer()
    if layer is None:
        return

    async def send() -> None:
        await layer.group_send(stream_group(stream_id), wire_event(message))

    if _server_loop is not None and _server_loop.is_running():
        asyncio.run_coroutine_threadsafe(send(), _server_loop).result(SEND_TIMEOUT_S)
    else:
        async_to_sync(send)()


def broadcast_on_commit(stream_id, message: dict) -> None:
    transaction.on_commit(lambda: broadcast(stream_id, message))
