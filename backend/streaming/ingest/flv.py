"""FLV, the container RTMP media maps onto one-to-one: what ffmpeg reads on stdin."""

import struct

AUDIO, VIDEO, SCRIPT = 8, 9, 18
HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"  # audio + video, then PreviousTagSize0


def flv_tag(tag_type: int, timestamp_ms: int, payload: bytes) -> bytes:
    timestamp_ms &= 0xFFFFFFFF
    header = (
        bytes([tag_type])
        + len(payload).to_bytes(3, "big")
        + (timestamp_ms & 0xFFFFFF).to_bytes(3, "big")
        + bytes([timestamp_ms >> 24])  # FLV keeps the top byte of the timestamp apart
        + b"\x00\x00\x00"  # stream id, always 0
    )
    return header + payload + struct.pack(">I", len(header) + len(payload))
