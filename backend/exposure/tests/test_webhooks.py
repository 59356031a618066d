"""Webhook deliveries: a failing receiver is retried and every attempt recorded."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ai_processing.services import brand_create
from exposure.models import AlertFiring, WebhookDelivery
from exposure.services import alert_rule_create
from exposure.webhooks import MAX_ATTEMPTS, delivery_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.CONFIG = settings.CONFIG.model_copy(update={"webhook_private_hosts": True})


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
    settings.CONFIG = settings.CONFIG.model_copy(update={"webhook_private_hosts": False})
    delivery = delivery_to(flaky_receiver, stream, user)

    assert delivery_attempt(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert "private address" in delivery.last_error and delivery.last_status is None


def test_only_http_and_https_are_delivered(stream, user):
    delivery = delivery_to("ftp://127.0.0.1/x", stream, user)

    assert delivery_attempt(delivery.pk) == "failed"


@pytest.fixture
def recording_receiver():
    """Answers each POST with the next (status, headers) and records the Host it was sent to."""
    script, hosts = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            hosts.append(self.headers["Host"])
            status, headers = script.pop(0) if script else (204, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, script, hosts
    server.shutdown()
    server.server_close()


def test_a_redirect_is_recorded_not_followed(recording_receiver, stream, user):
    port, script, hosts = recording_receiver
    script.append((302, {"Location": f"http://127.0.0.1:{port}/internal"}))
    delivery = delivery_to(f"http://127.0.0.1:{port}/hook", stream, user)

    assert delivery_attempt(delivery.pk) == "pending"

    delivery.refresh_from_db()
    assert (delivery.last_status, delivery.last_error, len(hosts)) == (302, "HTTP 302", 1)


def test_the_connection_goes_to_the_address_that_was_checked(recording_receiver, stream, user, monkeypatch, settings):
    """DNS rebinding: the name resolves to an allowed address for the check, then to an
    internal one (the receiver here). The internal one must never be reached."""
    import socket

    from exposure import webhooks

    settings.CONFIG = settings.CONFIG.model_copy(update={"webhook_private_hosts": False})
    monkeypatch.setattr(webhooks, "_is_public", lambda ip: str(ip) == "127.0.0.3")  # stands for a public address
    port, _, hosts = recording_receiver
    delivery = delivery_to(f"http://hooks.example:{port}/hook", stream, user)
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.3", port))]])
    internal = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *args, **kwargs: (
            next(answers, internal) if host == "hooks.example" else real(host, *args, **kwargs)
        ),
    )

    assert delivery_attempt(delivery.pk) == "pending"  # 127.0.0.3 refuses: retried later

    assert hosts == []


def test_https_to_the_pinned_address_still_verifies_the_host_name(stream, user, monkeypatch):
    """The certificate is checked against the URL's name, not the address connected to."""
    import socket
    import ssl

    import trustme

    from exposure import webhooks

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("hooks.example").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    monkeypatch.setattr(webhooks, "_tls_context", lambda: client_context)
    answered = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            answered.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *args, **kwargs: real("127.0.0.1" if host.endswith(".example") else host, *args, **kwargs),
    )
    try:
        right = delivery_to(f"https://hooks.example:{server.server_port}/hook", stream, user)
        assert delivery_attempt(right.pk) == "delivered"
        firing = AlertFiring.objects.create(rule=right.firing.rule, stream=stream, payload={"brand": "Acme"})
        wrong = WebhookDelivery.objects.create(firing=firing, url=f"https://other.example:{server.server_port}/")
        assert delivery_attempt(wrong.pk) == "pending"
        wrong.refresh_from_db()
        assert "certificate" in wrong.last_error.lower() and answered == [f"hooks.example:{server.server_port}"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "address, public",
    [
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::808:808", True),  # NAT64 of a public address
        ("64:ff9b:1::808:808", False),  # local-use NAT64: the translator is someone's own
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254 (cloud metadata)
        ("2002:808:808::1", True),  # 6to4 of a public address
        ("::ffff:10.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("::a00:1", False),  # IPv4-compatible (deprecated)
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo
        ("2606:4700:4700::1111", True),
    ],
)
def test_ipv6_addresses_that_embed_an_ipv4_are_judged_by_it(address, public):
    import ipaddress

    from exposure import webhooks

    assert webhooks._is_public(ipaddress.ip_address(address)) is public


def test_a_name_resolving_to_nat64_of_a_private_address_is_refused(stream, user, monkeypatch, settings):
    import socket

    settings.CONFIG = settings.CONFIG.model_copy(update={"webhook_private_hosts": False})
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *args, **kwargs: [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::a9fe:a9fe", port, 0, 0))
        ],
    )
    delivery = delivery_to("https://hooks.example/hook", stream, user)

    assert delivery_attempt(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert "private address" in delivery.last_error and delivery.attempts == 1


def test_a_url_with_an_invalid_port_fails_at_once_without_crashing(stream, user):
    delivery = delivery_to("http://127.0.0.1:99999/hook", stream, user)

    assert delivery_attempt(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert "port" in delivery.last_error and delivery.attempts == 1 and delivery.last_status is None


def _receiver(handle) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            handle()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.mark.django_db(transaction=True)  # the pool's threads read the deliveries
def test_a_slow_endpoint_never_delays_another_endpoints_alerts(stream, user, settings):
    """Embedded mode: one queue per endpoint. Three deliveries to a receiver that takes 3 s
    each are queued first; another endpoint's delivery still goes at once (before: both of
    the pool's two threads were held by the slow receiver for 3 s)."""
    from exposure.webhooks import deliveries_drain, delivery_dispatch

    settings.CELERY_BROKER_URL = None  # the in-process queues, in the services suite too
    release, fast_received = threading.Event(), threading.Event()
    slow, slow_url = _receiver(lambda: release.wait(3))
    fast, fast_url = _receiver(fast_received.set)
    try:
        slow_rule, fast_rule = (
            alert_rule_create(
                owner=user, name=url, brand=brand_create(owner=user, name=url), condition="appears", webhook_url=url
            )
            for url in (slow_url, fast_url)
        )
        for rule in (slow_rule, slow_rule, slow_rule, fast_rule):
            firing = AlertFiring.objects.create(rule=rule, stream=stream, payload={})
            delivery_dispatch(WebhookDelivery.objects.create(firing=firing, url=rule.webhook_url).pk)

        assert fast_received.wait(2.0), "the fast endpoint waited behind the slow one"
        release.set()
        deliveries_drain()
    finally:
        release.set()
        for server in (slow, fast):
            server.shutdown()
            server.server_close()
    states = set(WebhookDelivery.objects.values_list("state", flat=True))
    assert states == {"delivered"}, states


@pytest.mark.django_db(transaction=True)  # the pool's threads read the deliveries
def test_publishing_firings_lists_their_deliveries_in_one_query(stream, user, settings, django_assert_num_queries):
    """Embedded mode: each delivery's endpoint (its queue) comes from the one query that
    lists the firings' deliveries, not from one more query per delivery."""
    from exposure.services import _publish
    from exposure.webhooks import deliveries_drain

    settings.CELERY_BROKER_URL = None  # the in-process queues, in the services suite too
    received = []
    server, url = _receiver(lambda: received.append(1))
    try:
        rule = alert_rule_create(
            owner=user, name="r", brand=brand_create(owner=user, name="Acme"), condition="appears", webhook_url=url
        )
        firings = [AlertFiring.objects.create(rule=rule, stream=stream, payload={"n": n}) for n in range(5)]
        for firing in firings:
            WebhookDelivery.objects.create(firing=firing, url=url)

        with django_assert_num_queries(1):
            _publish(stream.pk, {"type": "exposure.update"}, firings)
        deliveries_drain()
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 5
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


# The sweep: a delivery whose job was lost (its process died with the in-process queue, or the
# broker lost its task) is dispatched again from the database.


def _stalled(delivery, attempts=0, age_s=3600.0):
    """The row as a lost job left it: pending, `attempts` made, nothing touched it for `age_s`."""
    from datetime import timedelta

    from django.utils import timezone

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts, updated_at=timezone.now() - timedelta(seconds=age_s)
    )


@pytest.fixture
def embedded(settings):
    from exposure.webhooks import deliveries_drain

    settings.CELERY_BROKER_URL = None  # the in-process queues, in the services suite too
    yield
    deliveries_drain()


@pytest.mark.django_db(transaction=True)  # the pool's threads read the deliveries
def test_a_delivery_whose_job_was_lost_is_sent_after_one_sweep_pass(embedded, stream, user):
    from exposure.webhooks import deliveries_drain, deliveries_sweep

    received = []
    server, url = _receiver(lambda: received.append(1))
    try:
        delivery = delivery_to(url, stream, user)
        _stalled(delivery, attempts=2)  # its process died waiting to retry

        assert deliveries_sweep() == 1
        deliveries_drain()
    finally:
        server.shutdown()
        server.server_close()
    delivery.refresh_from_db()
    assert len(received) == 1
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 204)


