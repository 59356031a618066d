"""A publish-only RTMP server on asyncio, with a bound on every buffer and every wait.

It speaks what OBS, ffmpeg and GStreamer's rtmp2sink send: the simple handshake, chunk
headers of all four formats with extended timestamps, the connect / createStream / publish
commands, metadata, audio and video. Media leaves through a `PublishSink` as FLV-ready
(type, timestamp, payload) triples; deciding who may publish is the `Authorizer`'s job.
Nothing here knows about Django.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from streaming.ingest import amf0

logger = logging.getLogger(__name__)

HANDSHAKE_SIZE = 1536
DEFAULT_CHUNK_SIZE = 128
OUT_CHUNK_SIZE = 4096
WINDOW_ACK_SIZE = 2_500_000
PUBLISH_STREAM_ID = 1

# Message types (RTMP spec 5.4, 7.1)
SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK, PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 15, 17, 18, 20


class ProtocolError(Exception):
    """The peer broke the protocol or a limit; the message is logged as one line."""


@dataclass(frozen=True)
class RtmpLimits:
    handshake_timeout_s: float = 5.0
    publish_timeout_s: float = 10.0  # from connection to an accepted publish
    idle_timeout_s: float = 10.0  # no bytes for this long: stalled or half-open
    write_timeout_s: float = 5.0
    max_chunk_size: int = 1 << 20
    min_chunk_size: int = 128
    max_message_size: int = 8 << 20
    max_pending_bytes: int = 16 << 20  # partial messages held across chunk streams
    max_chunk_streams: int = 32
    # Connections not publishing yet (handshake, connect, a refused key) are what an attacker
    # can open without a key: bounded per client address, so one address cannot hold every
    # slot and lock publishers elsewhere out, and in all. Each lasts at most publish_timeout_s.
    max_pending_per_address: int = 8
    max_pending: int = 64
    max_connections: int = 1024  # publishing ones included
    yield_every_chunks: int = 64  # let other connections run during a flood


class PublishSink(Protocol):
    async def media(self, tag_type: int, timestamp_ms: int, payload: bytes) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Refusal:
    code: str  # e.g. NetStream.Publish.BadName
    description: str


# (app, key, peer address) -> a sink to publish into, or a Refusal
Authorizer = Callable[[str, str, str], Awaitable["PublishSink | Refusal"]]


@dataclass
class _ChunkStream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    pending: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class Message:
    type_id: int
    timestamp: int
    stream_id: int
    payload: bytes


def client_of(address: str) -> str:
    """Who a connection counts against: its IPv4 address, or its IPv6 /64 (one subscriber's
    network holds a whole /64, so counting single addresses would bound nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)  # a dual-stack socket's IPv4


class RtmpServer:
    def __init__(self, authorize: Authorizer, limits: RtmpLimits = RtmpLimits()) -> None:
        self.authorize = authorize
        self.limits = limits
        self.connections: dict[asyncio.Task, _Connection] = {}
        self._server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port, limit=64 * 1024)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        if self._server:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address, port = writer.get_extra_info("peername", ("?", 0))[:2]
        peer = f"{address}:{port}"
        client = client_of(address)
        if refusal := self._over_limits(client):
            logger.warning("rtmp %s refused: %s", peer, refusal)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None  # asyncio.start_server runs each connection in a task
        self.connections[task] = connection = _Connection(reader, writer, peer, self.authorize, self.limits, client)
        try:
            await connection.run()
        finally:
            self.connections.pop(task, None)

    def _over_limits(self, client: str) -> str:
        """Why a new connection from `client` (client_of) is refused, or "" if it is not."""
        limits = self.limits
        pending = [connection for connection in self.connections.values() if connection.sink is None]
        if len(self.connections) >= limits.max_connections:
            return f"{len(self.connections)} connections already"
        if sum(connection.client == client for connection in pending) >= limits.max_pending_per_address:
            return f"{limits.max_pending_per_address} connections from this address not publishing yet"
        if len(pending) >= limits.max_pending:
            return f"{len(pending)} connections not publishing yet"
        return ""

    def end_publish(self, sink: PublishSink) -> bool:
        """Drops the socket of the connection publishing into `sink`: its next read fails as
        if the publisher had disconnected, and it closes the sink the usual way. Does not wait
        for that; False if no connection publishes into `sink`."""
        for connection in self.connections.values():
            if connection.sink is sink:
                connection.writer.transport.abort()  # at once, unlike close(), which flushes first
                return True
        return False


