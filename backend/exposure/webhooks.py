"""Alert webhooks: HMAC-SHA256 signed POSTs, retried with backoff, every attempt recorded.

The receiver checks `X-Media-Analyzer-Signature: sha256=<hex>` over
`<X-Media-Analyzer-Timestamp>.<body>` with the rule's secret, and may refuse old timestamps
(replays).

Each attempt resolves the host once, checks the address, and connects to that address
(TLS still verifies the host name): a name cannot be re-pointed at an internal address
between the check and the connection. Redirects are not followed, for the same reason.

The database, not the queue, says what is left to send: a delivery still `pending` with no
attempt for WEBHOOK_DELIVERY_STALL_S lost its job (embedded mode's queues die with their
process; a broker restarted without persistence loses its tasks, and a dispatch may fail
outright). The sweep (`deliveries_sweep_loop`, beside the ingest) dispatches it again."""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from ai_processing.pipeline import OUTAGES
from exposure.models import WebhookDelivery
from exposure.webhook_queues import EndpointQueues, endpoint_of
from media_analyzer.sweeps import sweep_forever

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
TIMEOUT_S = 5.0
BACKOFF_S = (1, 4, 15, 60)  # before attempts 2, 3, 4, 5
# What delivery_attempt returns when another job counted the attempt first (a late job and
# the sweep's copy of it read the row at once): this one stops, that one goes on.
TAKEN = "taken"
SWEEP_BATCH = 200  # deliveries per pass: a long outage's backlog goes out over a few passes


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def delivery_attempt(delivery_id: int, expected_attempts: int | None = None) -> str:
    """One POST. Returns the delivery's state: `pending` means try again later.

    The attempt is counted, and `updated_at` marks its start, before the POST (_attempt_take):
    one whose process dies mid-attempt has used it up, and the sweep's bound runs from its start.
    `expected_attempts`: those a Celery task knows were made before it (its retries). A late
    task whose delivery the sweep sent again meanwhile finds more, and stops (`taken`)."""
    delivery = WebhookDelivery.objects.select_related("firing__rule").get(pk=delivery_id)
    if delivery.state != WebhookDelivery.State.PENDING:
        return delivery.state
    if expected_attempts is not None and delivery.attempts != expected_attempts:
        return TAKEN
    if not _attempt_take(delivery):
        return TAKEN
    address, refused = _checked_address(delivery.url)
    if refused:  # no retry: the URL or its address will not become acceptable
        delivery.state, delivery.last_status, delivery.last_error = WebhookDelivery.State.FAILED, None, refused
        delivery.save(update_fields=["attempts", "last_status", "last_error", "state", "updated_at"])
        logger.warning("webhook %s refused: %s", delivery.url, refused)
        return delivery.state
    try:
        with _pinned_opener(address).open(_signed_request(delivery), timeout=TIMEOUT_S) as response:
            delivery.last_status, delivery.last_error = response.status, ""
            delivery.state = WebhookDelivery.State.DELIVERED
    except urllib.error.HTTPError as exc:  # a redirect too: it is not followed
        delivery.last_status, delivery.last_error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        delivery.last_status, delivery.last_error = None, str(getattr(exc, "reason", exc))[:500]
    if delivery.state == WebhookDelivery.State.PENDING and delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = WebhookDelivery.State.FAILED
        logger.warning("webhook %s failed after %d attempts: %s", delivery.url, delivery.attempts, delivery.last_error)
    delivery.save(update_fields=["attempts", "last_status", "last_error", "state", "updated_at"])
    return delivery.state


def _attempt_take(delivery: WebhookDelivery) -> bool:
    """Counts the next attempt, on the condition that the row is still as `delivery` was read:
    of two jobs that read it at once (a late job and the sweep's copy), one sends, the other
    stops."""
    taken = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDelivery.State.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1, updated_at=timezone.now())
    if taken:
        delivery.attempts += 1
    return bool(taken)


def _signed_request(delivery: WebhookDelivery) -> urllib.request.Request:
    body = json.dumps(delivery.firing.payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    return urllib.request.Request(
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "media-analyzer-webhooks",
            "X-Media-Analyzer-Timestamp": timestamp,
            "X-Media-Analyzer-Signature": signature(delivery.firing.rule.secret, timestamp, body),
        },
    )


