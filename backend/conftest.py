"""Shared fixtures, built with the real service functions."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

REQUIRE_SERVICES = os.environ.get("MEDIA_ANALYZER_REQUIRE_SERVICES") == "1"
SERVICES_TESTS_RUN: list[str] = []
REPO = Path(__file__).resolve().parents[1]


def _browser_missing() -> list[str]:
    requirements = [
        (Path("/usr/bin/chromium").exists(), "Debian chromium"),
        (shutil.which("node") is not None, "Node.js"),
        ((REPO / "frontend" / "node_modules" / "playwright-core").exists(), "npm packages (npm ci in frontend/)"),
    ]
    return [name for present, name in requirements if not present]


def _gstreamer_missing() -> list[str]:
    return [] if shutil.which("gst-launch-1.0") else ["gst-launch-1.0 (Debian gstreamer1.0-tools and plugins)"]


# Suites that need tools from outside PyPI (scripts/lib/system.sh installs them). Without
# them a test fails; it is skipped only when its flag asks (scripts/test --skip-...).
SYSTEM_SUITES = {
    "browser": ("MEDIA_ANALYZER_SKIP_BROWSER", "--skip-browser", _browser_missing),
    "gstreamer": ("MEDIA_ANALYZER_SKIP_GSTREAMER", "--skip-gstreamer", _gstreamer_missing),
}


def _skip_requested(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    """Services tests need DATABASE_URL and REDIS_URL. Without them they skip, unless the
    run requires services (`scripts/test --services`), where a skip would hide a gap."""
    have_services = settings.CONFIG.services_mode and settings.CONFIG.database_url
    if REQUIRE_SERVICES and not have_services:
        raise pytest.UsageError("the services suite needs DATABASE_URL and REDIS_URL")
    for item in items:
        for suite, (variable, flag, _) in SYSTEM_SUITES.items():
            if item.get_closest_marker(suite) and _skip_requested(variable):
                item.add_marker(pytest.mark.skip(reason=f"the {suite} suite, left out as asked ({flag}, {variable})"))
        if "services" not in item.keywords:
            continue
        if have_services:
            SERVICES_TESTS_RUN.append(item.nodeid)
        else:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL and REDIS_URL (scripts/test --services)"))


def pytest_runtest_setup(item):
    """A test of a system suite whose tools are missing fails: a skip would hide the gap."""
    for suite, (variable, flag, missing) in SYSTEM_SUITES.items():
        if item.get_closest_marker(suite) and not _skip_requested(variable) and (absent := missing()):
            pytest.fail(
                f"needs {', '.join(absent)}: scripts/test installs the Debian and npm packages (apt-get as "
                f"root), or leave the {suite} suite out with scripts/test {flag}",
                pytrace=False,
            )


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
    with start_worker(
        app, pool="threads", concurrency=2, queues=queues, perform_ping_check=False, shutdown_timeout=30
    ) as worker:
        yield worker
        _until_analysis_settles()
    app.control.purge()


def _until_analysis_settles(timeout_s: float = 90.0) -> None:
    """Jobs still running when a test ends would write while the database flush truncates
    (a deadlock that failed the flush). The test worker's exit terminates its thread pool
    without waiting for running tasks, and a job goes on after its segment is done (trace,
    exposure, a logo recheck): so no segment is busy and the worker holds no task. Jobs that
    do not settle within the bound fail the test, naming what was left. The bound fits within
    the test's own 120 s timeout: an upload's three segments took up to 62 s to analyse on two
    loaded cores."""
    from celery.worker import state as worker_state

    from media_analyzer.tests.waits import until
    from streaming.models import MediaSegment

    busy = MediaSegment.objects.filter(state__in=[MediaSegment.State.PENDING, MediaSegment.State.ANALYZING])
    if until(
        lambda: not busy.exists() and not worker_state.active_requests and not worker_state.reserved_requests,
        timeout_s,
        interval_s=0.2,
    ):
        return
    # Going on to the flush would deadlock or hide the stuck job: the test fails, saying which.
    left = [f"segment {pk} (seq {seq}) {state}" for pk, seq, state in busy.values_list("pk", "seq", "state")]
    tasks = [f"{request.name}{list(request.args)}" for request in worker_state.active_requests]
    tasks += [f"{request.name}{list(request.args)} (reserved)" for request in worker_state.reserved_requests]
    pytest.fail(
        f"analysis did not settle within {timeout_s:g} s after the test: "
        f"{', '.join(left) or 'no segment pending or analyzing'}; "
        f"worker tasks: {', '.join(tasks) or 'none'}",
        pytrace=False,
    )
