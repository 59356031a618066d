"""Services mode: the web process killed under connected viewers. Their sockets end; what is
sent while no web process runs is lost to them; once a web process is back they reconnect,
and the snapshot's number tells them they missed messages, while its rows show what changed
meanwhile. Messages after it continue its numbering.

Its own redis-server on a free port and real uvicorn processes: the shared Redis is never
touched."""

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from ai_processing.tests.test_sweep_services import free_port, service_env, start_redis
from ai_processing.tests.test_worker_killed import BACKEND, stop
from api.tests.protocol import assert_valid_message
from media_analyzer.events import _seq_key
from media_analyzer.tests.waits import until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]
VIEWERS = 2
WAIT_S = 30  # any one wait: a process starting, a message arriving, a socket ending


def start_web(data_dir: Path, redis_url: str, port: int, log: Path) -> subprocess.Popen:
    """The web process as a deployment runs it, ready once /api/health answers."""
    with log.open("ab") as output:
        web = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "media_analyzer.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=BACKEND, env=service_env(data_dir, redis_url), stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    if not until(lambda: web.poll() is not None or _answers(port), 60, interval_s=0.2) or web.poll() is not None:
        stop(web, signal.SIGKILL)
        raise AssertionError(f"the web process never answered /api/health:\n{log.read_text()[-3000:]}")
    return web


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
            return True
    except urllib.error.HTTPError:  # an answer all the same (503: a component is down)
        return True
    except OSError:
        return False


def broadcast_via(data_dir: Path, redis_url: str, code: str) -> None:
    """Code run in a process of its own bound to the private Redis, as a worker or the ingest
    sends: `broadcast` numbers each message there and publishes it on its channel layer."""
    prelude = "from media_analyzer.events import broadcast; from streaming.models import Stream; "
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", prelude + code],
        cwd=BACKEND,
        env=service_env(data_dir, redis_url),
        check=True,
        timeout=60,
        capture_output=True,
    )


def segment_done(stream_id, segment_seq: int) -> str:
    message = {"type": "analysis.segment", "stream_id": str(stream_id), "segment_seq": segment_seq, "state": "done"}
    return f"broadcast({str(stream_id)!r}, {message!r}); "


def viewer(url: str, sockets: ExitStack) -> tuple[ClientConnection, dict]:
    """A viewer connected, with its snapshot; refused connections are retried, as the
    dashboard's StreamSocket does, within the bound. `sockets` closes it."""
    opened: list[ClientConnection] = []

    def attempt() -> bool:
        try:
            opened.append(sockets.enter_context(connect(url, open_timeout=5, close_timeout=1)))
        except (OSError, InvalidHandshake, TimeoutError):
            return False
        return True

    assert until(attempt, WAIT_S, interval_s=0.2), f"could not connect to {url}"
    socket = opened[0]
    snapshot = receive(socket)
    assert snapshot["type"] == "snapshot", snapshot
    return socket, snapshot


def receive(socket: ClientConnection) -> dict:
    message = json.loads(socket.recv(timeout=WAIT_S))
    assert_valid_message(message)
    return message


def ended(socket: ClientConnection) -> bool:
    """True once the connection is over: recv raises ConnectionClosed (and nothing else
    arrives first), within the bound."""
    try:
        message = socket.recv(timeout=WAIT_S)
    except ConnectionClosed:
        return True
    except TimeoutError:
        raise AssertionError(f"the connection did not end within {WAIT_S} s") from None
    raise AssertionError(f"still open, and received {message!r}")


def test_viewers_of_a_killed_web_process_reconnect_and_resync_from_the_snapshot(tmp_path, user, stream):
    token = Token.objects.get_or_create(user=user)[0].key
    redis_port, web_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    url = f"ws://127.0.0.1:{web_port}/ws/streams/{stream.id}/?token={token}"
    log = tmp_path / "web.log"
    processes: list[subprocess.Popen] = [start_redis(redis_port)]
    opened = ExitStack()  # the viewers' sockets
    try:
        processes.append(start_web(tmp_path, redis_url, web_port, log))
        connected = [viewer(url, opened) for _ in range(VIEWERS)]
        sockets = [socket for socket, _ in connected]
        assert {snapshot["seq"] for _, snapshot in connected} == {0}  # nothing sent on this stream yet
        assert all(snapshot["stream"]["status"] == "offline" for _, snapshot in connected)

        broadcast_via(tmp_path, redis_url, "".join(segment_done(stream.id, index) for index in range(3)))
        for socket in sockets:
            received = [receive(socket) for _ in range(3)]
            assert [(m["type"], m["segment_seq"], m["seq"]) for m in received] == [
                ("analysis.segment", index, index + 1) for index in range(3)
            ]
        last_seen = 3

        stop(processes[1], signal.SIGKILL)  # no shutdown, no close frames: the kernel ends the sockets
        for socket in sockets:
            assert ended(socket)

        # Sent while no web process runs: lost to every viewer. Going live is also stored.
        go_live = (
            "from streaming.services import stream_go_live; "
            f"stream_go_live(stream=Stream.objects.get(pk={str(stream.id)!r}))"
        )
        broadcast_via(tmp_path, redis_url, segment_done(stream.id, 3) + segment_done(stream.id, 4) + go_live)
        sent_while_down = 3
        with redis.Redis(host="127.0.0.1", port=redis_port) as client:
            assert int(client.get(_seq_key(stream.id))) == last_seen + sent_while_down  # numbered all the same

        processes[1] = start_web(tmp_path, redis_url, web_port, log)  # the same address, as a restart
        reconnected = [viewer(url, opened) for _ in range(VIEWERS)]
        for _, snapshot in reconnected:
            assert snapshot["seq"] > last_seen  # the viewer can tell it missed messages
            assert snapshot["seq"] == last_seen + sent_while_down  # and every one of them is covered
            assert snapshot["stream"]["status"] == "live" and snapshot["stream"]["live_since"]  # stored meanwhile

        broadcast_via(tmp_path, redis_url, segment_done(stream.id, 5))
        for socket, snapshot in reconnected:
            after = receive(socket)
            assert (after["type"], after["segment_seq"]) == ("analysis.segment", 5)
            assert after["seq"] == snapshot["seq"] + 1  # numbering continues from the snapshot: nothing missed
    finally:
        opened.close()
        for process in reversed(processes):
            stop(process, signal.SIGKILL)
