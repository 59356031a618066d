import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_token_sign_in_gives_a_token_that_opens_the_api(user):
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "alice", "password": "correct horse battery"}).data["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/auth/me/").data["user"]["username"] == "alice"
    assert APIClient().get("/api/auth/me/").data == {"user": None}


def test_session_sign_in_for_the_dashboard(user):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/auth/login/", {"username": "alice", "password": "correct horse battery"}, format="json"
    )

    assert response.status_code == 200
    assert client.get("/api/streams/").status_code == 200
    # Unsafe requests on a session need the CSRF token the login set.
    assert client.post("/api/streams/", {"name": "x"}, format="json").status_code == 403
    csrf = client.cookies["csrftoken"].value
    assert client.post("/api/streams/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=csrf).status_code == 201


def test_wrong_password_is_401_with_the_error_envelope(user):
    response = APIClient().post("/api/auth/token/", {"username": "alice", "password": "wrong"})

    assert response.status_code in (401, 403)
    assert response.data["error"]["message"] == "wrong username or password"


def test_openapi_schema_and_docs_are_served(api):
    assert b"/api/streams/" in api.get("/api/schema/").content
    assert api.get("/api/docs/").status_code == 200
