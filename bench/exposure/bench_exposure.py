"""bench/exposure: screen-time accuracy against ground truth on generated streams.

Each stream is a run of 2 s segments (15 fps, 1280x720) over real photos, with simple-icons
logos scripted to appear at random times, places and sizes (96-240 px, upright). The
segments go through the real analysis job (logos analyzer, batch mode, 2 sampled frames a
second), then the exposure summary is compared with the script: screen time per brand
(target: within one sampling interval, 0.5 s) and mean share of screen (target: within 10 %).

Then the cost of tracking one more segment of an appearance that has lasted an hour
(7,200 stored sightings at 2 fps): resumed in order, as live segments are, and re-derived
from all its sightings, as an out-of-order or re-analysed segment is.

usage: .venv/bin/python bench/exposure/bench_exposure.py [--streams 4] [--segments 6]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import django_environment  # noqa: E402

FPS, SEGMENT_S, INTERVAL = 15, 2.0, 0.5
SIZE = (1280, 720)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--segments", type=int, default=6)
    parser.add_argument("--verbose", action="store_true", help="each appearance: truth and measured")
    parser.add_argument("--long-hours", type=float, default=1.0, help="length of the long appearance")
    args = parser.parse_args()
    django_environment(ANALYZERS="logos")
    import numpy as np

    rng = np.random.default_rng(2026)
    errors, share_errors, started = [], [], time.perf_counter()
    for index in range(args.streams):
        for truth, measured in _one_stream(rng, index, args.segments, args.verbose):
            errors.append(
                abs(measured["screen_time_s"] - truth["screen_time_s"]) if measured else truth["screen_time_s"]
            )
            if measured:
                share_errors.append(abs(measured["share_of_screen_mean"] / truth["share"] - 1))
    errors_arr = np.array(errors)
    print(
        f"{len(errors)} scripted brand appearances in {args.streams} streams of {args.segments * SEGMENT_S:.0f} s, "
        f"analysed in {time.perf_counter() - started:.0f} s"
    )
    print(
        f"screen time error: mean {errors_arr.mean():.3f} s, max {errors_arr.max():.3f} s, "
        f"within one interval ({INTERVAL} s): {100 * (errors_arr <= INTERVAL + 1e-6).mean():.0f} %"
    )
    if share_errors:
        shares = np.array(share_errors)
        print(
            f"share of screen error: mean {100 * shares.mean():.1f} %, max {100 * shares.max():.1f} %, "
            f"within 10 %: {100 * (shares <= 0.10).mean():.0f} %"
        )
    _long_appearance_cost(args.long_hours)


def _long_appearance_cost(hours: float) -> None:
    from django.contrib.auth import get_user_model

    from ai_processing.models import Detection, FrameAnalysis
    from ai_processing.services import brand_create
    from exposure.tracking import appearances_update
    from streaming.models import MediaSegment
    from streaming.services import stream_create

    owner = get_user_model().objects.create_user("long")
    stream, _ = stream_create(owner=owner, name="long")
    brand = brand_create(owner=owner, name="Acme")
    start = datetime(2026, 11, 24, 12, tzinfo=UTC)
    segments = int(hours * 3600 / SEGMENT_S)
    per_segment = int(SEGMENT_S / INTERVAL)
    for seq in range(segments + 1):  # stored in bulk, as the analysis jobs would have
        segment = MediaSegment.objects.create(
            stream=stream,
            seq=seq,
            file=f"{seq}.ts",
            duration=SEGMENT_S,
            bytes=1,
            start_pts=seq * SEGMENT_S,
            program_date_time=start + timedelta(seconds=seq * SEGMENT_S),
        )
        frames = FrameAnalysis.objects.bulk_create(
            FrameAnalysis(
                segment=segment,
                stream=stream,
                pts=seq * SEGMENT_S + i * INTERVAL,
                pdt=segment.program_date_time + timedelta(seconds=i * INTERVAL),
            )
            for i in range(per_segment)
        )
        Detection.objects.bulk_create(
            Detection(frame=f, stream=stream, pdt=f.pdt, pts=f.pts, analyzer="logos", kind="logo", label="Acme",
                      confidence=0.9, x=0.1, y=0.1, w=0.2, h=0.1, brand=brand, extra={"source": "logo"})
            for f in frames
        )  # fmt: skip
    at = lambda seq: start + timedelta(seconds=seq * SEGMENT_S)  # noqa: E731
    # The hour so far.
    appearances_update(stream=stream, since=at(0), until=at(segments) - timedelta(microseconds=1), interval_s=INTERVAL)
    timings = {}
    for name, since in (("resumed (in order)", at(segments)), ("re-derived", at(segments - 1))):
        started = time.perf_counter()
        [appearance] = appearances_update(stream=stream, since=since, until=at(segments + 1), interval_s=INTERVAL)
        timings[name] = (time.perf_counter() - started) * 1000
    print(
        f"tracking one more segment of a {hours:g} h appearance ({appearance.frames} sightings): "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in timings.items())
    )


def _one_stream(rng, index: int, segments: int, verbose: bool):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ai_processing.pipeline import segment_analyze
    from ai_processing.services import brand_create, brand_reference_image_add
    from ai_processing.tests.logo_scenes import PHOTOS, SLUGS, icon_png
    from exposure.selectors import exposure_summary
    from streaming.models import MediaSegment
    from streaming.services import stream_create

    owner = get_user_model().objects.create_user(f"bench-{index}")
    stream, _ = stream_create(
        owner=owner, name="bench", enabled_analyzers=["logos"], sampling_fps=1, processing_mode="batch"
    )
    slugs = [str(s) for s in rng.choice(SLUGS, size=2, replace=False)]
    script = {}
    for slot, slug in enumerate(slugs):
        brand = brand_create(owner=owner, name=slug)
        brand_reference_image_add(brand=brand, image=SimpleUploadedFile(f"{slug}.png", icon_png(slug)))
        length = segments * SEGMENT_S
        start = round(float(rng.uniform(0, length * 0.5)), 2)
        end = round(float(rng.uniform(start + 1.5, length)), 2)
        width = int(rng.uniform(96, 240))
        x, y = int(rng.uniform(slot * 640, slot * 640 + 640 - width)), int(rng.uniform(0, 720 - width))
        script[slug] = (start, end, x, y, width)
    background = PHOTOS[index % 3]  # astronaut, coffee, chelsea
    origin = datetime.now(UTC) - timedelta(hours=1)
    boxes = {}
    for seq in range(segments):
        name, seen = _segment(stream.pk, seq, script, background)
        boxes.update(seen)
        segment = MediaSegment.objects.create(
            stream=stream,
            seq=seq,
            file=name,
            duration=SEGMENT_S,
            bytes=1,
            start_pts=seq * SEGMENT_S,
            program_date_time=origin + timedelta(seconds=seq * SEGMENT_S),
        )
        segment_analyze(segment.pk)
    measured = {b["brand"]: b for b in exposure_summary(stream=stream)["brands"]}
    for slug, (start, end, *_rest) in script.items():
        x, y, w, h = boxes[slug]
        found = measured.get(slug)
        if verbose:
            print(
                f"  {background:10} {slug:10} shown {start:5.2f}-{end:5.2f} s at {w}x{h} px: measured "
                + (f"{found['screen_time_s']:.2f} s in {found['appearances']} appearance(s)" if found else "nothing")
            )
        yield {"screen_time_s": _sampled_time(start, end), "share": w * h / (SIZE[0] * SIZE[1])}, found


def _sampled_time(start: float, end: float) -> float:
    """The truth: shown from `start` to `end`."""
    return round(end - start, 3)


def _segment(stream_id, seq: int, script: dict, background: str):
    import subprocess

    import imageio_ffmpeg
    from django.conf import settings

    from ai_processing.tests.logo_scenes import pasted, photo

    frames, boxes = [], {}
    for i in range(int(SEGMENT_S * FPS)):
        second = seq * SEGMENT_S + i / FPS
        frame = photo(background)
        for slug, (start, end, x, y, width) in script.items():
            if start <= second < end:
                frame, boxes[slug] = pasted(frame, slug, x, y, width)
        frames.append(frame)
    name = f"segments/{stream_id}-{seq}.ts"
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-f", "mpegts", str(path)], input=b"".join(f.tobytes() for f in frames), check=True)  # fmt: skip
    return name, boxes


if __name__ == "__main__":
    main()
