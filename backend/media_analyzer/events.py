"""Events to the channel layer, sent only after the transaction that caused them commits,
so no client ever sees a row that rolled back."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

PROTOCOL_VERSION = 1


def stream_group(stream_id) -> str:
    return f"stream.{stream_id}"


def broadcast(stream_id, message: dict) -> None:
    """`message["type"]` names the event (`stream.state`, `analysis.frame`, ...)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(stream_group(stream_id), {"v": PROTOCOL_VERSION, **message})


def broadcast_on_commit(stream_id, message: dict) -> None:
    transaction.on_commit(lambda: broadcast(stream_id, message))