class _Connection:
    def __init__(self, reader, writer, peer: str, authorize: Authorizer, limits: RtmpLimits, client: str = "") -> None:
        self.reader, self.writer, self.peer = reader, writer, peer
        self.client = client  # what it counts against (client_of)
        self.authorize, self.limits = authorize, limits
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.streams: dict[int, _ChunkStream] = {}
        self.pending_bytes = 0
        self.received = 0
        self.acked = 0
        self.ack_window = 0
        self.app = ""
        self.sink: PublishSink | None = None
        self.done = False
        self.chunks_since_yield = 0

    async def run(self) -> None:
        try:
            await asyncio.wait_for(self._handshake(), self.limits.handshake_timeout_s)
            await asyncio.wait_for(self._until_published(), self.limits.publish_timeout_s)
            while not self.done:
                await self._dispatch(await self._read_message())
        except TimeoutError:
            logger.warning("rtmp %s closed: timed out (%s)", self.peer, "publishing" if self.sink else "before publish")
        except (asyncio.IncompleteReadError, ConnectionError):
            logger.info("rtmp %s disconnected", self.peer)
        except (ProtocolError, amf0.AMFError) as exc:
            logger.warning("rtmp %s closed: %s", self.peer, exc)
        finally:
            if self.sink is not None:
                await self.sink.close()
            self.writer.close()

    async def _until_published(self) -> None:
        while self.sink is None and not self.done:
            await self._dispatch(await self._read_message())

    # --- reading
    async def _read(self, size: int) -> bytes:
        data = await asyncio.wait_for(self.reader.readexactly(size), self.limits.idle_timeout_s)
        self.received += size
        return data

    async def _handshake(self) -> None:
        c0c1 = await self._read(1 + HANDSHAKE_SIZE)
        if c0c1[0] != 3:
            raise ProtocolError(f"not RTMP: version byte 0x{c0c1[0]:02x}")
        # Zeros in S1's version field ask for the simple handshake, which every client accepts.
        s1 = b"\x00" * 8 + os.urandom(HANDSHAKE_SIZE - 8)
        await self._write(b"\x03" + s1 + c0c1[1:])
        await self._read(HANDSHAKE_SIZE)  # C2: an echo of S1, nothing to check

    async def _read_message(self) -> Message:
        while True:
            message = await self._read_chunk()
            if message is not None:
                return message

    async def _read_chunk(self) -> Message | None:
        self.chunks_since_yield += 1
        if self.chunks_since_yield >= self.limits.yield_every_chunks:
            self.chunks_since_yield = 0
            await asyncio.sleep(0)
        first = (await self._read(1))[0]
        fmt, csid = first >> 6, first & 0x3F
        if csid == 0:
            csid = 64 + (await self._read(1))[0]
        elif csid == 1:
            low, high = await self._read(2)
            csid = 64 + low + 256 * high
        state = self._chunk_stream(csid, fmt)
        await self._read_header(state, fmt)
        if state.length > self.limits.max_message_size:
            raise ProtocolError(f"message of {state.length} bytes exceeds {self.limits.max_message_size}")
        size = min(self.chunk_size, state.length - len(state.pending))
        if self.pending_bytes + size > self.limits.max_pending_bytes:
            raise ProtocolError("too many partial messages held")
        state.pending += await self._read(size)
        self.pending_bytes += size
        await self._acknowledge()
        if len(state.pending) < state.length:
            return None
        payload = bytes(state.pending)
        self.pending_bytes -= len(state.pending)
        state.pending.clear()
        return Message(state.type_id, state.timestamp, state.stream_id, payload)

    def _chunk_stream(self, csid: int, fmt: int) -> _ChunkStream:
        state = self.streams.get(csid)
        if state is None:
            if fmt > 1:
                raise ProtocolError(f"chunk stream {csid} starts without a message header")
            if len(self.streams) >= self.limits.max_chunk_streams:
                raise ProtocolError(f"more than {self.limits.max_chunk_streams} chunk streams")
            state = self.streams[csid] = _ChunkStream()
        return state

    async def _read_header(self, state: _ChunkStream, fmt: int) -> None:
        starts_message = fmt < 3 or not state.pending
        if fmt < 3 and state.pending:  # a new header abandons a half-read message
            self.pending_bytes -= len(state.pending)
            state.pending.clear()
        if fmt == 0:
            raw = await self._read(11)
            time_field = int.from_bytes(raw[0:3], "big")
            state.length, state.type_id = int.from_bytes(raw[3:6], "big"), raw[6]
            state.stream_id = struct.unpack("<I", raw[7:11])[0]
        elif fmt == 1:
            raw = await self._read(7)
            time_field = int.from_bytes(raw[0:3], "big")
            state.length, state.type_id = int.from_bytes(raw[3:6], "big"), raw[6]
        elif fmt == 2:
            time_field = int.from_bytes(await self._read(3), "big")
        else:
            time_field = None
        if time_field is not None:
            state.extended = time_field == 0xFFFFFF
        if state.extended:
            extended = struct.unpack(">I", await self._read(4))[0]
            time_field = extended if time_field is not None else time_field
        if fmt == 0:
            state.timestamp, state.delta = time_field, 0  # type: ignore[assignment]  # fmt 0-2 carry a time
        elif fmt in (1, 2):
            state.delta = time_field  # type: ignore[assignment]
            state.timestamp = (state.timestamp + state.delta) & 0xFFFFFFFF
        elif starts_message:
            state.timestamp = (state.timestamp + state.delta) & 0xFFFFFFFF

    async def _acknowledge(self) -> None:
        if self.ack_window and self.received - self.acked >= self.ack_window:
            self.acked = self.received
            await self._send(2, ACK, 0, struct.pack(">I", self.received & 0xFFFFFFFF))

    # --- handling
    async def _dispatch(self, message: Message) -> None:
        kind = message.type_id
        if kind in (AUDIO, VIDEO):
            if self.sink is not None and message.payload:
                await self.sink.media(kind, message.timestamp, message.payload)
        elif kind == SET_CHUNK_SIZE:
            size = struct.unpack(">I", message.payload[:4].rjust(4, b"\0"))[0] & 0x7FFFFFFF
            if not self.limits.min_chunk_size <= size <= self.limits.max_chunk_size:
                raise ProtocolError(
                    f"chunk size {size} outside {self.limits.min_chunk_size}..{self.limits.max_chunk_size}"
                )
            self.chunk_size = size
        elif kind == ABORT:
            state = self.streams.get(struct.unpack(">I", message.payload[:4].rjust(4, b"\0"))[0])
            if state:
                self.pending_bytes -= len(state.pending)
                state.pending.clear()
        elif kind == WINDOW_ACK:
            self.ack_window = struct.unpack(">I", message.payload[:4].rjust(4, b"\0"))[0]
        elif kind == USER_CONTROL and message.payload[:2] == b"\x00\x06":  # ping request -> response
            await self._send(2, USER_CONTROL, 0, b"\x00\x07" + message.payload[2:6])
        elif kind in (COMMAND_AMF0, COMMAND_AMF3):
            await self._command(amf0.decode_all(message.payload[1:] if kind == COMMAND_AMF3 else message.payload))
        elif kind in (DATA_AMF0, DATA_AMF3):
            await self._data(message)

    async def _command(self, values: list) -> None:
        if len(values) < 2 or not isinstance(values[0], str):
            raise ProtocolError("malformed command")
        name, txn, args = values[0], values[1], values[2:]
        if name == "connect":
            await self._connect(txn, args[0] if args and isinstance(args[0], dict) else {})
        elif name in ("releaseStream", "FCPublish", "FCUnpublish"):
            if name == "FCUnpublish":
                self.done = True
            await self._invoke("_result", txn, None)
        elif name == "createStream":
            await self._invoke("_result", txn, None, float(PUBLISH_STREAM_ID))
        elif name == "publish":
            await self._publish(args[1] if len(args) > 1 and isinstance(args[1], str) else "")
        elif name in ("deleteStream", "closeStream"):
            self.done = True
        elif name in ("play", "play2"):
            await self._status("error", "NetStream.Play.Failed", "this server only accepts publishers")
            raise ProtocolError("play requested; publish only")

    async def _connect(self, txn, command: dict) -> None:
        self.app = str(command.get("app", "")).split("?")[0].strip("/")
        await self._send(2, WINDOW_ACK, 0, struct.pack(">I", WINDOW_ACK_SIZE))
        await self._send(2, PEER_BANDWIDTH, 0, struct.pack(">IB", WINDOW_ACK_SIZE, 2))
        await self._send(2, SET_CHUNK_SIZE, 0, struct.pack(">I", OUT_CHUNK_SIZE))
        self.out_chunk_size = OUT_CHUNK_SIZE
        await self._invoke(
            "_result",
            txn,
            {"fmsVer": "FMS/3,5,7,7009", "capabilities": 31.0},
            {
                "level": "status",
                "code": "NetConnection.Connect.Success",
                "description": "Connected.",
                "objectEncoding": 0.0,
            },
        )

    async def _publish(self, name: str) -> None:
        if self.sink is not None:
            raise ProtocolError("publish twice on one connection")
        key = name.split("?")[0]
        result = await self.authorize(self.app, key, self.peer)
        if isinstance(result, Refusal):
            await self._status("error", result.code, result.description)
            raise ProtocolError(f"publish refused: {result.description}")
        self.sink = result
        await self._send(2, USER_CONTROL, 0, struct.pack(">HI", 0, PUBLISH_STREAM_ID))  # StreamBegin
        await self._status("status", "NetStream.Publish.Start", "Publishing.")

    async def _data(self, message: Message) -> None:
        payload = message.payload[1:] if message.type_id == DATA_AMF3 else message.payload
        values = amf0.decode_all(payload)
        if values and values[0] == "@setDataFrame":
            values = values[1:]
        if self.sink is not None and len(values) >= 2 and values[0] == "onMetaData" and isinstance(values[1], dict):
            await self.sink.media(DATA_AMF0, 0, amf0.encode("onMetaData") + amf0.encode_ecma_array(values[1]))

    # --- writing
    out_chunk_size = DEFAULT_CHUNK_SIZE

    async def _invoke(self, *values) -> None:
        await self._send(3, COMMAND_AMF0, 0, amf0.encode(*values))

    async def _status(self, level: str, code: str, description: str) -> None:
        info = {"level": level, "code": code, "description": description}
        await self._send(5, COMMAND_AMF0, PUBLISH_STREAM_ID, amf0.encode("onStatus", 0.0, None, info))

    async def _send(self, csid: int, type_id: int, stream_id: int, payload: bytes) -> None:
        header = bytes([csid]) + b"\0\0\0" + len(payload).to_bytes(3, "big") + bytes([type_id])
        parts = [header + struct.pack("<I", stream_id)]
        for offset in range(0, len(payload), self.out_chunk_size):
            if offset:
                parts.append(bytes([0xC0 | csid]))  # fmt 3: continuation
            parts.append(payload[offset : offset + self.out_chunk_size])
        await self._write(b"".join(parts))

    async def _write(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), self.limits.write_timeout_s)
