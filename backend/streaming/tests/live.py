"""Test harness for the live path: the real ingest on a background event loop, real
publishers (ffmpeg as OBS would run it, GStreamer), and the channel layer's events."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
from dataclasses import dataclass

import imageio_ffmpeg
from channels.layers import get_channel_layer

from media_analyzer.events import bind_server_loop, stream_group
from streaming.ingest.rtmp import RtmpLimits
from streaming.ingest.service import Ingest

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
GST_LAUNCH = shutil.which("gst-launch-1.0")


@dataclass
class LiveIngest:
    loop: asyncio.AbstractEventLoop
    ingest: Ingest
    port: int

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def events(self, stream_id) -> EventListener:
        return EventListener(self, stream_id)


class EventListener:
    """Joins a stream's channel-layer group and awaits its events, each with a deadline."""

    def __init__(self, live: LiveIngest, stream_id) -> None:
        self.live = live
        self.layer = get_channel_layer()
        self.channel = live.run(self.layer.new_channel("test."))
        live.run(self.layer.group_add(stream_group(stream_id), self.channel))

    def next(self, timeout: float = 20) -> dict:
        """The next event, as the message a viewer would get (events carry it as JSON)."""
        event = self.live.run(asyncio.wait_for(self.layer.receive(self.channel), timeout), timeout + 5)
        return json.loads(event["text"]) if "text" in event else event

    def wait_for(self, predicate, timeout: float = 30) -> tuple[dict, list[dict]]:
        """The first event matching `predicate`, and every event seen before it."""
        seen: list[dict] = []
        while True:
            event = self.next(timeout)
            if predicate(event):
                return event, seen
            seen.append(event)


def start_live_ingest(limits: RtmpLimits = RtmpLimits()) -> LiveIngest:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="ingest-loop", daemon=True).start()
    bind_server_loop(loop)
    ingest = Ingest(limits)
    port = asyncio.run_coroutine_threadsafe(ingest.start(), loop).result(30)
    return LiveIngest(loop, ingest, port)


def stop_live_ingest(live: LiveIngest) -> None:
    try:
        live.run(live.ingest.stop(), 60)
    finally:
        bind_server_loop(None)
        live.loop.call_soon_threadsafe(live.loop.stop)


def ffmpeg_publisher(url: str, seconds: float, size: str = "1920x1080", rate: int = 30) -> subprocess.Popen:
    """What OBS sends: H.264 (2 s keyframes) + AAC over RTMP, in real time."""
    return subprocess.Popen(
        [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-g", str(rate * 2), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", "flv", url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def gstreamer_publisher(url: str, seconds: float) -> subprocess.Popen:
    buffers = int(seconds * 30)
    pipeline = (
        f"videotestsrc num-buffers={buffers} is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 "
        "! x264enc tune=zerolatency key-int-max=60 speed-preset=ultrafast ! h264parse "
        f"! flvmux streamable=true name=mux ! rtmp2sink location={url} "
        f"audiotestsrc num-buffers={int(seconds * 47)} is-live=true ! audioconvert ! voaacenc ! aacparse ! mux."
    )
    assert GST_LAUNCH, "gst-launch-1.0 is not installed"
    return subprocess.Popen(
        [GST_LAUNCH, "-q", *pipeline.split()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
