"""The API docs are served by the project itself: Swagger UI at /api/docs/ and Redoc at
/api/redoc/ load their scripts and styles from our static files (drf-spectacular-sidecar),
so they work offline and under a CDN-free network policy."""

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from media_analyzer.tests.servers import embedded_env, embedded_server

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
    """With DEBUG off: WhiteNoise serves the static files, as in a real run."""
    with embedded_server(embedded_env(tmp_path / "var", DJANGO_DEBUG="false")) as url:
        yield url


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_api_docs_render_their_operations_offline_in_chromium(server):
    browser = subprocess.run(
        ["node", "e2e/api-docs.mjs", server], cwd=REPO / "frontend", capture_output=True, text=True, timeout=120
    )

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
