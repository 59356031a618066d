"""Fuzzing the stream socket through the real ASGI application: any text or bytes frame gets
a JSON answer (pong or error) or a close with 1009 (too big) or a 4xxx code, never an
unhandled exception (which WebsocketCommunicator raises here)."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from media_analyzer.asgi import application
from media_analyzer.tests.fuzzing import FUZZ_API, json_values
from streaming.services import stream_create

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]

frames = st.one_of(
    st.text(max_size=300).map(lambda text: ("text", text)),
    json_values.map(lambda value: ("text", json.dumps(value))),
    st.binary(max_size=300).map(lambda raw: ("bytes", raw)),
    st.sampled_from(
        [
            ("text", "[" * 4096),
            ("bytes", b"{" * 4096),
            ("text", "x" * 4097),
            ("bytes", b"\xff\xfe"),
            ("text", '{"type": "ping"}'),
        ]
    ),
)


async def _exchange(stream_id, token: str, sent: list) -> None:
    socket = WebsocketCommunicator(application, f"/ws/streams/{stream_id}/?token={token}", headers=ORIGIN)
    connected, _ = await socket.connect()
    assert connected
    assert json.loads((await socket.receive_output(timeout=5))["text"])["type"] == "snapshot"
    try:
        for kind, payload in sent:
            await socket.send_input({"type": "websocket.receive", kind: payload})  # send_to() refuses "" and b""
            output = await socket.receive_output(timeout=5)  # re-raises the consumer's exception
            if output["type"] == "websocket.close":
                assert output.get("code") == 1009 or 4000 <= output.get("code", 0) < 5000, output
                return
            answer = json.loads(output["text"])
            assert answer["type"] in ("pong", "error"), answer
    finally:
        await socket.disconnect()


class SocketFixture:
    def __init__(self, user):
        self.stream_id = stream_create(owner=user, name="fuzz cam")[0].id
        self.token = Token.objects.get_or_create(user=user)[0].key


def check_frames(fixture: SocketFixture, sent: list) -> None:
    async_to_sync(_exchange)(fixture.stream_id, fixture.token, sent)


def test_socket_frames_never_crash_the_consumer(user):
    fixture = SocketFixture(user)

    @FUZZ_API
    @given(st.lists(frames, min_size=1, max_size=8))
    @example([("text", "[" * 4096)])
    @example([("text", '{"type": "ping"}'), ("bytes", b'{"type": "ping"}'), ("text", "x" * 4097)])
    def run(sent):
        check_frames(fixture, sent)

    run()


def test_deeply_nested_json_is_malformed_not_a_crash(user):
    """Found by this fuzzing: json.loads recursed past the interpreter's limit on 4,096
    brackets and the RecursionError escaped the consumer. Outside Hypothesis, which raises
    the recursion limit while it runs a test."""
    fixture = SocketFixture(user)
    check_frames(fixture, [("text", "[" * 4096), ("bytes", b'{"a":' * 819), ("text", '{"type": "ping"}')])
