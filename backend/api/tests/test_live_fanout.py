"""Fan-out through a real server: a viewer that stops reading never holds back the others,
and its own backlog stays bounded."""

import asyncio
import json
import socket
import threading
from collections import deque

import pytest
import uvicorn
import websockets
from asgiref.sync import sync_to_async
from rest_framework.authtoken.models import Token

from api.live import OUTBOX_SIZE, StreamConsumer
from media_analyzer.asgi import application
from media_analyzer.events import bind_server_loop, broadcast
from media_analyzer.tests.net import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120), pytest.mark.asyncio]
FRAMES = 3000
PADDING = "x" * 5000  # 15 MB in all: more than loopback socket buffers absorb


@pytest.fixture
def server():
    port = free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    started = asyncio.run_coroutine_threadsafe(_until_started(server), loop)
    started.result(30)
    bind_server_loop(loop)
    yield port
    bind_server_loop(None)
    server.should_exit = True
    thread.join(30)


async def _until_started(server) -> None:
    while not server.started:  # uvicorn exposes readiness only as this flag
        await asyncio.sleep(0.01)


def frame(index: int) -> dict:
    return {
        "type": "analysis.frame", "stream_id": "x", "segment_seq": 0, "pts": index / 10,
        "pdt": "2026-11-24T12:00:00+00:00",
        "detections": [{"analyzer": "t", "kind": "object", "label": "cup", "confidence": 0.5,
                        "box": {"x": 0, "y": 0, "w": 0.1, "h": 0.1}, "extra": {"i": index, "padding": PADDING}}],
    }  # fmt: skip


async def test_a_stalled_viewer_does_not_slow_a_fast_one(server, user, stream):
    token = (await sync_to_async(Token.objects.get_or_create)(user=user))[0].key
    url = f"ws://127.0.0.1:{server}/ws/streams/{stream.id}/?token={token}"
    stalled_socket = socket.socket()
    stalled_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    stalled_socket.connect(("127.0.0.1", server))
    async with (
        websockets.connect(url, origin="http://127.0.0.1", max_queue=None) as fast,
        websockets.connect(url, origin="http://127.0.0.1", sock=stalled_socket, max_queue=4) as stalled,
    ):
        await fast.recv(), await stalled.recv()  # snapshots
        stalled.transport.pause_reading()  # this viewer stops reading: its socket fills

        await asyncio.to_thread(lambda: [broadcast(stream.id, frame(i)) for i in range(FRAMES)])
        await asyncio.to_thread(broadcast, stream.id, {"type": "pipeline.stats", "stream_id": str(stream.id),
                                                       "queue_depth": {}, "lag_s": None, "latency_p50_s": None,
                                                       "latency_p95_s": None, "frames_per_s": 0})  # fmt: skip
        fast_seen = [json.loads(await asyncio.wait_for(fast.recv(), 10)) for _ in range(FRAMES + 1)]

        stalled.transport.resume_reading()
        stalled_seen = []
        while not stalled_seen or stalled_seen[-1]["type"] != "pipeline.stats":
            stalled_seen.append(json.loads(await asyncio.wait_for(stalled.recv(), 10)))

    assert [m["detections"][0]["extra"]["i"] for m in fast_seen[:-1]] == list(range(FRAMES))
    assert fast_seen[-1]["dropped"] == 0
    frames = [m["detections"][0]["extra"]["i"] for m in stalled_seen if m["type"] == "analysis.frame"]
    dropped = stalled_seen[-1]["dropped"]
    assert len(frames) + dropped == FRAMES  # every frame delivered or counted as dropped
    assert frames == sorted(frames) and frames[-1] == FRAMES - 1  # in order; the newest always arrives


async def test_a_viewer_whose_socket_blocks_keeps_a_bounded_outbox_and_counts_drops(user, stream):
    """When the server's send blocks (the viewer's socket is full), the oldest frames go."""
    consumer = StreamConsumer()
    consumer.outbox, consumer.pending, consumer.dropped = deque(), asyncio.Event(), 0
    unblock, sent = asyncio.Event(), []

    async def blocked_send(text_data):
        await unblock.wait()
        sent.append(json.loads(text_data))

    consumer.send = blocked_send
    consumer.sender = asyncio.create_task(consumer._drain())
    for index in range(OUTBOX_SIZE * 4):
        await consumer.analysis_frame({"type": "analysis.frame", "v": 1, "i": index})
        await asyncio.sleep(0)
    await consumer.pipeline_stats({"type": "pipeline.stats", "v": 1})

    assert len(consumer.outbox) <= OUTBOX_SIZE
    unblock.set()
    while consumer.outbox:
        await asyncio.sleep(0)
    consumer.sender.cancel()
    indexes = [message["i"] for message in sent if message["type"] == "analysis.frame"]
    assert sent[-1]["type"] == "pipeline.stats" and sent[-1]["dropped"] > 0
    assert len(indexes) + consumer.dropped == OUTBOX_SIZE * 4 and indexes[-1] == OUTBOX_SIZE * 4 - 1
