"""Fuzzing the RTMP ingest: the chunk parser (driven through a whole connection, as a
publisher reaches it) and the AMF0 decoder, on arbitrary bytes and on mutated valid streams.

What may come out: clean values, `amf0.AMFError` (a ValueError) from the decoder, and from a
connection nothing at all, because `_Connection.run` ends a connection on the errors it
documents (ProtocolError, AMFError, a short read) and lets anything else escape: an escaped
exception (IndexError, KeyError, struct.error, TypeError, RecursionError...) fails the test.
"""

import asyncio
import math
import struct

from hypothesis import example, given
from hypothesis import strategies as st

from media_analyzer.tests.fuzzing import FUZZ, mutated
from streaming.ingest import amf0
from streaming.ingest.rtmp import (
    AUDIO,
    COMMAND_AMF0,
    DATA_AMF0,
    HANDSHAKE_SIZE,
    SET_CHUNK_SIZE,
    USER_CONTROL,
    VIDEO,
    WINDOW_ACK,
    Refusal,
    RtmpLimits,
    _Connection,
)

KEY = "sk_fuzz"
LIMITS = RtmpLimits(max_message_size=1 << 20, max_pending_bytes=2 << 20)


class _Writer:
    """Swallows what the server sends, as a socket whose peer never reads would not."""

    def __init__(self):
        self.sent = 0
        self.closed = False
        self.transport = self

    def write(self, data):
        self.sent += len(data)

    async def drain(self):
        pass

    def close(self):
        self.closed = True

    def abort(self):
        self.closed = True

    def get_extra_info(self, name, default=None):
        return ("fuzz", 0)


class _Sink:
    def __init__(self):
        self.tags = 0
        self.closed = False

    async def media(self, tag_type, timestamp_ms, payload):
        assert tag_type in (AUDIO, VIDEO, DATA_AMF0) and payload
        self.tags += 1

    async def close(self):
        self.closed = True


_LOOP = asyncio.new_event_loop()  # one for all examples: a fresh loop per example costs more than the parse


def run_connection(data: bytes) -> _Connection:
    """One whole connection whose peer sends `data` and hangs up."""

    async def go():
        reader = asyncio.StreamReader(limit=64 * 1024)
        reader.feed_data(data)
        reader.feed_eof()
        sinks = []

        async def authorize(app, key, peer):
            if key != KEY:
                return Refusal("NetStream.Publish.BadName", "invalid stream key")
            sinks.append(_Sink())
            return sinks[-1]

        connection = _Connection(reader, _Writer(), "fuzz:0", authorize, LIMITS)
        await connection.run()  # raises only what it does not handle
        return connection, sinks

    connection, sinks = _LOOP.run_until_complete(go())
    assert connection.writer.closed
    assert all(sink.closed for sink in sinks) and len(sinks) <= 1
    assert connection.pending_bytes == sum(len(state.pending) for state in connection.streams.values())
    assert 0 <= connection.pending_bytes <= LIMITS.max_pending_bytes
    assert len(connection.streams) <= LIMITS.max_chunk_streams
    return connection


# --- a valid publish, built with the server's own chunk writer and AMF0 encoder
def _chunks(messages, chunk_size=128) -> bytes:
    """(csid, type, stream id, payload) messages as fmt 0 + fmt 3 chunks, by `_Connection._send`."""
    connection = _Connection(None, None, "", None, LIMITS)  # type: ignore[arg-type]
    out = bytearray()

    async def write(data):
        out.extend(data)

    connection._write = write  # type: ignore[method-assign]
    connection.out_chunk_size = chunk_size
    for message in messages:
        _LOOP.run_until_complete(connection._send(*message))
    return bytes(out)


def _chunk(fmt, csid, timestamp, payload=b"", type_id=VIDEO, stream_id=1, length=None) -> bytes:
    """One chunk with a header of format 1 or 2 and an extended timestamp when it needs one."""
    stamp = min(timestamp, 0xFFFFFF)
    header = bytes([(fmt << 6) | csid]) + stamp.to_bytes(3, "big")
    if fmt == 1:
        header += (len(payload) if length is None else length).to_bytes(3, "big") + bytes([type_id])
    if stamp == 0xFFFFFF:
        header += struct.pack(">I", timestamp)
    return header + payload


