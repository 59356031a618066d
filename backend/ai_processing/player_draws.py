"""The trace's last stage, "drawn", as viewers' players report it (`player.drawn` on the
stream socket): for each result, the seconds from its arrival to its first drawing, and
whether that drawing was on the frame the result was computed from.

The player measures both on its own clock, so the figure needs no clock shared with the
server. The last DRAWS_KEPT reports of a stream are kept in the cache (in-process in
embedded mode, Redis in services mode) for `pipeline.stats`. Two server processes that
record at once can overwrite each other's latest batch, which loses samples, not
correctness. Every report also goes to the Prometheus metrics of the process that took it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.core.cache import cache

from media_analyzer.metrics import FRAMES_DRAWN, STAGE_SECONDS

DRAWS_KEPT = 300  # per stream: a few viewers' last minutes at 2 fps
DRAWS_TTL_S = 120  # a stream nobody watches has no "drawn" stage
MAX_DRAWS_PER_REPORT = 50
MAX_AFTER_S = 600.0  # past this, a report is wrong, not late


@dataclass(frozen=True)
class Draw:
    after_s: float | None  # arrival to first drawing; None: never drawn (its frame had played)
    own_frame: bool


def draws_parsed(frames: object) -> list[Draw] | None:
    """A report's `frames` as draws, or None when it is not one (docs/protocol, DrawnFrame)."""
    if not isinstance(frames, list) or len(frames) > MAX_DRAWS_PER_REPORT:
        return None
    draws = []
    for frame in frames:
        if not isinstance(frame, dict) or set(frame) != {"after_s", "own_frame"}:
            return None
        after, own = frame["after_s"], frame["own_frame"]
        if not isinstance(own, bool) or not (after is None or _seconds(after)):
            return None
        draws.append(Draw(None if after is None else float(after), own))
    return draws


def _seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_AFTER_S
    )


def player_draws_record(*, stream_id: str, draws: list[Draw]) -> None:
    for draw in draws:
        if draw.after_s is not None:
            STAGE_SECONDS.labels("drawn").observe(draw.after_s)
        FRAMES_DRAWN.labels("own frame" if draw.own_frame else "late").inc()
    key = _key(stream_id)
    kept = cache.get(key, []) + [[draw.after_s, draw.own_frame] for draw in draws]
    cache.set(key, kept[-DRAWS_KEPT:], DRAWS_TTL_S)


def player_draws_recent(*, stream_id: str) -> tuple[list[float], float | None]:
    """The kept reports' seconds to drawing, sorted, and the share drawn on their own frame."""
    kept = cache.get(_key(stream_id), [])
    seconds = sorted(after for after, _ in kept if after is not None)
    share = round(sum(1 for _, own in kept if own) / len(kept), 3) if kept else None
    return seconds, share


def _key(stream_id: str) -> str:
    return f"player-draws:{stream_id}"