def url_problem(url: str) -> str:
    """Why the URL can never be delivered to, or "". Checked when a rule is saved, and again
    at delivery, for rules saved before the check (a port over 65535 raised there, and the
    delivery stayed pending)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # an unclosed [IPv6 literal
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "only http and https URLs are delivered"
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        port = -1
    if port is not None and not 1 <= port <= 65535:
        return "the port must be a number from 1 to 65535"
    return ""


def _checked_address(url: str) -> tuple[str | None, str]:
    """(the address to connect to, why the URL may not be called or ""). None: the name
    does not resolve now, and the attempt fails and is retried like any network error."""
    problem = url_problem(url)
    if problem:
        return None, problem
    parts = urllib.parse.urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return None, ""
    except UnicodeError:  # a name IDNA cannot encode (a label over 63 characters): it never will
        return None, f"{parts.hostname} is not a valid host name"
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not settings.CONFIG.webhook_private_hosts:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not _is_public(ip):
                return None, f"{parts.hostname} is a private address ({ip}): set WEBHOOK_PRIVATE_HOSTS=true to allow"
    return addresses[0], ""


# IPv6 forms that carry an IPv4 address, which a translator or tunnel on the path may reach:
# `is_global` judges the IPv6 prefix, so 64:ff9b::10.0.0.1 passed. They are judged by the IPv4.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Refused whatever they carry: local-use NAT64 (the translator is someone's own network),
# Teredo (the client's IPv4 is obfuscated; 2001::/32 is not global on every Python anyway),
# IPv4-compatible (deprecated) and IPv4-translated (SIIT) addresses.
_REFUSED_IPV6 = tuple(map(ipaddress.ip_network, ("64:ff9b:1::/48", "2001::/32", "::/96", "::ffff:0:0:0/96")))


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.version == 6:
        if any(ip in network for network in _REFUSED_IPV6):
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_global
    return ip.is_global


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # the last 32 bits (RFC 6052)
    return ip.ipv4_mapped or ip.sixtofour


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx becomes an HTTPError: recorded, and retried like any other


class _Pinned:
    """A connection to `address`, whatever the host name resolves to now; TLS still
    verifies the host name."""

    def __init__(self, *args, address: str | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address

    def connect(self):
        if self.address is None:
            raise OSError(f"{self.host} does not resolve")
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        if isinstance(self, http.client.HTTPSConnection):
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


class _PinnedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    def __init__(self, address: str | None):
        urllib.request.HTTPSHandler.__init__(self, context=_tls_context())
        self.address = address

    def http_open(self, request):
        return self.do_open(functools.partial(_PinnedHTTP, address=self.address), request)

    def https_open(self, request):
        return self.do_open(functools.partial(_PinnedHTTPS, address=self.address), request, context=self._context)


def _pinned_opener(address: str | None) -> urllib.request.OpenerDirector:
    """Connects to `address`; no proxies (they would resolve the name themselves), no redirects."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _PinnedHandler(address), _NoRedirects)


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # the system's trusted authorities, host names checked


def delivery_dispatch(delivery_id: int, url: str | None = None, attempts: int = 0) -> None:
    """Celery in services mode; in embedded mode a small pool, one queue per endpoint.
    `url`: the delivery's, when the caller has it (one query for a list, not one a row).
    `attempts`: those already made (the sweep), so its retries keep the backoff schedule."""
    if settings.CELERY_BROKER_URL:
        from exposure.tasks import deliver_webhook

        deliver_webhook.apply_async(args=[delivery_id], queue="realtime", retries=attempts)
    else:
        if url is None:
            url = WebhookDelivery.objects.filter(pk=delivery_id).values_list("url", flat=True).first() or ""
        _QUEUES.submit(endpoint_of(url), delivery_id, retries=attempts)


# Four threads: a slow endpoint holds one (its deliveries go one at a time), the rest flow.
_QUEUES = EndpointQueues(lambda delivery_id: delivery_attempt(delivery_id), lambda: BACKOFF_S, threads=4)
deliveries_drain = _QUEUES.drain


def deliveries_sweep() -> int:
    """One pass; returns how many deliveries it dispatched again.

    A delivery `pending` with no attempt started for WEBHOOK_DELIVERY_STALL_S (above the
    longest backoff) has no job left. Each is taken with a conditional update on the
    `updated_at` it was read with, which also restarts its bound, so two sweeps never both
    dispatch it. One that already had all its attempts is failed, not sent again. Embedded
    mode: a delivery this process's queues still hold (a slow endpoint's backlog) is no
    lost one, and is left to its queue."""
    now = timezone.now()
    stalled = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING,
        updated_at__lt=now - timedelta(seconds=settings.CONFIG.webhook_delivery_stall_s),
    ).order_by("updated_at")
    embedded = not settings.CELERY_BROKER_URL
    # Read past what the queues hold, so a long backlog never hides the lost ones behind it.
    rows = list(stalled.values_list("pk", "url", "attempts", "updated_at")[: SWEEP_BATCH + _QUEUES.held_count()])
    dispatched = handled = 0
    for pk, url, attempts, updated in rows:
        if embedded and _QUEUES.holds(pk):
            continue
        if handled >= SWEEP_BATCH:
            break
        handled += 1
        taken = WebhookDelivery.objects.filter(pk=pk, state=WebhookDelivery.State.PENDING, updated_at=updated)
        if attempts >= MAX_ATTEMPTS:
            reason = f"gave up: its job was lost after its last attempt ({attempts} of {MAX_ATTEMPTS})"
            if taken.update(state=WebhookDelivery.State.FAILED, last_error=reason, updated_at=now):
                logger.warning("webhook delivery %s failed: %s", pk, reason)
            continue
        if not taken.update(updated_at=now):
            continue  # another sweep, or an attempt, took it meanwhile
        try:
            delivery_dispatch(pk, url, attempts=attempts)
        except Exception as exc:
            # Not sent: given back as it was, for the next pass, not one bound later.
            WebhookDelivery.objects.filter(pk=pk, state=WebhookDelivery.State.PENDING, updated_at=now).update(
                updated_at=updated
            )
            if isinstance(exc, OUTAGES):  # the rest would wait on the same broker
                logger.warning(
                    "webhook delivery %s not dispatched again: the broker is out of reach", pk, exc_info=True
                )
                break
            logger.exception("webhook delivery %s not dispatched again", pk)
            continue
        logger.warning("webhook delivery %s: its job was lost; dispatching it again (attempt %d)", pk, attempts + 1)
        dispatched += 1
    return dispatched


def _deliveries_sweep_once() -> int:
    close_old_connections()  # a connection the database dropped (restart, outage) is opened afresh
    try:
        return deliveries_sweep()
    finally:
        close_old_connections()


async def deliveries_sweep_loop() -> None:
    """Beside the ingest (streaming.hooks.ingest_loops), one per deployment, every
    SEGMENT_SWEEP_INTERVAL_S like the segment sweep."""
    await sweep_forever(_deliveries_sweep_once, "lost webhook deliveries")
