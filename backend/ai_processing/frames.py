"""Decode a segment once and sample it: each sampled frame is converted to RGB once and
shared by every analyzer."""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np


def frames_sampled(path: str, fps: float) -> Iterator[tuple[float, np.ndarray]]:
    """Yields (seconds from the segment's first frame, H x W x 3 RGB) at about `fps`."""
    interval = 1.0 / fps
    with av.open(path) as container:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        first, next_offset = None, 0.0
        for frame in container.decode(video):
            if frame.time is None:
                continue
            first = frame.time if first is None else first
            offset = frame.time - first
            if offset + 1e-6 < next_offset:
                continue  # decoded (H.264 needs it) but not converted
            yield offset, frame.to_ndarray(format="rgb24")
            while next_offset <= offset + 1e-6:
                next_offset += interval


def frame_at(path: str, offset: float) -> tuple[float, np.ndarray]:
    """The decoded frame nearest `offset` seconds from the segment's first frame, and its
    offset: a correction is cut from the very frame the analyzer saw."""
    best: tuple[float, np.ndarray] | None = None
    for found, image in frames_sampled(path, 1000.0):  # every frame
        if best is None or abs(found - offset) < abs(best[0] - offset):
            best = (found, image)
        if found > offset:
            break
    if best is None:
        raise ValueError("the segment has no video frames")
    return best
