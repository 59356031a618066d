"""Services mode: the same API on real PostgreSQL, Redis channel layer and Redis broker."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def test_health_sees_postgres_redis_layer_and_broker(api):
    body = api.get("/api/health").json()

    components = body["components"]
    assert body["status"] == "ok", components
    assert components["database"]["message"] == "postgresql"
    assert components["channel_layer"]["message"] == "RedisPubSubChannelLayer"
    assert components["broker"]["status"] == "ok"
    assert components["broker"]["message"] != "in-process analysis pool"
