"""`/api/health`: is each part of the platform reachable, and can each analyzer run?

Anonymous callers (load balancers, Kubernetes probes) get the states; signed-in users
also get the messages, which may name paths and hosts."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from dataclasses import asdict, dataclass
from functools import cache

import imageio_ffmpeg
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ai_processing.selectors import analyzer_statuses
from media_analyzer.celery import app as celery_app

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ComponentStatus:
    status: str  # "ok" or "error"
    message: str = ""


def _check(probe) -> ComponentStatus:
    try:
        return ComponentStatus("ok", probe() or "")
    except Exception as exc:  # a health check reports failures, it never raises them
        return ComponentStatus("error", f"{type(exc).__name__}: {exc}")


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def _channel_layer() -> str:
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel("health.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "health.ping", "token": token})
        message = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT_S)
        if message.get("token") != token:
            raise RuntimeError("channel layer returned a different message")

    async_to_sync(round_trip)()
    return type(layer).__name__


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "in-process analysis pool"
    with celery_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_S)
    return conn.transport_cls if isinstance(conn.transport_cls, str) else "broker reachable"


def _storage() -> str:
    storage = storages["default"]
    storage.exists("health-check-probe")
    return type(storage).__name__


@cache
def _ffmpeg() -> str:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    version = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=10, check=True)
    return version.stdout.splitlines()[0]


CHECKS = {
    "database": _database,
    "channel_layer": _channel_layer,
    "broker": _broker,
    "storage": _storage,
    "ffmpeg": _ffmpeg,
}
CRITICAL = {"database", "channel_layer", "storage"}


class HealthView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "components": serializers.DictField(),
                "analyzers": serializers.ListField(),
            },
        )
    )
    def get(self, request):
        components = {name: _check(probe) for name, probe in CHECKS.items()}
        analyzers = [asdict(status) for status in analyzer_statuses()]
        failing = {name for name, component in components.items() if component.status != "ok"}
        overall = "error" if failing & CRITICAL else "degraded" if failing else "ok"
        detailed = request.user.is_authenticated
        body = {
            "status": overall,
            "components": {
                name: asdict(component) if detailed else {"status": component.status}
                for name, component in components.items()
            },
            "analyzers": analyzers if detailed else [{"name": a["name"], "state": a["state"]} for a in analyzers],
        }
        return Response(body, status=503 if overall == "error" else 200)
