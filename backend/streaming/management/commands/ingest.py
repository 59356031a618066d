"""Run the RTMP ingest as its own process (services mode)."""

import asyncio
import signal

from django.core.management.base import BaseCommand

try:
    import uvloop
except ImportError:  # Windows: asyncio's own loop
    uvloop = None  # type: ignore[assignment]

from media_analyzer.events import bind_server_loop
from streaming.ingest.service import Ingest


class Command(BaseCommand):
    help = "Serve RTMP publishers and turn their streams into HLS segments."

    def handle(self, *args, **options):
        # uvloop where installed (uvicorn's loop too, so the embedded ingest already has it):
        # the RTMP path is socket reads and pipe writes, which it runs in C.
        run = asyncio.run if uvloop is None else uvloop.run
        run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        bind_server_loop(loop)
        stopping = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        ingest = Ingest()
        port = await ingest.start()
        self.stdout.write(f"RTMP ingest listening on port {port}")
        await stopping.wait()
        await ingest.stop()