@pytest.mark.django_db(transaction=True)
def test_a_recent_pending_delivery_and_one_out_of_attempts_are_not_sent(embedded, stream, user, settings):
    from exposure.webhooks import deliveries_drain, deliveries_sweep

    settings.CONFIG = settings.CONFIG.model_copy(update={"webhook_delivery_stall_s": 300.0})
    received = []
    server, url = _receiver(lambda: received.append(1))
    try:
        recent = delivery_to(url, stream, user)
        _stalled(recent, attempts=1, age_s=200)  # within the bound: its job may still be on it
        spent = WebhookDelivery.objects.create(
            firing=AlertFiring.objects.create(rule=recent.firing.rule, stream=stream, payload={}), url=url
        )
        _stalled(spent, attempts=MAX_ATTEMPTS)  # its process died after its last attempt

        assert deliveries_sweep() == 0
        deliveries_drain()
    finally:
        server.shutdown()
        server.server_close()
    assert received == []
    recent.refresh_from_db()
    spent.refresh_from_db()
    assert (recent.state, recent.attempts) == ("pending", 1)
    assert (spent.state, spent.attempts) == ("failed", MAX_ATTEMPTS) and "gave up" in spent.last_error


@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_a_delivery_its_process_still_queues(embedded, stream, user, monkeypatch):
    """Embedded mode: an old pending row still waiting in this process's queue (behind a slow
    endpoint) is no lost one: no second copy."""
    from exposure import webhooks

    delivery = delivery_to("http://127.0.0.1:9/", stream, user)
    _stalled(delivery, attempts=1)
    monkeypatch.setattr(webhooks._QUEUES, "holds", lambda pk: pk == delivery.pk)

    assert webhooks.deliveries_sweep() == 0

    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_two_sweep_passes_dispatch_a_lost_delivery_once_keeping_its_backoff(stream, user, settings, monkeypatch):
    """Services mode (the task's publish recorded): the pass that takes the row restarts its
    bound, so the next pass (or another sweep) does not send a second copy. The task goes
    out with the attempts already made, so its retries keep the backoff schedule."""
    from exposure import tasks
    from exposure.webhooks import deliveries_sweep

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    published = []
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda **kw: published.append(kw))
    delivery = delivery_to("http://127.0.0.1:9/", stream, user)
    _stalled(delivery, attempts=3)

    assert [deliveries_sweep(), deliveries_sweep()] == [1, 0]
    assert published == [{"args": [delivery.pk], "queue": "realtime", "retries": 3}]