HANDSHAKE = b"\x03" + bytes(range(256)) * 6 + b"\x00" * HANDSHAKE_SIZE  # C0 C1 C2
VIDEO_TAG = b"\x17\x01\x00\x00\x00" + bytes(range(256)) + b"\x00" * 60  # 321 bytes: three chunks
METADATA = amf0.encode("@setDataFrame", "onMetaData") + amf0.encode_ecma_array(
    {"width": 1280.0, "height": 720.0, "videocodecid": 7.0, "encoder": "obs", "stereo": True}
)
VALID_PUBLISH = (
    HANDSHAKE
    + _chunks(
        [
            (
                3,
                COMMAND_AMF0,
                0,
                amf0.encode("connect", 1.0, {"app": "live", "type": "nonprivate", "tcUrl": "rtmp://h/live"}),
            ),
            (2, WINDOW_ACK, 0, struct.pack(">I", 300)),
            (3, COMMAND_AMF0, 0, amf0.encode("releaseStream", 2.0, None, KEY)),
            (3, COMMAND_AMF0, 0, amf0.encode("FCPublish", 3.0, None, KEY)),
            (3, COMMAND_AMF0, 0, amf0.encode("createStream", 4.0, None)),
            (4, COMMAND_AMF0, 1, amf0.encode("publish", 5.0, None, KEY, "live")),
            (4, DATA_AMF0, 1, METADATA),
            (6, VIDEO, 1, VIDEO_TAG),
            (2, USER_CONTROL, 0, b"\x00\x06\x00\x00\x00\x2a"),
            (2, SET_CHUNK_SIZE, 0, struct.pack(">I", 256)),
        ]
    )
    + _chunk(1, 6, 33, VIDEO_TAG[:256], length=len(VIDEO_TAG))
    + b"\xc6"
    + VIDEO_TAG[256:]
    + _chunk(2, 6, 0xFFFFFF + 5, b"")
    + (VIDEO_TAG[:256] + b"\xc6" + struct.pack(">I", 0xFFFFFF + 5) + VIDEO_TAG[256:])
    + _chunks(
        [(7, AUDIO, 1, b"\xaf\x01" + b"\x21" * 40), (4, COMMAND_AMF0, 1, amf0.encode("FCUnpublish", 6.0, None, KEY))],
        256,
    )
)


def test_the_valid_publish_publishes():
    connection = run_connection(VALID_PUBLISH)
    assert connection.sink is not None and connection.sink.tags == 5  # metadata, 3 video, 1 audio
    assert connection.done


# --- the properties, shared with bench/fuzz/fuzz.py
rtmp_bytes_inputs = st.tuples(st.booleans(), st.binary(max_size=2048)).map(
    lambda pair: (HANDSHAKE if pair[0] else b"") + pair[1]
)
rtmp_mutated_inputs = mutated(VALID_PUBLISH, focus_from=len(HANDSHAKE))


def check_rtmp(data: bytes) -> None:
    run_connection(data)


def check_amf0(data: bytes) -> None:
    try:
        values = amf0.decode_all(data)
    except amf0.AMFError:
        return
    assert isinstance(values, list) and len(values) <= len(data)
    try:  # the ingest echoes a peer's values back and re-encodes its metadata
        amf0.encode(*values)
    except amf0.AMFError:
        pass  # a property name that "replace" decoding grew past 65535 bytes


amf0_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
amf0_bytes_inputs = st.binary(max_size=512)
amf0_mutated_inputs = st.lists(amf0_values, min_size=1, max_size=4).flatmap(
    lambda values: mutated(amf0.encode(*values))
)


def check_amf0_round_trip(values: list) -> None:
    decoded = amf0.decode_all(amf0.encode(*values))
    assert _same(decoded, values), (decoded, values)


def _same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isinf(a) and a == b)
    return a == b and type(a) is type(b)


# Found by this fuzzing: a strict array (a list) or a string that "replace" decoding grows past
# 65535 bytes, sent back to the publisher (a command's transaction id) or re-encoded (metadata),
# escaped `_Connection.run` as TypeError / struct.error.
LIST_TXN = HANDSHAKE + _chunks([(3, COMMAND_AMF0, 0, amf0.encode("createStream") + b"\x0a\x00\x00\x00\x00")])
LIST_IN_METADATA = HANDSHAKE + _chunks(
    [
        (3, COMMAND_AMF0, 0, amf0.encode("connect", 1.0, {"app": "live"})),
        (4, COMMAND_AMF0, 1, amf0.encode("publish", 5.0, None, KEY)),
        (4, DATA_AMF0, 1, amf0.encode("onMetaData") + b"\x08\x00\x00\x00\x01\x00\x01k\x0a\x00\x00\x00\x00\x00\x00\x09"),
    ]
)
GROWN_STRING_TXN = HANDSHAKE + _chunks(
    [(3, COMMAND_AMF0, 0, amf0.encode("FCPublish") + b"\x0c" + struct.pack(">I", 30000) + b"\xff" * 30000)], 4096
)


@FUZZ
@given(rtmp_bytes_inputs)
@example(LIST_TXN)
@example(LIST_IN_METADATA)
def test_rtmp_on_arbitrary_bytes(data):
    check_rtmp(data)


@FUZZ
@given(rtmp_mutated_inputs)
@example(VALID_PUBLISH)
def test_rtmp_on_mutated_publishes(data):
    check_rtmp(data)


def test_rtmp_regressions():
    for data in (LIST_TXN, LIST_IN_METADATA, GROWN_STRING_TXN):
        run_connection(data)


@FUZZ
@given(amf0_bytes_inputs)
@example(b"\x0a\xff\xff\xff\xff" + b"\x0a\xff\xff\xff\xff" * 20)  # nested strict arrays claiming 4G items
@example(b"\x03" * 64)  # objects nested past MAX_DEPTH
@example(b"\x0b" + b"\x00" * 8)  # a date without its time zone
def test_amf0_on_arbitrary_bytes(data):
    check_amf0(data)


@FUZZ
@given(amf0_mutated_inputs)
def test_amf0_on_mutated_values(data):
    check_amf0(data)


@FUZZ
@given(st.lists(amf0_values, max_size=4))
def test_amf0_round_trip(values):
    check_amf0_round_trip(values)
