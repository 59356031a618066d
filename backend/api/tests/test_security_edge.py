"""Edge cases an attacker reaches without signing in: sign-in limits that a header cannot
dodge, the admin's sign-in, hostile JSON bodies, cross-site sign-in and unknown sockets."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from media_analyzer.asgi import application

LIMIT = 10  # DEFAULT_THROTTLE_RATES: 10 sign-in attempts a minute
WRONG = "not the password"


@pytest.fixture(autouse=True)
def fresh_counts(settings, request):
    """Throttle counts live in the cache; each test counts in a cache of its own, so none
    inherits another's attempts. (Not cache.clear(): in services mode the cache is the
    Redis database of the broker and the channel layer, which clear() would flush.)"""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"security-edge-{request.node.nodeid}",
        }
    }


def sign_in(client, username="alice", password=WRONG, **extra):
    return client.post("/api/auth/login/", {"username": username, "password": password}, format="json", **extra)


@pytest.mark.django_db
def test_forwarded_for_does_not_escape_the_login_limit(user):
    client = APIClient()
    # A new X-Forwarded-For and a new username each time: only the client address is left to count.
    statuses = [
        sign_in(client, f"guess{i}", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(LIMIT + 1)
    ]

    assert 429 not in statuses[:LIMIT]
    assert statuses[LIMIT] == 429


@pytest.mark.django_db
def test_one_username_is_limited_from_every_address(user):
    client = APIClient()
    statuses = [sign_in(client, REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(LIMIT)]
    # Spelled differently, it is still the same account being guessed.
    throttled = sign_in(client, " ALICE ", REMOTE_ADDR="198.51.100.200")

    assert 429 not in statuses
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"


@pytest.mark.django_db
def test_admin_sign_in_is_limited(user, client):
    statuses = [
        client.post("/admin/login/", {"username": f"guess{i}", "password": WRONG}).status_code for i in range(LIMIT)
    ]
    refused = client.post("/admin/login/", {"username": "alice", "password": "correct horse battery"})

    assert 429 not in statuses
    assert refused.status_code == 429 and "Retry-After" in refused.headers


@pytest.mark.django_db
def test_admin_and_api_sign_in_share_one_count_per_username(user, client):
    for i in range(LIMIT):
        sign_in(APIClient(), REMOTE_ADDR=f"198.51.100.{i}")

    assert client.post("/admin/login/", {"username": "alice", "password": WRONG}).status_code == 429
    assert client.get("/admin/login/").status_code == 200  # the form itself is not limited


@pytest.mark.django_db
def test_deeply_nested_json_is_400_in_the_envelope():
    body = "[" * 5000 + "]" * 5000

    response = APIClient().post("/api/auth/login/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "64" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_nesting_within_the_limit_and_brackets_in_strings_still_parse(user):
    nested = {
        "username": "alice",
        "password": "correct horse battery",
        "x": json.loads("[" * 63 + "]" * 63),
        "y": "[[[[[[[[[[" * 20,
    }

    response = APIClient().post("/api/auth/login/", json.dumps(nested), content_type="application/json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_oversize_body_is_413_in_the_envelope(settings):
    body = json.dumps({"username": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024), "password": "x"})

    response = APIClient().post("/api/auth/login/", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == {
        "status": 413,
        "code": "too_large",
        "message": response.json()["error"]["message"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("format", ["multipart", None])
def test_a_cross_site_form_cannot_sign_anyone_in(user, format):
    client = APIClient()
    credentials = {"username": "alice", "password": "correct horse battery"}
    if format is None:  # application/x-www-form-urlencoded, what a plain <form> sends
        response = client.post(
            "/api/auth/login/",
            "username=alice&password=correct+horse+battery",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = client.post("/api/auth/login/", credentials, format=format)

    assert response.status_code == 415
    assert response.json()["error"]["status"] == 415
    assert client.get("/api/auth/me/").json() == {"user": None}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ws/nothing/", "/ws/streams/not-a-uuid/"])
async def test_unknown_socket_path_closes_cleanly(path):
    socket = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://127.0.0.1:8000")])

    connected, _ = await socket.connect(timeout=5)
    closed = await socket.receive_output(timeout=5)

    assert connected
    assert closed["type"] == "websocket.close" and closed["code"] == 4404
