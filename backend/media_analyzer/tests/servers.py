"""The README's run command minus the install, for tests that drive a real server:
`manage.py` set-up commands, then uvicorn on 127.0.0.1, on the embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from media_analyzer.tests.net import free_port

BACKEND = Path(__file__).resolve().parents[2]


def embedded_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development",
        "MEDIA_ANALYZER_DATA_DIR": str(data_dir),
        "RTMP_PORT": str(free_port()),
        **extra,
    }
    env.pop("DATABASE_URL", None), env.pop("REDIS_URL", None)  # the embedded default
    return env


@contextmanager
def embedded_server(env: dict[str, str], setup=(["migrate", "--noinput"],)):
    """Runs the set-up commands, then the ASGI server; yields its base URL, stops it after."""
    for command in setup:
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BACKEND, env=env, check=True, capture_output=True, timeout=120
        )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "media_analyzer.asgi:application",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=BACKEND, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert server.stderr is not None
    try:
        for line in server.stderr:  # the server says when it is ready; bounded by the test timeout
            if "Uvicorn running on" in line:  # listening (startup completes before the bind)
                break
        else:
            raise RuntimeError("the server exited before it was ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
