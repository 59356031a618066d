"""bench/ingest: N concurrent 1080p30 publishers into one ingest process.

Prints, per stream, the CPU of the ingest path (our RTMP server and its ffmpeg remuxers,
not the publishers) and the time from publish to the first playlist.
Targets on the 2-core machine: <= 5 % of one core per stream; <= segment duration + 0.5 s.

usage: .venv/bin/python bench/ingest/bench_ingest.py [--streams N] [--seconds S]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BACKEND, cpu_seconds, django_environment, free_port, tree_cpu_seconds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0, help="CPU sampling window")
    args = parser.parse_args()

    port = free_port()
    env = django_environment(RTMP_PORT=str(port), ANALYZERS="visual")
    import imageio_ffmpeg
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from streaming.services import stream_create

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    owner = get_user_model().objects.create_user("bench")
    streams = [stream_create(owner=owner, name=f"bench {i}") for i in range(args.streams)]
    for stream, _ in streams:  # measure ingest alone: no analysis jobs
        stream.analysis_enabled = False
        stream.save()

    clip = Path(tempfile.mkdtemp()) / "clip.flv"
    print("encoding a 10 s 1080p30 H.264 + AAC clip once, so publishers only copy it ...")
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:v", "libx264", "-preset", "veryfast",
         "-b:v", "6M", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(clip)],
        check=True,
    )  # fmt: skip
    ingest = subprocess.Popen(
        [sys.executable, "manage.py", "ingest"],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    ingest.stdout.readline()  # "RTMP ingest listening on port ..."
    hls_root = settings.CONFIG.hls_root
    publishers, first_playlist = [], []
    try:
        for stream, key in streams:
            started = time.monotonic()
            publishers.append(subprocess.Popen(
                [ffmpeg, "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip), "-c", "copy", "-f", "flv",
                 f"rtmp://127.0.0.1:{port}/live/{key}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
            first_playlist.append(_wait_for_playlist(hls_root / str(stream.id), started))
        time.sleep(3)  # steady state before measuring
        cpu_before, own_before, wall_before = tree_cpu_seconds(ingest.pid), cpu_seconds(ingest.pid), time.monotonic()
        time.sleep(args.seconds)
        cpu = tree_cpu_seconds(ingest.pid) - cpu_before
        own = cpu_seconds(ingest.pid) - own_before
        wall = time.monotonic() - wall_before
    finally:
        for publisher in publishers:
            publisher.kill()
        ingest.terminate()
        ingest.wait(30)

    per_stream = 100 * cpu / wall / args.streams
    print(f"streams: {args.streams} x 1080p30 (~6 Mbit/s each), segment {settings.CONFIG.hls_segment_seconds} s")
    print(f"ingest CPU per stream: {per_stream:.2f} % of one core (target <= 5 %)")
    print(
        f"  of which the ingest process (RTMP, registry): {100 * own / wall / args.streams:.2f} %, "
        f"its ffmpeg remuxers: {100 * (cpu - own) / wall / args.streams:.2f} %"
    )
    print(
        f"publish -> first playlist: median {statistics.median(first_playlist):.2f} s, "
        f"max {max(first_playlist):.2f} s (target <= {settings.CONFIG.hls_segment_seconds + 0.5:.1f} s)"
    )


def _wait_for_playlist(directory: Path, started: float, timeout: float = 30.0) -> float:
    while time.monotonic() - started < timeout:
        if any(directory.glob("live-*.m3u8")):
            return time.monotonic() - started
        time.sleep(0.01)  # a benchmark's probe, not a test's synchronisation
    raise TimeoutError(f"no playlist in {directory} after {timeout} s")


if __name__ == "__main__":
    main()
