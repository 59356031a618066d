"""Events to the channel layer, sent only after the transaction that caused them commits,
so no client ever sees a row that rolled back."""

from __future__ import annotations

import asyncio
import json
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

PROTOCOL_VERSION = 1
SEND_TIMEOUT_S = 5.0
SEQ_TTL_S = 7 * 24 * 3600  # a stream's counter outlives any viewer's session
_server_loop: asyncio.AbstractEventLoop | None = None
_seq_lock = threading.Lock()
_local_seq: dict[str, int] = {}
_redis = None


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


def seq_next(stream_id) -> int:
    """The stream's next message number: one counter per stream, whichever process sends
    (Redis in services mode, this process's memory in embedded mode, where one process
    sends everything). A viewer that sees a number skipped knows it missed a message."""
    if settings.CONFIG.redis_url:
        key = _seq_key(stream_id)
        pipeline = _redis_client().pipeline()
        pipeline.incr(key)
        pipeline.expire(key, SEQ_TTL_S)
        return int(pipeline.execute()[0])
    with _seq_lock:
        _local_seq[str(stream_id)] = _local_seq.get(str(stream_id), 0) + 1
        return _local_seq[str(stream_id)]


def seq_current(stream_id) -> int:
    """The number of the stream's last message (0 before the first): a snapshot's."""
    if settings.CONFIG.redis_url:
        return int(_redis_client().get(_seq_key(stream_id)) or 0)
    with _seq_lock:
        return _local_seq.get(str(stream_id), 0)


def _seq_key(stream_id) -> str:
    return f"media-analyzer:seq:{stream_id}"


def _redis_client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.CONFIG.redis_url, socket_timeout=SEND_TIMEOUT_S)
    return _redis


def broadcast(stream_id, message: dict) -> None:
    """`message["type"]` names the event (`stream.state`, `analysis.frame`, ...); it is
    numbered here (`seq`)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {**message, "seq": seq_next(stream_id)}

    async def send() -> None:
        await layer.group_send(stream_group(stream_id), wire_event(message))

    if _server_loop is not None and _server_loop.is_running():
        asyncio.run_coroutine_threadsafe(send(), _server_loop).result(SEND_TIMEOUT_S)
    else:
        async_to_sync(send)()


def broadcast_on_commit(stream_id, message: dict) -> None:
    transaction.on_commit(lambda: broadcast(stream_id, message))
