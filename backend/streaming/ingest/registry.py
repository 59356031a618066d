"""The segment registry's watcher: ffmpeg rewrites a stream's playlist (atomically, by
rename) each time it closes a segment; inotify tells us, and every listed segment not yet
registered is registered. Reading the whole playlist each time is what makes it exactly
once across restarts: a restarted watcher catches up from the playlists on disk."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.db import close_old_connections
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from streaming.ingest.playlists import PLAYLIST_NAME, playlist_entries
from streaming.models import MediaSegment
from streaming.services import segment_register

logger = logging.getLogger(__name__)


def playlist_sync(playlist: Path, media_root: Path) -> int:
    """Registers the playlist's closed segments that are not registered yet; returns how many."""
    try:
        entries = playlist_entries(playlist.read_text())
    except FileNotFoundError:
        return 0
    if not entries:
        return 0
    stream_id = playlist.parent.name
    known = set(MediaSegment.objects.filter(stream_id=stream_id, seq__gte=entries[0].seq).values_list("seq", flat=True))
    registered = 0
    for entry in entries:
        path = playlist.parent / entry.uri
        if entry.seq in known or not path.is_file():
            continue
        segment = segment_register(
            stream_id=stream_id,
            seq=entry.seq,
            name=str(path.relative_to(media_root)),
            duration=entry.duration,
            program_date_time=entry.program_date_time,
            size=path.stat().st_size,
        )
        registered += segment is not None
    return registered


class PlaylistWatcher(FileSystemEventHandler):
    def __init__(self, hls_root: Path, media_root: Path, catch_up_hours: float) -> None:
        self.hls_root, self.media_root, self.catch_up_hours = hls_root, media_root, catch_up_hours
        self.observer: BaseObserver | None = None
        self.failed: set[Path] = set()  # playlists whose last sync raised (retry_failed)

    def start(self) -> None:
        self.hls_root.mkdir(parents=True, exist_ok=True)
        self.observer = Observer()
        self.observer.schedule(self, str(self.hls_root), recursive=True)
        self.observer.start()
        self.catch_up()  # after watching starts, so nothing falls between the two

    def stop(self) -> None:
        if self.observer:
            self.observer.stop()
            self.observer.join(timeout=5)

    def catch_up(self) -> None:
        cutoff = time.time() - self.catch_up_hours * 3600
        for playlist in sorted(self.hls_root.glob("*/live-*.m3u8")):
            if playlist.stat().st_mtime >= cutoff:
                self.sync(playlist)

    def retry_failed(self) -> None:
        """Syncs again the playlists whose last sync failed: when their muxer is gone (a
        restart's catch-up during a database outage), no event will ever ask again."""
        for playlist in self.failed.copy():  # copied at once: the observer thread adds to it
            self.sync(playlist)

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = Path(os.fsdecode(getattr(event, "dest_path", "") or event.src_path))
        if event.event_type in ("moved", "created", "modified", "closed") and PLAYLIST_NAME.match(path.name):
            self.sync(path)

    def sync(self, playlist: Path) -> None:
        try:
            playlist_sync(playlist, self.media_root)
            self.failed.discard(playlist)
        except Exception:  # one bad playlist never stops the watcher
            logger.exception("registering segments of %s failed", playlist)
            self.failed.add(playlist)
        finally:
            close_old_connections()
