"""`/ws/streams/<id>/`: a stream's live events for one viewer.

Channel-layer events go into a bounded outbox that a sender task drains onto the socket,
so a slow viewer only ever delays itself: when its outbox is full, its oldest analysis
frame is dropped (stale boxes are worthless) and counted."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from ai_processing.player_draws import MAX_DRAWS_PER_REPORT, draws_parsed, player_draws_record
from ai_processing.selectors import frames_recent
from exposure.messages import alert_message
from exposure.selectors import alerts_recent, exposure_summary
from media_analyzer.events import PROTOCOL_VERSION, seq_current, stream_group
from media_analyzer.metrics import WEBSOCKET_CLIENTS
from streaming.messages import stream_state_message
from streaming.selectors import stream_visible_to

OUTBOX_SIZE = 256
SNAPSHOT_SECONDS = 10.0
MAX_CLIENT_MESSAGE = 4096
CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND, CLOSE_TOO_BIG = 4401, 4404, 1009
REPORT_EVERY_S = 2.0  # a player's `player.drawn`, at most: the player sends one every 5 s


def _visible(user, stream_id) -> str | None:
    """The stream's id when the user may watch it."""
    try:
        found = stream_visible_to(user).filter(pk=stream_id).values_list("pk", flat=True).first()
    except ValidationError:
        return None
    return None if found is None else str(found)


def _snapshot(user, stream_id: str) -> dict | None:
    # The number first, then the rows: whatever follows it is in this snapshot, or live, or both.
    seq = seq_current(stream_id)
    stream = stream_visible_to(user).filter(pk=stream_id).first()
    if stream is None:
        return None
    return {
        "type": "snapshot",
        "v": PROTOCOL_VERSION,
        "seq": seq,
        "stream": {**stream_state_message(stream), "v": PROTOCOL_VERSION},
        "frames": [
            {**frame, "v": PROTOCOL_VERSION} for frame in frames_recent(stream=stream, seconds=SNAPSHOT_SECONDS)
        ],
        "exposure": exposure_summary(stream=stream)["brands"],
        "alerts": [{**alert_message(firing), "v": PROTOCOL_VERSION} for firing in alerts_recent(stream=stream)],
    }


class StreamConsumer(AsyncWebsocketConsumer):
    sender: asyncio.Task | None = None

    async def connect(self) -> None:
        await self.accept()  # accept first, so a refusal can carry a close code
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        stream_id = await database_sync_to_async(_visible)(user, self.scope["url_route"]["kwargs"]["stream_id"])
        if stream_id is None:  # missing or someone else's: the same answer
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.stream_id = stream_id
        self.last_report = -REPORT_EVERY_S
        self.group = stream_group(stream_id)
        self.outbox: deque[dict] = deque()
        self.pending = asyncio.Event()
        self.dropped = 0
        # Joined before the snapshot is read, so nothing falls between the two; what arrives
        # meanwhile waits in the outbox, behind the snapshot, until the sender starts.
        await self.channel_layer.group_add(self.group, self.channel_name)
        snapshot = await database_sync_to_async(_snapshot)(user, stream_id)
        if snapshot is None:  # deleted meanwhile
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.outbox.appendleft(snapshot)
        self.pending.set()
        self.sender = asyncio.create_task(self._drain())
        WEBSOCKET_CLIENTS.inc()

    async def dispatch(self, message) -> None:
        """Channels closes stale database connections before every event, through a hop to
        a thread; layer events never use the database, and at 500 viewers x 10 events a
        second those hops alone took a third of a core (bench/ws)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is not None and not message["type"].startswith("websocket."):  # layer events only queue
            await handler(message)
        else:
            await super().dispatch(message)  # socket events, and Channels' error for an unknown type

    async def disconnect(self, code) -> None:
        if self.sender is not None:
            self.sender.cancel()
            WEBSOCKET_CLIENTS.dec()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        raw = text_data if text_data is not None else bytes_data
        if raw is None or len(raw) > MAX_CLIENT_MESSAGE:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):  # 4 KB of brackets nests past the limit
            return self._error("malformed", "messages are JSON objects")
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            self._enqueue({"type": "pong", "v": PROTOCOL_VERSION})
        elif kind == "player.drawn":
            await self._drawn(message)
        else:
            self._error("unknown_type", 'client messages are {"type": "ping"} and {"type": "player.drawn"}')

    async def _drawn(self, message: dict) -> None:
        """A player's report of the results it drew: the trace's "drawn" stage."""
        now = time.monotonic()
        if now - self.last_report < REPORT_EVERY_S:
            return self._error("too_often", f"at most one player.drawn every {REPORT_EVERY_S:g} s")
        draws = draws_parsed(message.get("frames")) if set(message) == {"type", "frames"} else None
        if draws is None:
            return self._error(
                "malformed", f"player.drawn has frames: at most {MAX_DRAWS_PER_REPORT} of {{after_s, own_frame}}"
            )
        self.last_report = now
        await sync_to_async(player_draws_record, thread_sensitive=False)(stream_id=self.stream_id, draws=draws)

    # --- channel-layer events, one handler per type
    async def stream_state(self, event: dict) -> None:
        self._enqueue(event)

    async def analysis_frame(self, event: dict) -> None:
        self._enqueue(event)

    async def analysis_segment(self, event: dict) -> None:
        self._enqueue(event)

    async def brand_exposure(self, event: dict) -> None:
        self._enqueue(event)

    async def alert_fired(self, event: dict) -> None:
        self._enqueue(event)

    async def pipeline_stats(self, event: dict) -> None:
        stats = json.loads(event["text"]) if "text" in event else event
        self._enqueue({**stats, "dropped": self.dropped})

    # --- the bounded outbox
    def _error(self, code: str, message: str) -> None:
        self._enqueue({"type": "error", "v": PROTOCOL_VERSION, "code": code, "message": message})

    def _enqueue(self, message: dict) -> None:
        if len(self.outbox) >= OUTBOX_SIZE:
            self._drop_one()
        self.outbox.append(message)
        self.pending.set()

    def _drop_one(self) -> None:
        for index, queued in enumerate(self.outbox):
            if queued["type"] == "analysis.frame":
                del self.outbox[index]
                break
        else:
            self.outbox.popleft()
        self.dropped += 1

    async def _drain(self) -> None:
        while True:
            await self.pending.wait()
            self.pending.clear()
            while self.outbox:
                queued = self.outbox.popleft()
                await self.send(text_data=queued["text"] if "text" in queued else json.dumps(queued))
