"""bench/ws: N viewers on one stream's socket, analysis frames at R messages per second.

Services mode, as deployed: the ASGI server (uvicorn, --server-workers processes, default
4; Kubernetes runs replicas) with the Redis Pub/Sub channel layer; this process publishes
through Redis, and --clients processes hold the viewers' WebSockets. Prints delivery
latency p50/p99 (publish -> viewer), messages lost, and the server's CPU and memory.
Target on loopback: p99 <= 100 ms at N = 500, R = 10.

With --embedded: the README's run command's mode instead, one process with the in-memory
channel layer (the server runs in this process; CPU and memory include the sender).

usage: .venv/bin/python bench/ws/bench_ws.py [--viewers 500] [--rate 10] [--seconds 20] [--embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BACKEND, django_environment, free_port, tree_cpu_seconds, tree_rss_mb  # noqa: E402


async def viewer(
    url: str, expected: int, latencies: list[float], counts: list[int], ready: asyncio.Event, connected: list[int]
) -> None:
    import websockets

    async with websockets.connect(url, origin="http://127.0.0.1", max_queue=None, open_timeout=60) as socket:
        await socket.recv()  # the snapshot
        connected.append(1)
        ready.set()
        received = 0
        try:
            while received < expected:
                message = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if message["type"] == "analysis.frame":
                    latencies.append(time.time() - message["detections"][0]["extra"]["sent"])
                    received += 1
        except TimeoutError:
            pass
        counts.append(received)


async def run(args) -> None:
    port = free_port()
    env = (
        django_environment(INGEST_IN_WEB="false")  # in-memory channel layer
        if args.embedded
        else django_environment(REDIS_URL=args.redis, INGEST_IN_WEB="false")
    )
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from streaming.services import stream_create

    user = await asyncio.to_thread(get_user_model().objects.create_user, "bench")
    token = (await asyncio.to_thread(Token.objects.get_or_create, user=user))[0].key
    stream, _ = await asyncio.to_thread(stream_create, owner=user, name="bench")
    if args.embedded:
        await _embedded(args, stream, token, port)
        return
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "media_analyzer.asgi:application", "--port", str(port), "--no-access-log",
         "--ws-max-queue", "64", "--ws-per-message-deflate", "false",
         "--workers", str(args.server_workers)],
        cwd=BACKEND, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = 0
    for line in server.stderr:  # each worker process says when it is ready
        started += "Application startup complete" in line
        if started == args.server_workers:
            break
    # Keep reading the server's log: a full pipe would block the server on its next line
    # (uvicorn logs each WebSocket it accepts; about 250 of them fill the 64 KiB pipe).
    threading.Thread(target=lambda: deque(server.stderr, maxlen=0), daemon=True).start()
    try:
        await _measure(args, server.pid, stream, token, port)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


async def _embedded(args, stream, token, port) -> None:
    """Embedded mode, as `scripts/run` serves: one process, the in-memory channel layer. The
    server runs on this process's event loop, where the analysis threads' messages go too
    (`media_analyzer.events.broadcast`), so the messages are sent from it."""
    import uvicorn

    from media_analyzer.asgi import application

    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            ws_max_queue=64, ws_per_message_deflate=False)  # fmt: skip
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            raise SystemExit(f"the server did not start: {serving.exception()!r}")
        await asyncio.sleep(0.05)  # a benchmark's wait for its server, ended by the server or its failure
    try:
        await _measure(args, None, stream, token, port)
    finally:
        server.should_exit = True
        await serving


def _viewer_process(url: str, viewers: int, expected: int, connected_queue, results_queue) -> None:
    """One client process: its viewers connect, say so, then count what they receive."""

    async def main() -> None:
        latencies, counts, connected = [], [], []
        ready = asyncio.Event()
        tasks = []
        for _ in range(viewers):
            tasks.append(asyncio.create_task(viewer(url, expected, latencies, counts, ready, connected)))
            await asyncio.sleep(0.005)  # do not stampede the accept queue
        deadline = time.monotonic() + 120
        while len(connected) + sum(task.done() for task in tasks) < viewers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # a benchmark's wait for its viewers, bounded
        failed = [repr(task.exception()) for task in tasks if task.done() and task.exception()]
        connected_queue.put((len(connected), failed[:1]))
        await asyncio.gather(*tasks, return_exceptions=True)
        results_queue.put((latencies, counts))

    asyncio.run(main())


async def _measure(args, server_pid: int | None, stream, token, port) -> None:
    """Viewers live in CLIENT_PROCESSES processes: one Python process cannot parse 5,000
    messages a second without becoming the latency it measures. `server_pid` None: the server
    is this process (whose children are the viewers' processes, so not counted)."""
    import multiprocessing

    from channels.layers import get_channel_layer

    from media_analyzer.events import stream_group, wire_event

    url = f"ws://127.0.0.1:{port}/ws/streams/{stream.id}/?token={token}"
    messages = int(args.rate * args.seconds)
    context = multiprocessing.get_context("spawn")
    connected_queue, results_queue = context.Queue(), context.Queue()
    share = [args.viewers // args.clients + (i < args.viewers % args.clients) for i in range(args.clients)]
    processes = [
        context.Process(target=_viewer_process, args=(url, n, messages, connected_queue, results_queue)) for n in share
    ]
    for process in processes:
        process.start()
    reports = [await asyncio.to_thread(connected_queue.get, True, 180) for _ in processes]
    print(f"{sum(n for n, _ in reports)} viewers connected", flush=True)
    for _, failed in reports:
        if failed:
            print(f"some viewers failed to connect, e.g. {failed[0]}", flush=True)
    layer = get_channel_layer()
    cpu_before, wall_before = _server_cpu_s(server_pid), time.monotonic()
    for index in range(messages):
        frame = {"type": "analysis.frame", "stream_id": str(stream.id), "segment_seq": 0,
                 "pts": index / args.rate, "pdt": "2026-11-24T12:00:00+00:00",
                 "detections": [{"analyzer": "bench", "kind": "object", "label": "cup", "confidence": 0.9,
                                 "box": {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2},
                                 "extra": {"sent": time.time()}}]}  # fmt: skip
        await layer.group_send(stream_group(stream.id), wire_event(frame))  # as broadcast() sends it
        await asyncio.sleep(1 / args.rate)
    latencies, counts = [], []
    for _ in processes:
        got_latencies, got_counts = await asyncio.to_thread(results_queue.get, True, 120)
        latencies += got_latencies
        counts += got_counts
    for process in processes:
        process.join(10)
    cpu = _server_cpu_s(server_pid) - cpu_before
    wall = time.monotonic() - wall_before
    memory = tree_rss_mb(server_pid) if server_pid else _own_rss_mb()

    latencies.sort()
    lost = messages * args.viewers - sum(counts)
    where = "embedded mode, one process" if args.embedded else f"{args.server_workers} server worker process(es)"
    print(
        f"viewers {args.viewers} on {where}, {args.rate} msg/s for "
        f"{args.seconds} s: {messages * args.viewers} deliveries"
    )
    print(
        f"delivery latency p50 {1000 * statistics.median(latencies):.1f} ms, "
        f"p99 {1000 * latencies[int(0.99 * len(latencies))]:.1f} ms (target p99 <= 100 ms)"
    )
    print(f"messages lost: {lost}")
    print(f"server CPU {100 * cpu / wall:.0f} % of one core (all workers), memory {memory:.0f} MB RSS (all workers)")


def _server_cpu_s(server_pid: int | None) -> float:
    return tree_cpu_seconds(server_pid) if server_pid else time.process_time()


def _own_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--server-workers", type=int, default=4, help="uvicorn worker processes; each holds its share of the viewers"
    )
    parser.add_argument("--clients", type=int, default=4, help="client processes holding the viewers")
    parser.add_argument(
        "--embedded", action="store_true", help="embedded mode: one server process, in-memory channel layer, no Redis"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
