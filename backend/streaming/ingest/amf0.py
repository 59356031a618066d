"""AMF0, the encoding of RTMP commands and metadata: the subset publishers send."""

from __future__ import annotations

import struct
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED, ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING = (
    0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
)  # fmt: skip
MAX_DEPTH = 8


class AMFError(ValueError):
    pass


def decode_all(data: bytes) -> list[Any]:
    values, offset = [], 0
    while offset < len(data):
        value, offset = _decode(data, offset, 0)
        values.append(value)
    return values


def _decode(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise AMFError("AMF0 nested too deeply")
    marker = _take(data, offset, 1)[0]
    offset += 1
    if marker == NUMBER:
        return struct.unpack(">d", _take(data, offset, 8))[0], offset + 8
    if marker == BOOLEAN:
        return _take(data, offset, 1)[0] != 0, offset + 1
    if marker == STRING:
        return _string(data, offset, 2)
    if marker == LONG_STRING:
        return _string(data, offset, 4)
    if marker in (NULL, UNDEFINED):
        return None, offset
    if marker == OBJECT:
        return _properties(data, offset, depth)
    if marker == ECMA_ARRAY:
        return _properties(data, offset + 4, depth)  # the count is a hint; the end marker decides
    if marker == STRICT_ARRAY:
        (count,) = struct.unpack(">I", _take(data, offset, 4))
        offset += 4
        items = []
        for _ in range(min(count, len(data))):
            item, offset = _decode(data, offset, depth + 1)
            items.append(item)
        return items, offset
    if marker == DATE:
        return struct.unpack(">d", _take(data, offset, 10)[:8])[0], offset + 10  # then a time zone, unused
    raise AMFError(f"unsupported AMF0 marker 0x{marker:02x}")


def _take(data: bytes, offset: int, size: int) -> bytes:
    if offset + size > len(data):
        raise AMFError("truncated AMF0 value")
    return data[offset : offset + size]


def _string(data: bytes, offset: int, width: int) -> tuple[str, int]:
    (length,) = struct.unpack(">H" if width == 2 else ">I", _take(data, offset, width))
    offset += width
    return _take(data, offset, length).decode("utf-8", "replace"), offset + length


def _properties(data: bytes, offset: int, depth: int) -> tuple[dict, int]:
    result: dict[str, Any] = {}
    while True:
        key, offset = _string(data, offset, 2)
        if not key and _take(data, offset, 1)[0] == OBJECT_END:
            return result, offset + 1
        result[key], offset = _decode(data, offset, depth + 1)


def encode(*values: Any) -> bytes:
    """Encodes anything `decode_all` returns (a peer's values are echoed back or re-encoded);
    a key too long for AMF0 raises AMFError."""
    return b"".join(_encode(value) for value in values)


def _encode(value: Any) -> bytes:
    if value is None:
        return bytes([NULL])
    if isinstance(value, bool):
        return bytes([BOOLEAN, value])
    if isinstance(value, (int, float)):
        return bytes([NUMBER]) + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()  # may be longer than the bytes it was decoded from ("replace")
        if len(raw) > 0xFFFF:
            return bytes([LONG_STRING]) + struct.pack(">I", len(raw)) + raw
        return bytes([STRING]) + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):
        return bytes([OBJECT]) + _properties_body(value)
    if isinstance(value, list):
        return bytes([STRICT_ARRAY]) + struct.pack(">I", len(value)) + b"".join(_encode(item) for item in value)
    raise TypeError(f"cannot encode {type(value).__name__} as AMF0")


def _properties_body(values: dict) -> bytes:
    parts = []
    for key, value in values.items():
        raw = key.encode()
        if len(raw) > 0xFFFF:
            raise AMFError("AMF0 property name too long to encode")
        parts.append(struct.pack(">H", len(raw)) + raw + _encode(value))
    return b"".join(parts) + b"\x00\x00" + bytes([OBJECT_END])


def encode_ecma_array(values: dict) -> bytes:
    return bytes([ECMA_ARRAY]) + struct.pack(">I", len(values)) + _properties_body(values)
