"""fetch_models: copies from packages offline, downloads and verifies by the publisher's
checksum (SHA-256 or MD5), builds CLIP's tokenizer from a verified archive, and installs
nothing that fails its check. Downloads come from a local HTTP server the test starts."""

import gzip
import hashlib
import io
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from tokenizers import Tokenizer

from ai_processing.clip_tokenizer import clip_tokenizer_build
from ai_processing.management.commands import fetch_models


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.CONFIG = settings.CONFIG.model_copy(update={"models_dir": tmp_path / "models"})
    return tmp_path / "models"


@pytest.fixture
def served(tmp_path):
    """A folder served over HTTP on 127.0.0.1, as a publisher's host would serve it."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def toy_vocabulary() -> bytes:
    """OpenAI's vocabulary file format: a header line, then one merge per line."""
    return gzip.compress(b"#version: 0.2\nr e\nre d</w>\nc a\nca t</w>\n")


def test_offline_install_copies_weights_from_the_package_and_verifies_them(models_dir):
    call_command("fetch_models", "--offline", "--only", "faces.onnx")

    assert fetch_models.digest_of(models_dir / "faces.onnx") == fetch_models.MODELS["faces.onnx"].checksum


def test_a_download_is_verified_by_the_md5_its_publisher_gives(models_dir, served, monkeypatch):
    folder, url = served
    (folder / "visual.onnx").write_bytes(b"weights")
    md5 = "md5:" + hashlib.md5(b"weights").hexdigest()
    monkeypatch.setitem(fetch_models.MODELS, "clip-image.onnx", fetch_models.ModelSource(md5, url + "visual.onnx"))

    call_command("fetch_models", "--only", "clip-image.onnx")

    assert (models_dir / "clip-image.onnx").read_bytes() == b"weights"


def test_a_checksum_mismatch_installs_nothing_and_says_why(models_dir, served, monkeypatch, capsys):
    folder, url = served
    (folder / "visual.onnx").write_bytes(b"tampered")
    wrong = fetch_models.ModelSource("md5:" + "0" * 32, url + "visual.onnx")
    monkeypatch.setitem(fetch_models.MODELS, "clip-image.onnx", wrong)

    with pytest.raises(CommandError, match="clip-image.onnx"):
        call_command("fetch_models", "--only", "clip-image.onnx")

    assert "checksum mismatch" in capsys.readouterr().err
    assert list(models_dir.iterdir()) == []


def test_clip_tokenizer_is_built_from_the_vocabulary_in_a_verified_source_archive(models_dir, served, monkeypatch):
    folder, url = served
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        member = tarfile.TarInfo(fetch_models.CLIP_VOCABULARY)
        member.size = len(vocabulary := toy_vocabulary())
        tar.addfile(member, io.BytesIO(vocabulary))
    (folder / "clip-server.tar.gz").write_bytes(archive.getvalue())
    source = fetch_models.MODELS["clip-tokenizer.json"]
    checksum = "sha256:" + hashlib.sha256(archive.getvalue()).hexdigest()
    monkeypatch.setitem(
        fetch_models.MODELS,
        "clip-tokenizer.json",
        fetch_models.ModelSource(checksum, url + "clip-server.tar.gz", build=source.build),
    )

    call_command("fetch_models", "--only", "clip-tokenizer.json")

    tokenizer = Tokenizer.from_file(str(models_dir / "clip-tokenizer.json"))
    assert tokenizer.encode("Red  CAT x").ids == clip_tokenizer_build(toy_vocabulary()).encode("red cat x").ids


def test_clip_tokenizer_has_clips_vocabulary_layout():
    """256 byte symbols, the same with CLIP's end-of-word mark, one token per merge, then
    the start and end marks. (On OpenAI's real file it gives the ids of CLIP's reference
    SimpleTokenizer: bench/clip/tokenizer_parity.py checks it against clip_server 0.8.3.)"""
    tokenizer = clip_tokenizer_build(toy_vocabulary())
    start, end = 512 + 4, 512 + 5
    x_end_of_word = 256 + ord("x") - ord("!")  # printable bytes come first, from "!"

    assert tokenizer.get_vocab_size() == 512 + 4 + 2
    assert tokenizer.encode("Red  CAT x").ids == [start, 512 + 1, 512 + 3, x_end_of_word, end]
    assert tokenizer.encode("<|endoftext|>").ids == [start, end, end]
