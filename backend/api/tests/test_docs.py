"""The API docs are served by the project itself: Swagger UI at /api/docs/ and Redoc at
/api/redoc/ load their scripts and styles from our static files (drf-spectacular-sidecar),
so they work offline and under a CDN-free network policy."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from media_analyzer.tests.net import free_port

REPO = Path(__file__).resolve().parents[3]
READY_TIMEOUT_S = 60


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_local_static_files(client, path):
    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "a page asset from another host"
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)[\w.-]+/[^\s\"']*\.(?:js|css)", html)
    assert "/static/drf_spectacular_sidecar/" in html


def test_redoc_like_the_swagger_page_is_left_to_its_own_inline_script(client):
    for path in ("/api/docs/", "/api/redoc/"):
        assert "Content-Security-Policy" not in client.get(path)


@pytest.fixture
def server(tmp_path):
    """The README's run command minus the install, with DEBUG off: WhiteNoise serves the
    static files, as in a real run."""
    http_port = free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development", "DJANGO_DEBUG": "false",
        "MEDIA_ANALYZER_DATA_DIR": str(tmp_path / "var"), "RTMP_PORT": str(free_port()),
    }  # fmt: skip
    env.pop("DATABASE_URL", None), env.pop("REDIS_URL", None)  # the embedded default
    backend = REPO / "backend"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=backend, env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "media_analyzer.asgi:application", "--host", "127.0.0.1",
         "--port", str(http_port)],
        cwd=backend, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        for line in process.stderr:  # the server says when it is ready; bounded by the test timeout
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError("the server exited before it was ready")
        yield f"http://127.0.0.1:{http_port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_api_docs_render_their_operations_offline_in_chromium(server):
    browser = subprocess.run(["node", "e2e/api-docs.mjs", server], cwd=REPO / "frontend", capture_output=True,
                             text=True, timeout=120)  # fmt: skip

    assert browser.returncode == 0, browser.stderr[-3000:]
    result = json.loads(browser.stdout.strip().splitlines()[-1])
    assert result["swagger_operations"] > 10, result
    assert result["redoc_operations"] > 10, result
    # Only Redoc's own "by Redocly" badge, an image it drops when it does not load.
    assert set(result["external_requests"]) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}, result
    for path in ("/api/docs/", "/api/redoc/"):  # what the pages reference is served with DEBUG off
        html = requests.get(f"{server}{path}", timeout=10).text
        assets = re.findall(r"""(?:src|href)=["']?([^"'\s>]+\.(?:js|css|png))""", html)
        assert assets, path
        for asset in assets:
            assert requests.get(urljoin(server, asset), timeout=10).status_code == 200, asset
