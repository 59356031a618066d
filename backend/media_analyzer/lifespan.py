"""ASGI lifespan: in embedded mode the web process also runs the RTMP ingest, so HLS,
analysis and the in-memory channel layer share one process."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from django.conf import settings

from media_analyzer.events import bind_server_loop

if TYPE_CHECKING:
    from streaming.ingest.service import Ingest

logger = logging.getLogger(__name__)


class LifespanApp:
    def __init__(self, app) -> None:
        self.app = app
        self.ingest: Ingest | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._startup()
                except Exception as exc:
                    logger.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.ingest is not None:
                    await self.ingest.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _startup(self) -> None:
        bind_server_loop(asyncio.get_running_loop())
        if settings.CONFIG.runs_ingest_in_web:
            from streaming.ingest.service import Ingest

            self.ingest = Ingest()
            await self.ingest.start()
