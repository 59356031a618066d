"""bench/latency: the live loop as a user sees it, per segment profile.

For each segment length (--segment-seconds, default 1 and 2): a fresh embedded platform
(the README's run command: migrate, admin, the ASGI server with its ingest), a brand with a
reference image, a stream with the default analyzers at 2 fps, ffmpeg publishing a moving
logo over RTMP as OBS would (keyframe every segment), and Debian Chromium on the stream
page (frontend/e2e/overlay-sync.mjs). Prints:
- glass to glass: an RTMP frame's wall clock to the same frame on screen (median);
- the share of analysed frames whose results were drawn on their own frame;
- per stage, p50 and p95 seconds (the segments' traces, from the API), and segment closed
  to results on the socket (total minus close);
- skipped segments.

usage: .venv/bin/python bench/latency/bench_latency.py [--segment-seconds 1 2] [--seconds 75]
(needs /usr/bin/chromium, a built dashboard and npm packages: scripts/test sets them up)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import BACKEND, REPO, free_port  # noqa: E402

sys.path.insert(0, str(BACKEND))
PASSWORD = "bench-latency-password"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segment-seconds", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--seconds", type=int, default=75, help="how long the publisher runs")
    args = parser.parse_args()
    rows = [(seconds, _profile(seconds, args.seconds)) for seconds in args.segment_seconds]
    print(f"\n{'segment':>8}{'glass-to-glass':>16}{'on own frame':>14}{'closed->sent p95':>18}{'skipped':>9}")
    for seconds, row in rows:
        print(
            f"{seconds:>7.0f}s{row['glass_to_glass_s']:>15.2f}s{row['own_frame_share']:>14.2f}"
            f"{row['closed_to_sent_p95_s']:>17.3f}s{row['skipped']:>5}/{row['segments']}"
        )
    for seconds, row in rows:
        print(f"\nstages, {seconds:.0f} s segments (p50 / p95 s):")
        for stage, (p50, p95) in row["stages"].items():
            print(f"  {stage:<18}{p50:>8.3f}{p95:>8.3f}")


def _profile(segment_seconds: float, publish_seconds: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="media-analyzer-latency-"))
    http_port, rtmp_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development",
        "MEDIA_ANALYZER_DATA_DIR": str(data / "var"),
        "RTMP_PORT": str(rtmp_port),
        "ADMIN_PASSWORD": PASSWORD,
        "HLS_SEGMENT_SECONDS": str(segment_seconds),
    }
    env.pop("DATABASE_URL", None), env.pop("REDIS_URL", None)
    for command in (["migrate", "--noinput", "-v", "0"], ["ensure_admin"], ["fetch_models", "--offline"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BACKEND,
            env=env,
            check=True,
            timeout=300,
            stdout=subprocess.DEVNULL,
        )
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "media_analyzer.asgi:application", "--host",
                               "127.0.0.1", "--port", str(http_port)], cwd=BACKEND, env=env,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        for line in server.stderr:
            if "Uvicorn running on" in line:
                break
        base = f"http://127.0.0.1:{http_port}"
        return _measured(base, rtmp_port, segment_seconds, publish_seconds, data)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _measured(base: str, rtmp_port: int, segment_seconds: float, publish_seconds: int, data: Path) -> dict:
    import imageio_ffmpeg

    from ai_processing.tests.logo_scenes import icon_png

    session = requests.Session()
    token = session.post(f"{base}/api/auth/token/", data={"username": "admin", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Token {token}"}
    brand = session.post(f"{base}/api/brands/", json={"name": "Spotify"}, headers=headers).json()
    session.post(
        f"{base}/api/brands/{brand['id']}/images/",
        files={"image": ("spotify.png", icon_png("spotify"))},
        headers=headers,
    ).raise_for_status()
    stream = session.post(f"{base}/api/streams/", json={"name": "latency"}, headers=headers).json()
    (data / "subject.png").write_bytes(icon_png("spotify", 200))
    (data / "subject.json").write_text(json.dumps({"kind": "logo", "box": [0, 0, 1, 1]}))
    # The page first, as a user opens it before starting OBS: the script says when it waits for
    # the stream ("Not published yet"), and only then does the publisher start.
    browser = subprocess.Popen(["node", "e2e/overlay-sync.mjs", base, "admin", PASSWORD, stream["id"],
                                str(data / "artifacts"), str(data / "subject.json")],
                               cwd=REPO / "frontend", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    publisher = None
    try:
        opened = browser.stdout.readline()
        if '"page"' not in opened:
            raise SystemExit(f"Chromium run failed before publishing: {opened}{browser.stderr.read()[-2000:]}")
        publisher = subprocess.Popen(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", "color=c=0x203040:size=1280x720:rate=30",
             "-loop", "1", "-framerate", "30", "-i", str(data / "subject.png"),
             "-filter_complex", "[0][1]overlay=x='380+300*sin(t)':y=104:shortest=1,format=yuv420p[v]",
             "-map", "[v]", "-t", str(publish_seconds), "-c:v", "libx264", "-preset", "ultrafast",
             "-tune", "zerolatency", "-g", str(round(30 * segment_seconds)), "-f", "flv",
             f"rtmp://127.0.0.1:{rtmp_port}/live/{stream['stream_key']}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        out, err = browser.communicate(timeout=publish_seconds + 120)
        publisher.wait(timeout=60)
    finally:
        browser.kill()
        if publisher is not None:
            publisher.kill()
    if browser.returncode != 0:
        raise SystemExit(f"Chromium run failed: {err[-2000:]}")
    seen = json.loads(out.strip().splitlines()[-1])
    segments = session.get(
        f"{base}/api/streams/{stream['id']}/segments/", params={"limit": 1000}, headers=headers
    ).json()["results"]
    return {
        "glass_to_glass_s": seen["glass_to_glass_latency_s_median"],
        "own_frame_share": seen["drawn_on_own_frame_share"],
        **_stages(segments),
        "skipped": sum(s["state"] == "skipped" for s in segments),
        "segments": len(segments),
    }


def _stages(segments: list[dict]) -> dict:
    traces = [s["trace"] for s in segments if s["trace"]]
    names = [
        "close",
        "dispatch",
        "queue",
        "decode",
        "analyze",
        *sorted({k for t in traces for k in t if k.startswith("analyze:")}),
        "store",
        "send",
        "total",
    ]
    stages = {name: _p50_p95([t[name] for t in traces if name in t]) for name in names}
    closed_to_sent = _p50_p95([t["total"] - t["close"] for t in traces])
    return {"stages": {**stages, "closed->sent": closed_to_sent}, "closed_to_sent_p95_s": closed_to_sent[1]}


def _p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values) or [float("nan")]
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


if __name__ == "__main__":
    main()
