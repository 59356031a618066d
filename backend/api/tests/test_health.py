import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_every_component_and_analyzer(api):
    body = api.get("/api/health").json()

    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "channel_layer", "broker", "storage", "ffmpeg"}
    assert all(component["status"] == "ok" for component in body["components"].values())
    assert body["components"]["ffmpeg"]["message"].startswith("ffmpeg version")
    analyzers = {item["name"]: item for item in body["analyzers"]}
    # No weights ship with the repository: the YOLO analyzer names the command that gets them.
    assert analyzers["objects"]["state"] == "disabled"
    assert "`scripts/run --models`" in analyzers["objects"]["message"]
    assert analyzers["visual"]["state"] == "ready"


def test_anonymous_health_hides_details(client):
    body = client.get("/api/health").json()

    assert body["status"] == "ok"
    assert body["components"]["database"] == {"status": "ok"}
    assert all(set(item) == {"name", "state"} for item in body["analyzers"])


def test_a_broken_critical_component_makes_it_503(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        response = client.get("/api/health")
    finally:
        channel_layers.backends.clear()

    assert response.status_code == 503
    assert response.json()["components"]["channel_layer"]["status"] == "error"
