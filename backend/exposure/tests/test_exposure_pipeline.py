"""Brand exposure end to end: segments of a synthetic stream, with logos scripted to
appear at known times, places and sizes, go through the real analysis job (the logos
analyzer on onnx-free colour and silhouette matching); appearances, metrics, alerts and
signed webhooks come out."""

import json
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ai_processing.pipeline import segment_analyze
from ai_processing.services import brand_create, brand_reference_image_add
from ai_processing.tests.logo_scenes import icon_png, icons_available, pasted, photo
from ai_processing.tests.test_pipeline import segment_with_frames
from api.tests.protocol import assert_valid_message
from exposure.messages import alert_message, exposure_message
from exposure.models import AlertFiring, BrandAppearance, WebhookDelivery
from exposure.selectors import exposure_summary
from exposure.services import alert_rule_create
from exposure.webhooks import deliveries_drain, signature
from media_analyzer.events import PROTOCOL_VERSION
from media_analyzer.tests.waits import until
from streaming.models import MediaSegment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # CI must run it: there a missing npm package is a failure, not a skip
    pytest.mark.skipif(not icons_available() and not os.environ.get("CI"), reason="needs npm simple-icons"),
]
FPS, SEGMENT_S, SEGMENTS = 15, 2.0, 4
INTERVAL = 0.5  # batch mode at sampling_fps 1 samples 2 frames a second
SCRIPT = {  # brand: (shown from, until, x, y, width) on a 1280x720 frame
    "spotify": (1.0, 4.5, 200, 150, 160),
    "shell": (6.0, 7.5, 900, 450, 200),
}


@pytest.fixture
def webhook_receiver():
    received, arrived = [], threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, arrived
    server.shutdown()
    server.server_close()


def scripted_frames(seq: int):
    frames, boxes = [], {}
    for index in range(int(SEGMENT_S * FPS)):
        second = seq * SEGMENT_S + index / FPS
        frame = photo("coffee")
        for slug, (start, end, x, y, width) in SCRIPT.items():
            if start <= second < end:
                frame, boxes[slug] = pasted(frame, slug, x, y, width)
        frames.append(frame)
    return frames, boxes


def test_scripted_logos_give_screen_time_share_position_and_alerts(
    settings, tmp_path, stream, user, webhook_receiver, analysis_workers
):
    """In services mode the webhook goes through a real Celery worker."""
    settings.MEDIA_ROOT = tmp_path
    settings.CONFIG = settings.CONFIG.model_copy(update={"webhook_private_hosts": True})  # the receiver is local
    url, received, arrived = webhook_receiver
    brands = {}
    for slug in SCRIPT:
        brands[slug] = brand_create(owner=user, name=slug.title())
        brand_reference_image_add(brand=brands[slug], image=SimpleUploadedFile(f"{slug}.png", icon_png(slug)))
    long_spotify = alert_rule_create(
        owner=user, name="Spotify over 3 s", brand=brands["spotify"], condition="on_screen_for", seconds=3
    )
    competitor = alert_rule_create(
        owner=user, name="Shell appears", brand=brands["shell"], condition="appears", webhook_url=url, stream=stream
    )
    stream.enabled_analyzers, stream.processing_mode, stream.sampling_fps = ["logos"], "batch", 1
    stream.save()
    start = timezone.now() - timedelta(seconds=60)
    boxes = {}
    for seq in range(SEGMENTS):
        frames, seen = scripted_frames(seq)
        boxes.update(seen)
        name = segment_with_frames(tmp_path, frames).replace("frames.ts", f"seg{seq}.ts")
        (tmp_path / "segments" / "frames.ts").rename(tmp_path / name)
        segment = MediaSegment.objects.create(
            stream=stream,
            seq=seq,
            file=name,
            duration=SEGMENT_S,
            start_pts=seq * SEGMENT_S,
            bytes=1,
            program_date_time=start + timedelta(seconds=seq * SEGMENT_S),
        )
        assert segment_analyze(segment.pk) == "done"

    summary = {b["brand"].lower(): b for b in exposure_summary(stream=stream)["brands"]}
    for slug, (shown_from, shown_until, *_rest) in SCRIPT.items():
        totals = summary[slug]
        assert totals["appearances"] == 1, slug
        assert abs(totals["screen_time_s"] - (shown_until - shown_from)) <= INTERVAL, (slug, totals)
        x, y, w, h = boxes[slug]
        assert totals["share_of_screen_mean"] == pytest.approx(w * h / (1280 * 720), rel=0.10), slug
        cell = int((y + h / 2) / 720 * 3) * 3 + int((x + w / 2) / 1280 * 3)
        assert totals["heatmap"]["cells"][cell] == 1.0, slug
        assert totals["screen_time_by_source_s"].keys() == {"logo"}
    assert BrandAppearance.objects.filter(thumbnail="").count() == 0  # each has its evidence

    assert arrived.wait(20), "the competitor webhook never arrived"
    deliveries_drain()
    delivered = WebhookDelivery.objects.filter(state="delivered")
    # the worker records the outcome just after the receiver answers: a bounded wait for it
    assert until(delivered.exists, timeout_s=10)
    assert AlertFiring.objects.filter(rule=long_spotify).count() == 1
    assert AlertFiring.objects.filter(rule=competitor).count() == 1
    [(headers, body)] = received
    assert headers["X-Media-Analyzer-Signature"] == signature(
        competitor.secret, headers["X-Media-Analyzer-Timestamp"], body
    )
    assert json.loads(body)["brand"] == "Shell"
    assert WebhookDelivery.objects.count() == 1
    # what the socket carries, held against the protocol's schema
    assert_valid_message({**exposure_message(stream, exposure_summary(stream=stream)), "v": PROTOCOL_VERSION})
    assert_valid_message({**alert_message(AlertFiring.objects.get(rule=competitor)), "v": PROTOCOL_VERSION})
