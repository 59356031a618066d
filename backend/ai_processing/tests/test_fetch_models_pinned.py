"""fetch_models' Hugging Face source pinned by commit, against a local server that answers
like the publisher: `raw/<commit>/<path>` gives the file's Git LFS pointer, `resolve/...`
its bytes. Nothing is installed unless the pointer and the bytes both match the pin, and a
moved file's error names its new place."""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from ai_processing.management.commands import fetch_models

WEIGHTS = b"pinned weights"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
RAW = f"/owner/model/raw/{COMMIT}/onnx/model.onnx"
RESOLVE = f"/owner/model/resolve/{COMMIT}/onnx/model.onnx"


def pointer(data: bytes) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(data)}\nsize {len(data)}\n".encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PIN = fetch_models.HubFile("owner/model", COMMIT, "onnx/model.onnx", sha256(WEIGHTS), len(WEIGHTS))


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.CONFIG = settings.CONFIG.model_copy(update={"models_dir": tmp_path / "models"})
    return tmp_path / "models"


@pytest.fixture
def publisher():
    """Routes: path -> (status, headers, body). Unrouted paths answer 404 "Entry not found",
    as Hugging Face does."""
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body = routes.get(self.path, (404, {}, b"Entry not found"))
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield routes, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def install(monkeypatch, hub: str, source: fetch_models.ModelSource) -> None:
    monkeypatch.setitem(fetch_models.MODELS, "yolo11n.onnx", source)
    call_command("fetch_models", "--only", "yolo11n.onnx", "--hub-url", hub)


def test_a_pinned_file_installs_when_its_pointer_and_bytes_match_the_pin(models_dir, publisher, monkeypatch, capsys):
    routes, hub = publisher
    routes[RAW] = (200, {}, pointer(WEIGHTS))
    routes[RESOLVE] = (302, {"Location": "/cdn/blob"}, b"")  # the publisher's CDN, a redirect away
    routes["/cdn/blob"] = (200, {}, WEIGHTS)

    install(monkeypatch, hub, fetch_models.ModelSource(pinned=PIN))

    assert (models_dir / "yolo11n.onnx").read_bytes() == WEIGHTS
    assert "as pinned" in capsys.readouterr().out
    call_command("fetch_models", "--only", "yolo11n.onnx", "--hub-url", hub)
    assert "yolo11n.onnx: present" in capsys.readouterr().out


def test_a_pointer_whose_hash_is_not_the_pinned_one_installs_nothing(models_dir, publisher, monkeypatch, capsys):
    """The bytes served are the pinned ones: only the pointer check can refuse them. A
    fallback exists and is not tried, since the publisher contradicts the pin."""
    routes, hub = publisher
    routes[RAW] = (200, {}, pointer(b"other weights"))
    routes[RESOLVE] = (200, {}, WEIGHTS)
    routes["/fallback.onnx"] = (200, {}, WEIGHTS)
    fallback = fetch_models.ModelSource(f"sha256:{sha256(WEIGHTS)}", hub + "/fallback.onnx", pinned=PIN)

    with pytest.raises(CommandError, match="yolo11n.onnx"):
        install(monkeypatch, hub, fallback)

    err = capsys.readouterr().err
    assert f"says sha256:{sha256(b'other weights')}" in err and "nothing installed" in err
    assert list(models_dir.iterdir()) == []


def test_a_pointer_whose_size_is_not_the_pinned_one_installs_nothing(models_dir, publisher, monkeypatch, capsys):
    routes, hub = publisher
    routes[RAW] = (200, {}, pointer(WEIGHTS).replace(f"size {len(WEIGHTS)}".encode(), b"size 999"))
    routes[RESOLVE] = (200, {}, WEIGHTS)

    with pytest.raises(CommandError):
        install(monkeypatch, hub, fetch_models.ModelSource(pinned=PIN))

    assert "999 bytes" in capsys.readouterr().err
    assert list(models_dir.iterdir()) == []


def test_bytes_that_do_not_match_the_pointer_install_nothing(models_dir, publisher, monkeypatch, capsys):
    routes, hub = publisher
    routes[RAW] = (200, {}, pointer(WEIGHTS))
    routes[RESOLVE] = (200, {}, b"tampered bytes")  # as long as the pinned ones

    with pytest.raises(CommandError):
        install(monkeypatch, hub, fetch_models.ModelSource(pinned=PIN))

    assert f"sent sha256:{sha256(b'tampered bytes')}" in capsys.readouterr().err
    assert list(models_dir.iterdir()) == []  # no staging file left either


