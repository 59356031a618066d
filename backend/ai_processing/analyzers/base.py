"""The analyzer contract: `load()` once, `analyze(frames, context)` per batch.

Frozen values cross the boundary: `Frame`s and a `Context` in, `Finding`s out. Boxes are
normalised to 0..1 of the frame so every consumer (database, socket, overlay) shares one
coordinate space. Analyzers never touch the database: the job puts what they need from it
(the stream owner's logos) in the context.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Frame:
    pts: float
    image: np.ndarray  # H x W x 3, RGB, uint8


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Finding:
    kind: str
    label: str
    confidence: float
    box: Box
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LogoReference:
    brand_id: int
    brand_name: str
    key: str  # names this image's current content: caches built from it are keyed on it
    read: Callable[[], bytes]  # the image file, read only when no cache has it


@dataclass(frozen=True)
class StoredVerifier:
    """A brand's logo verifier as built on upload; used when `key` names the references now."""

    brand_id: int
    key: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class CorrectedLogo:
    """A user's "not this brand" (negative) or "missed here" (positive): a crop of a frame
    at working scale and the logo's box in it (x, y, w, h px)."""

    brand_id: int
    kind: Literal["negative", "positive"]
    key: str  # names this correction: features computed from it are cached on it
    read: Callable[[], bytes]  # the crop as an image file
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class BrandName:
    brand_id: int
    name: str


LOGOS_BEFORE_MAX_GAP_S = 1.0  # a frame further back than this says nothing of the next one


@dataclass(frozen=True)
class SeenLogo:
    """A brand's logo where a frame showed it, surely or nearly (see `Context.logos_before`)."""

    brand_id: int
    pts: float  # of that frame
    box: Box


@dataclass(frozen=True)
class Context:
    """What a job knows beyond its frames."""

    logos: tuple[LogoReference, ...] = ()
    verifiers: tuple[StoredVerifier, ...] = ()
    # Batch mode: wait for every model a brand needs; realtime jobs never wait for a build.
    complete: bool = False
    scene_labels: tuple[str, ...] = ()  # zero-shot content classes (SCENE_LABELS)
    brands: tuple[BrandName, ...] = ()  # the stream owner's brands, for zero-shot classification
    logo_corrections: tuple[CorrectedLogo, ...] = ()  # used at once, and in the next verifier build
    # Filled by the analyzers: brands a live job could not look for yet (their logo verifier
    # is still being built). The job checks its segment again for them once they are built.
    awaiting_verifiers: set[int] = field(default_factory=set, compare=False)
    # The logos of the stream's sampled frame before the next one analysed: the job fills it
    # with the stored findings of the frame just before its segment, the logo analyzer
    # replaces it after each frame (a doubted logo is kept when the frame before showed it).
    # Only a frame up to LOGOS_BEFORE_MAX_GAP_S before the one analysed counts (`SeenLogo.pts`).
    logos_before: list[SeenLogo] = field(default_factory=list, compare=False)


NO_CONTEXT = Context()

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Kind:
    """A `Finding.kind` value as the dashboard shows it (`GET /api/kinds/`): the toggle's label,
    the colour of its boxes and swatch. Declared by the plug-in that produces it, so a new
    kind needs no change in the frontend."""

    key: str
    label: str
    colour: str  # "#rrggbb"
    boxes: bool = True  # False: whole-frame findings (scene, colours), no box to draw or toggle

    def __post_init__(self) -> None:
        if not self.key or not self.label:
            raise ValueError("a kind needs a key and a label")
        if not _HEX_COLOUR.fullmatch(self.colour):
            raise ValueError(f"kind {self.key!r}: colour {self.colour!r} is not #rrggbb")


def kind_key(kind: Kind | str) -> str:
    return kind if isinstance(kind, str) else kind.key


@dataclass(frozen=True)
class AnalyzerStatus:
    name: str
    state: Literal["ready", "disabled", "error"]
    message: str = ""


class AnalyzerSettings(BaseModel):
    """An analyzer's tunables. Each field is ANALYZER_<KEY>_<FIELD> in the environment
    (ANALYZER_LOGOS_MIN_PROBABILITY), validated once at start-up; a plug-in subclasses this
    with its own fields and defaults, each with a description for docs/configuration.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Analyzer(ABC):
    key: ClassVar[str]
    Settings: ClassVar[type[AnalyzerSettings]] = AnalyzerSettings
    # The Finding.kind values it produces. A `Kind` declares the label and colour the dashboard
    # shows; a plain key names a kind another plug-in declares (or one shown with defaults).
    kinds: ClassVar[tuple[Kind | str, ...]]
    # Files this analyzer needs under MODELS_DIR; missing ones disable it, never crash.
    weights: ClassVar[tuple[str, ...]] = ()
    # Whether realtime mode runs it (it is cheap enough to keep up); batch mode runs every enabled one.
    realtime: ClassVar[bool] = True
    # Left out first when realtime analysis falls behind (after the sampling rate drops).
    optional: ClassVar[bool] = False
    # Services mode: a Celery queue of its own for this analyzer's job, so cheap CPU work
    # scales apart from the models; "" runs it in the stream's strategy queue.
    queue: ClassVar[str] = ""
    # Its `analyze` calls the context's lazy reads (`LogoReference.read`, ...), which may query
    # the database: the job runs it on its own thread (its connection, its transaction), and
    # the other analyzers of the chunk beside it on threads of their own.
    reads_context: ClassVar[bool] = False

    def __init__(self, models_dir: Path, settings: AnalyzerSettings | None = None) -> None:
        self.models_dir = models_dir
        self.settings = self.Settings() if settings is None else settings

    def status(self) -> AnalyzerStatus:
        missing = [name for name in self.weights if not (self.models_dir / name).is_file()]
        if missing:
            return AnalyzerStatus(
                self.key,
                "disabled",
                f"missing weights {', '.join(missing)} in {self.models_dir}: run `scripts/run --models`"
                " (or `manage.py fetch_models` in backend/)",
            )
        return AnalyzerStatus(self.key, "ready")

    @abstractmethod
    def load(self) -> None:
        """Load models once, before the first batch."""

    @abstractmethod
    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        """One list of findings per input frame, in order."""