def test_of_two_jobs_that_read_a_delivery_at_once_only_one_takes_the_attempt(stream, user):
    """A late job and the sweep's copy of it: the attempt is counted before the POST on the
    condition that the row is as it was read, so the second job stops instead of sending."""
    from exposure.webhooks import _attempt_take

    delivery = delivery_to("http://127.0.0.1:9/", stream, user)
    first, second = (WebhookDelivery.objects.get(pk=delivery.pk) for _ in range(2))

    assert [_attempt_take(first), _attempt_take(second)] == [True, False]

    delivery.refresh_from_db()
    assert delivery.attempts == first.attempts == 1 and second.attempts == 0


def test_a_late_task_whose_delivery_was_sent_again_meanwhile_stops(stream, user):
    """Services mode, one after the other: the sweep sent the delivery again (one attempt
    made), then the late task runs, knowing of none (its retries): it must not send a second."""
    from exposure.webhooks import TAKEN, _attempt_take, delivery_attempt

    delivery = delivery_to("http://127.0.0.1:9/", stream, user)
    assert _attempt_take(WebhookDelivery.objects.get(pk=delivery.pk))  # the sweep's copy's attempt

    assert delivery_attempt(delivery.pk, expected_attempts=0) == TAKEN
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.state == WebhookDelivery.State.PENDING


