"""Security findings: a Content-Security-Policy, API tokens that expire and die on logout,
and per-user quotas on what an account can create."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.tests.test_brands_api import png_upload
from media_analyzer.asgi import application

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


# --- 1. Content-Security-Policy


@pytest.fixture
def built_index(settings, tmp_path):
    (tmp_path / "index.html").write_text('<!doctype html><app-root></app-root><script src="main.js"></script>')
    settings.FRONTEND_DIST = tmp_path
    return tmp_path


def test_the_dashboard_sends_a_csp_that_allows_no_inline_script(client, built_index):
    response = client.get("/streams/7")

    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["media-src"] == ["'self'", "blob:"]  # hls.js plays through MediaSource blobs
    assert "blob:" in policy["worker-src"]
    assert {"'self'", "ws://testserver", "wss://testserver"} <= set(policy["connect-src"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_the_dashboard_build_has_no_inline_script_the_policy_would_block():
    """script-src 'self' blocks inline scripts and on*="" handlers: Angular's critical-CSS
    inlining adds one (onload="this.media='all'"), so angular.json turns it off."""
    import re

    from django.conf import settings

    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        pytest.skip("the dashboard is not built (scripts/test builds it)")
    html = index.read_text()
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "an inline event handler in index.html"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html, re.IGNORECASE), "an inline script in index.html"


def test_api_responses_may_load_nothing_and_be_framed_by_nobody(client, user):
    client.force_login(user)

    assert client.get("/api/streams/")["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert client.get("/api/auth/me/")["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_the_api_docs_page_keeps_working_without_the_api_policy(client, user):
    client.force_login(user)

    assert "default-src 'none'" not in client.get("/api/docs/").get("Content-Security-Policy", "")


# --- 2. API tokens


def _token_client(user) -> tuple[APIClient, str]:
    client = APIClient()
    key = client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD}).data["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def test_logout_with_a_token_revokes_it(user):
    client, key = _token_client(user)

    assert client.post("/api/auth/logout/").status_code == 204
    assert not Token.objects.filter(key=key).exists()
    assert client.get("/api/streams/").status_code == 401
    assert _token_client(user)[1] != key  # signing in again issues a fresh token


def test_session_logout_still_signs_out_and_leaves_api_tokens_alone(user):
    _, key = _token_client(user)
    client = APIClient()
    client.force_login(user)

    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/auth/me/").data == {"user": None}
    assert Token.objects.filter(key=key).exists()


def test_an_expired_token_is_401_and_deleted(user, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    client, key = _token_client(user)
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=2))

    response = client.get("/api/streams/")

    assert response.status_code == 401
    assert response.data["error"]["message"] == "token expired: sign in again"
    assert not Token.objects.filter(key=key).exists()


def test_signing_in_replaces_an_expired_token(user, settings):
    settings.API_TOKEN_TTL_HOURS = 1
    _, key = _token_client(user)
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=2))

    client, fresh = _token_client(user)

    assert fresh != key and client.get("/api/streams/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_expired_token_does_not_open_the_live_socket(user, settings):
    from streaming.services import stream_create

    settings.API_TOKEN_TTL_HOURS = 1
    stream, _ = await sync_to_async(stream_create)(owner=user, name="cam")
    token = await sync_to_async(Token.objects.create)(user=user)
    old = timezone.now() - timedelta(hours=2)
    await sync_to_async(Token.objects.filter(key=token.key).update)(created=old)

    socket = WebsocketCommunicator(application, f"/ws/streams/{stream.id}/?token={token.key}", headers=[])
    assert (await socket.connect())[0]
    assert (await socket.receive_output(timeout=5))["code"] == 4401
    assert not await sync_to_async(Token.objects.filter(key=token.key).exists)()


# --- 3. Per-user quotas


@pytest.fixture
def quotas(settings):
    settings.CONFIG = settings.CONFIG.model_copy(
        update={"quota_streams": 2, "quota_brands": 2, "quota_brand_images": 1, "quota_alert_rules": 1}
    )


def _assert_quota_refused(response, what: str):
    assert response.status_code == 403
    assert response.data["error"]["code"] == "quota_exceeded"
    assert what in response.data["error"]["message"]


def test_streams_over_the_quota_are_refused(api, quotas):
    for name in ("a", "b"):
        assert api.post("/api/streams/", {"name": name}, format="json").status_code == 201

    _assert_quota_refused(api.post("/api/streams/", {"name": "c"}, format="json"), "2 streams")


def test_brands_and_their_images_over_the_quota_are_refused(api, quotas):
    brand = api.post("/api/brands/", {"name": "Acme"}, format="json").data
    api.post("/api/brands/", {"name": "Globex"}, format="json")
    _assert_quota_refused(api.post("/api/brands/", {"name": "Initech"}, format="json"), "2 brands")

    images = f"/api/brands/{brand['id']}/images/"
    assert api.post(images, {"image": png_upload()}, format="multipart").status_code == 201
    _assert_quota_refused(api.post(images, {"image": png_upload()}, format="multipart"), "1 reference image")


def test_alert_rules_over_the_quota_are_refused(api, quotas, user):
    from ai_processing.services import brand_create
    from exposure.services import alert_rule_create

    brand = brand_create(owner=user, name="Acme")
    alert_rule_create(owner=user, name="one", brand=brand, condition="appears")

    _assert_quota_refused(
        api.post("/api/alerts/", {"name": "two", "brand": brand.id, "condition": "appears"}, format="json"),
        "1 alert rule",
    )


def test_staff_are_exempt_from_quotas(make_user, quotas):
    from streaming.services import stream_create

    admin = make_user("root", is_staff=True)
    for name in ("a", "b", "c"):
        stream_create(owner=admin, name=name)