def test_a_file_longer_than_the_pin_is_cut_off_and_installs_nothing(models_dir, publisher, monkeypatch, capsys):
    routes, hub = publisher
    routes[RAW] = (200, {}, pointer(WEIGHTS))
    routes[RESOLVE] = (200, {}, WEIGHTS + b" and more")

    with pytest.raises(CommandError):
        install(monkeypatch, hub, fetch_models.ModelSource(pinned=PIN))

    assert "more than the pinned" in capsys.readouterr().err
    assert list(models_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Location": "/new-owner/model/raw/abc/onnx/model.onnx"}, b""),
        ({"Content-Type": "application/json"}, json.dumps({"error": "moved", "url": "/new-owner/model"}).encode()),
        ({}, b"This repository moved to https://hub.example/new-owner/model."),
    ],
    ids=["location-header", "json-body", "text-body"],
)
def test_a_moved_file_names_its_new_place(models_dir, publisher, monkeypatch, capsys, headers, body):
    routes, hub = publisher
    routes[RAW] = (404, headers, body)

    with pytest.raises(CommandError):
        install(monkeypatch, hub, fetch_models.ModelSource(pinned=PIN))

    err = capsys.readouterr().err
    assert "is gone (HTTP 404)" in err
    assert "/new-owner/model" in err.split("new place:", 1)[1]
    assert list(models_dir.iterdir()) == []


def test_a_redirected_pointer_is_followed_and_reported(models_dir, publisher, monkeypatch, capsys):
    """A renamed repository redirects; the pin still decides what installs."""
    routes, hub = publisher
    routes[RAW] = (301, {"Location": f"/new-owner/model/raw/{COMMIT}/onnx/model.onnx"}, b"")
    routes[f"/new-owner/model/raw/{COMMIT}/onnx/model.onnx"] = (200, {}, pointer(WEIGHTS))
    routes[RESOLVE] = (200, {}, WEIGHTS)

    install(monkeypatch, hub, fetch_models.ModelSource(pinned=PIN))

    assert f"moved to {hub}/new-owner/model/raw/{COMMIT}" in capsys.readouterr().out
    assert (models_dir / "yolo11n.onnx").read_bytes() == WEIGHTS


def test_an_unreachable_pinned_file_falls_back_to_the_current_source(models_dir, publisher, monkeypatch, capsys):
    routes, hub = publisher  # nothing routed for the pin: 404 "Entry not found"
    routes["/fallback.onnx"] = (200, {}, b"fallback weights")
    md5 = "md5:" + hashlib.md5(b"fallback weights").hexdigest()

    install(monkeypatch, hub, fetch_models.ModelSource(md5, hub + "/fallback.onnx", pinned=PIN))

    captured = capsys.readouterr()
    assert "pinned source failed" in captured.err and "trying its fallback" in captured.err
    assert f"installed from {hub}/fallback.onnx" in captured.out
    assert (models_dir / "yolo11n.onnx").read_bytes() == b"fallback weights"


def test_offline_skips_a_pinned_file_and_says_how_else_to_get_it(models_dir, monkeypatch, capsys):
    source = fetch_models.ModelSource(pinned=PIN, otherwise="or export it into {models_dir}")
    monkeypatch.setitem(fetch_models.MODELS, "yolo11n.onnx", source)

    call_command("fetch_models", "--offline", "--only", "yolo11n.onnx")

    out = capsys.readouterr().out
    assert "yolo11n.onnx: skipped (offline" in out and f"or export it into {models_dir}" in out


def test_pins_name_a_full_commit_and_a_sha256():
    with pytest.raises(ValueError, match="full commit"):
        fetch_models.HubFile("owner/model", "main", "model.onnx", "0" * 64, 1)
    for source in fetch_models.MODELS.values():
        if source.pinned:
            assert source.pinned.size > 0


def test_a_download_cut_short_is_no_mismatch_and_falls_back(models_dir, publisher, monkeypatch, capsys):
    """A dropped connection says nothing against the publisher: the fallback is tried."""
    routes, hub = publisher
    routes[RAW] = (200, {}, pointer(WEIGHTS))
    routes[RESOLVE] = (200, {"Content-Length": str(len(WEIGHTS))}, WEIGHTS[:5])  # then the connection closes
    routes["/fallback.onnx"] = (200, {}, b"fallback weights")
    md5 = "md5:" + hashlib.md5(b"fallback weights").hexdigest()

    install(monkeypatch, hub, fetch_models.ModelSource(md5, hub + "/fallback.onnx", pinned=PIN))

    assert "broke off" in capsys.readouterr().err
    assert (models_dir / "yolo11n.onnx").read_bytes() == b"fallback weights"


def test_a_file_exported_by_hand_stands_when_the_pin_is_its_only_source(models_dir, monkeypatch, capsys):
    """YOLO's only other source is an export by the user: theirs is kept, not replaced or refused."""
    models_dir.mkdir(parents=True)
    (models_dir / "yolo11n.onnx").write_bytes(b"exported by hand")

    install(monkeypatch, "http://127.0.0.1:9", fetch_models.ModelSource(pinned=PIN))  # nothing listens there

    assert "yolo11n.onnx: present" in capsys.readouterr().out
    assert (models_dir / "yolo11n.onnx").read_bytes() == b"exported by hand"
