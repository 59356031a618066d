"""Fuzzing every API write endpoint's JSON and the two upload endpoints' files, as a signed-in
user: whatever the body, the answer is below 500, and an error is the JSON error envelope
(`api/errors.py`). Runs with transaction=True: the views run in autocommit, as in production,
so an integrity error a view handles does not poison a test transaction."""

import io
import json
from functools import lru_cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image
from rest_framework.test import APIClient

from api.auth import CredentialsIn
from api.brands import BrandIn
from api.corrections import MissedIn
from api.exposure import AlertRuleIn
from api.streams import ModeIn, StreamIn
from media_analyzer.tests.fuzzing import FUZZ_API, FUZZ_UPLOADS, json_values, mutated, wrong_typed

pytestmark = pytest.mark.django_db(transaction=True)


def assert_no_500(response) -> None:
    status = response.status_code
    assert status < 500, (status, response.content[:500])
    if status >= 400:
        assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
        error = json.loads(response.content)["error"]
        assert error["status"] == status and isinstance(error["code"], (str, dict, list)) and "message" in error


class Fixture:
    """One user's stream, brand and alert rule: the objects the endpoints' URLs name."""

    def __init__(self, user):
        from streaming.services import stream_create

        self.client = APIClient()
        self.client.force_authenticate(user)
        self.stream = stream_create(owner=user, name="fuzz cam")[0]
        self.brand = self.client.post("/api/brands/", {"name": "Fuzz"}, format="json").data
        rule = self.client.post(
            "/api/alerts/", {"name": "r", "brand": self.brand["id"], "condition": "appears"}, format="json"
        )
        assert rule.status_code == 201, rule.data  # else the alert endpoints would answer 404 to everything
        self.rule_id = rule.data["id"]

    def endpoints(self):
        """(method, url, serializer whose field names to use, or None)"""
        s, b, r = self.stream.id, self.brand["id"], self.rule_id
        return [
            ("post", "/api/streams/", StreamIn),
            ("patch", f"/api/streams/{s}/", StreamIn),
            ("post", f"/api/streams/{s}/rotate-key/", None),
            ("post", f"/api/streams/{s}/analysis/", None),
            ("put", f"/api/streams/{s}/mode/", ModeIn),
            ("post", f"/api/streams/{s}/appearances/1/reject/", None),
            ("post", f"/api/streams/{s}/logo-missed/", MissedIn),
            ("post", "/api/alerts/", AlertRuleIn),
            ("patch", f"/api/alerts/{r}/", AlertRuleIn),
            ("post", "/api/brands/", BrandIn),
            ("patch", f"/api/brands/{b}/", BrandIn),
            ("post", "/api/auth/login/", CredentialsIn),
            ("post", "/api/auth/token/", CredentialsIn),
            ("post", "/api/auth/logout/", None),
        ]


ENDPOINT_NAMES = [
    "streams-create", "stream-patch", "stream-rotate-key", "stream-analysis", "stream-mode", "appearance-reject",
    "logo-missed", "alert-create", "alert-patch", "brand-create", "brand-patch", "login", "token", "logout",
]  # fmt: skip


def field_names(serializer) -> list[str]:
    return list(serializer().fields) if serializer else ["name"]


def bodies(serializer):
    """Any JSON value; objects of the endpoint's real field names with wrong-typed values; raw bytes."""
    names = field_names(serializer)
    nested = {"box": st.dictionaries(st.sampled_from(["x", "y", "w", "h"]), wrong_typed, max_size=4)}
    fields = st.dictionaries(
        st.sampled_from(names), st.one_of(wrong_typed, *(nested.get(name, wrong_typed) for name in names)), max_size=8
    )
    return st.one_of(
        json_values.map(lambda value: ("json", value)),
        fields.map(lambda value: ("json", value)),
        st.binary(max_size=300).map(lambda raw: ("raw", raw)),
    )


def send(client, method: str, url: str, body) -> None:
    kind, value = body
    if kind == "json":
        response = getattr(client, method)(url, value, format="json")
    else:
        response = getattr(client, method)(url, value, content_type="application/json")
    assert_no_500(response)


# Whichever endpoint index a test or the bench picks: the properties below take the fixture.
def check_endpoint(fixture: Fixture, index: int, body) -> None:
    method, url, _ = fixture.endpoints()[index]
    send(fixture.client, method, url, body)


_SERIALIZERS = [StreamIn, StreamIn, None, None, ModeIn, None, MissedIn, AlertRuleIn, AlertRuleIn, BrandIn, BrandIn,
                CredentialsIn, CredentialsIn, None]  # fmt: skip


@pytest.mark.parametrize("index", range(len(ENDPOINT_NAMES)), ids=ENDPOINT_NAMES)
def test_json_bodies_never_500(user, index):
    fixture = Fixture(user)

    @FUZZ_API
    @given(bodies(_SERIALIZERS[index]))
    @example(("raw", b"[" * 5000))
    @example(("json", {"name": "x" * 10_000, "enabled_analyzers": [None], "aliases": [{}], "brand": 2**64}))
    @example(("json", {"brand": 1, "pts": 1e308, "box": {"x": 0.9, "y": 0.9, "w": 0.9, "h": 0.9}}))
    @example(("raw", b'{"sampling_fps": NaN, "seconds": Infinity}'))
    def run(body):
        check_endpoint(fixture, index, body)

    run()


# --- uploaded files
def tiny_png(size=(32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def tiny_mp4() -> bytes:
    """Six 64x48 H.264 frames in MP4, by PyAV (about 2 KB)."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=6)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for index in range(6):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index * 40, np.uint8), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
    return buffer.getvalue()


PNG = tiny_png()
image_files = st.one_of(st.binary(max_size=2048), mutated(PNG, focus_from=8), st.just(PNG))
video_files = st.one_of(st.binary(max_size=2048), st.deferred(lambda: mutated(tiny_mp4())))


def check_image_upload(fixture: Fixture, content: bytes, name: str = "logo.png") -> None:
    response = fixture.client.post(
        f"/api/brands/{fixture.brand['id']}/images/", {"image": SimpleUploadedFile(name, content)}, format="multipart"
    )
    assert_no_500(response)


def check_video_upload(fixture: Fixture, content: bytes, name: str = "clip.mp4") -> None:
    response = fixture.client.post("/api/uploads/", {"file": SimpleUploadedFile(name, content)}, format="multipart")
    assert_no_500(response)


@pytest.fixture
def media(settings, tmp_path):
    from ai_processing.dispatch import pool_drain

    settings.CONFIG = settings.CONFIG.model_copy(update={"data_dir": tmp_path, "analyzers": []})
    settings.MEDIA_ROOT = settings.CONFIG.media_root
    yield
    pool_drain()  # accepted uploads remux in the background (embedded mode): done before the database goes


def test_brand_image_uploads_never_500(user, media):
    fixture = Fixture(user)

    @FUZZ_UPLOADS
    @given(image_files, st.sampled_from(["logo.png", "logo.jpg", "x", "../../etc/passwd", "a" * 300 + ".png"]))
    def run(content, name):
        check_image_upload(fixture, content, name)

    run()


def test_video_uploads_never_500(user, media):
    fixture = Fixture(user)

    @FUZZ_UPLOADS
    @given(video_files, st.sampled_from(["clip.mp4", "clip.mkv", "clip", "../x.mov"]))
    @example(b"", "clip.mp4")
    def run(content, name):
        check_video_upload(fixture, content, name)

    run()