def test_the_queues_hold_a_delivery_until_its_last_attempt():
    """Embedded mode: the sweep leaves alone what this process's queues still hold, queued
    behind a slow endpoint, in flight or waiting on a retry timer."""
    from exposure.webhook_queues import EndpointQueues

    started, release, second_done, seen = threading.Event(), threading.Event(), threading.Event(), []

    def attempt(delivery_id):
        seen.append(delivery_id)
        if seen == [1]:
            started.set()
            release.wait(5)
            return "pending"  # retried after the backoff
        if delivery_id == 2:
            second_done.set()
        return "delivered"

    queues = EndpointQueues(attempt, lambda: (1.0,), threads=1)
    queues.submit("http://a:80", 1)
    queues.submit("http://a:80", 2)
    assert started.wait(5)
    assert queues.holds(1) and queues.holds(2) and not queues.holds(3)  # in flight; queued behind it

    release.set()
    assert second_done.wait(5)
    assert queues.holds(1)  # on its retry timer
    queues.drain()
    assert seen == [1, 2, 1] and not queues.holds(1) and not queues.holds(2)


def test_a_delivery_the_shut_down_pool_refuses_is_not_held():
    """At exit the pool refuses work: the delivery must not stay held (the sweep would leave
    it alone) nor its endpoint busy (nothing after it would be sent)."""
    from exposure.webhook_queues import EndpointQueues

    sent = []
    queues = EndpointQueues(lambda delivery_id: sent.append(delivery_id) or "delivered", lambda: (), threads=1)
    pool = queues._pool
    refused = pool.submit(lambda: None)
    refused.result()
    pool._executor.shutdown()  # what interpreter exit does to it

    with pytest.raises(RuntimeError):
        queues.submit("http://a:80", 1)

    assert not queues.holds(1) and queues.held_count() == 0
    pool._executor = None  # a fresh pool, as after drain()
    queues.submit("http://a:80", 2)
    queues.drain()
    assert sent == [2]


@pytest.mark.services
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)  # the worker's threads read the delivery
def test_services_a_delivery_whose_task_was_lost_is_sent_by_a_worker_after_one_sweep_pass(stream, user):
    """Services mode: the task was lost with the broker (no task in Redis now); one sweep pass
    publishes it again and a real worker consuming `realtime` sends it."""
    from celery.contrib.testing.worker import start_worker

    from exposure.webhooks import deliveries_sweep
    from media_analyzer.celery import app
    from media_analyzer.tests.waits import until

    received = []
    server, url = _receiver(lambda: received.append(1))
    app.control.purge()
    try:
        delivery = delivery_to(url, stream, user)
        _stalled(delivery, attempts=1)
        with start_worker(app, pool="threads", concurrency=1, queues=["realtime"], perform_ping_check=False):
            assert deliveries_sweep() == 1
            assert until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered", 30)
    finally:
        app.control.purge()
        server.shutdown()
        server.server_close()
    delivery.refresh_from_db()
    assert len(received) == 1 and delivery.attempts == 2
