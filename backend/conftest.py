"""Shared fixtures, built with the real service functions."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

REQUIRE_SERVICES = os.environ.get("MEDIA_ANALYZER_REQUIRE_SERVICES") == "1"
SERVICES_TESTS_RUN = []


def pytest_collection_modifyitems(config, items):
    """Services tests need DATABASE_URL and REDIS_URL. Without them they skip, unless the
    run requires services (`scripts/test --services`), where a skip would hide a gap."""
    have_services = settings.CONFIG.services_mode and settings.CONFIG.database_url
    if REQUIRE_SERVICES and not have_services:
        raise pytest.UsageError("the services suite needs DATABASE_URL and REDIS_URL")
    for item in items:
        if "services" not in item.keywords:
            continue
        if have_services:
            SERVICES_TESTS_RUN.append(item.nodeid)
        else:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL and REDIS_URL (scripts/test --services)"))


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_SERVICES and not SERVICES_TESTS_RUN and exitstatus == 0:
        print("\nservices suite required but no services test ran")
        session.exitstatus = 1


@pytest.fixture
def make_user(django_user_model):
    def make(username="alice", **extra):
        return django_user_model.objects.create_user(username=username, password="correct horse battery", **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def stream_with_key(user):
    from streaming.services import stream_create

    return stream_create(owner=user, name="Main camera")


@pytest.fixture
def stream(stream_with_key):
    return stream_with_key[0]


@pytest.fixture
def analysis_workers(settings):
    """Where analysis jobs run: the in-process pool (embedded), or a real Celery worker
    consuming the realtime, batch and visual queues from Redis (services mode)."""
    from ai_processing.dispatch import pool_drain

    if not settings.CELERY_BROKER_URL:
        yield None
        pool_drain()
        return
    from celery.contrib.testing.worker import start_worker

    from media_analyzer.celery import app

    app.control.purge()  # nothing an earlier test queued runs against this test's database
    queues = ["realtime", "batch", "visual"]
    with start_worker(app, pool="threads", concurrency=2, queues=queues, perform_ping_check=False,
                      shutdown_timeout=30) as worker:  # fmt: skip
        yield worker
        _until_analysis_settles()
    app.control.purge()


def _until_analysis_settles(timeout_s: float = 60.0) -> None:
    """Jobs still running when a test ends would hold rows the database flush needs."""
    from media_analyzer.tests.waits import until
    from streaming.models import MediaSegment

    busy = MediaSegment.objects.filter(state__in=[MediaSegment.State.PENDING, MediaSegment.State.ANALYZING])
    until(lambda: not busy.exists(), timeout_s, interval_s=0.2)
