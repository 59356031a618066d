"""Webhook deliveries: a failing receiver is retried and every attempt recorded."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

import pytest

from ai_processing.services import brand_create
from exposure.models import AlertFiring, WebhookDelivery
from exposure.services import alert_rule_create
from exposure.webhooks import MAX_ATTEMPTS, delivery_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.MEDIA_ANALYZER = {**settings.MEDIA_ANALYZER, "WEBHOOK_PRIVATE_HOSTS": True}


@pytest.fixture
def flaky_receiver():
    statuses = [500, 503, 204]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(statuses.pop(0) if statuses else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def delivery_to(url, stream, user):
    brand = brand_create(owner=user, name="Acme")
    rule = alert_rule_create(owner=user, name="r", brand=brand, condition="appears", webhook_url=url)
    firing = AlertFiring.objects.create(rule=rule, stream=stream, payload={"brand": "Acme"})
    return WebhookDelivery.objects.create(firing=firing, url=url)


def test_a_failing_receiver_is_retried_until_it_accepts(flaky_receiver, stream, user):
    delivery = delivery_to(flaky_receiver, stream, user)

    states = [delivery_attempt(delivery.pk) for _ in range(3)]

    delivery.refresh_from_db()
    assert states == ["pending", "pending", "delivered"]
    assert (delivery.attempts, delivery.last_status) == (3, 204)


def test_an_unreachable_receiver_fails_after_the_last_attempt(stream, user):
    delivery = delivery_to("http://127.0.0.1:9/", stream, user)  # discard port: refused

    states = [delivery_attempt(delivery.pk) for _ in range(MAX_ATTEMPTS + 1)]

    delivery.refresh_from_db()
    assert states[-2:] == ["failed", "failed"] and delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_error


def test_by_default_a_webhook_to_a_private_address_is_refused_not_sent(flaky_receiver, stream, user, settings):
    settings.MEDIA_ANALYZER = {**settings.MEDIA_ANALYZER, "WEBHOOK_PRIVATE_HOSTS": False}
    delivery = delivery_to(flaky_receiver, stream, user)

    assert delivery_attempt(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert "private address" in delivery.last_error and delivery.last_status is None


def test_only_http_and_https_are_delivered(stream, user):
    delivery = delivery_to("ftp://127.0.0.1/x", stream, user)

    assert delivery_attempt(delivery.pk) == "failed"
