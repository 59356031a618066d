"""Reading ffmpeg's HLS playlists: the segment registry's source of truth, and the rolling
live view served to players."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SEGMENT_NAME = re.compile(r"^seg_(\d{6})\.ts$")
PLAYLIST_NAME = re.compile(r"^live-(\d{6})\.m3u8$")


@dataclass(frozen=True)
class PlaylistEntry:
    seq: int
    uri: str
    duration: float
    program_date_time: datetime


def playlist_name(start_seq: int) -> str:
    return f"live-{start_seq:06d}.m3u8"


def playlist_entries(text: str) -> list[PlaylistEntry]:
    entries, duration, pdt = [], None, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = datetime.strptime(line[25:], "%Y-%m-%dT%H:%M:%S.%f%z")
        elif line and not line.startswith("#"):
            match = SEGMENT_NAME.match(line)
            if match and duration is not None and pdt is not None:
                entries.append(PlaylistEntry(int(match.group(1)), line, duration, pdt))
            duration = pdt = None
    return entries


def rolling_view(text: str, keep: int) -> str:
    """The last `keep` segments of an event playlist, as a live sliding-window playlist.
    A finished playlist (ENDLIST: the publisher left, or an upload) is served whole, so
    the player can replay all of it."""
    lines = text.splitlines()
    if "#EXT-X-ENDLIST" in lines:
        return text
    header = [
        line
        for line in lines
        if line.startswith(("#EXTM3U", "#EXT-X-VERSION", "#EXT-X-TARGETDURATION", "#EXT-X-INDEPENDENT-SEGMENTS"))
    ]
    blocks, current = [], []
    for line in lines:
        if line.startswith(("#EXTINF", "#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-DISCONTINUITY")):
            current.append(line)
        elif line and not line.startswith("#"):
            blocks.append((int(named.group(1)) if (named := SEGMENT_NAME.match(line)) else 0, [*current, line]))
            current = []
    kept = blocks[-keep:]
    media_sequence = kept[0][0] if kept else 0
    out = [*header, f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}"]
    for _, block in kept:
        out.extend(block)
    return "\n".join(out) + "\n"


def newest_playlist(directory: Path) -> Path | None:
    playlists = sorted(p for p in directory.glob("live-*.m3u8") if PLAYLIST_NAME.match(p.name))
    return playlists[-1] if playlists else None
