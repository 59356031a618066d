"""Analyzers are found by scanning `plugins/`, not listed by hand: adding one is adding a file.

A plug-in that fails to import is logged and skipped; the platform runs on without it."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass
from functools import cache
from typing import Any

from ai_processing.analyzers import plugins
from ai_processing.analyzers.base import Analyzer, Kind, kind_key

logger = logging.getLogger(__name__)
# For a kind that no plug-in declares with a `Kind`, only by its key.
DEFAULT_KIND_COLOUR = "#e5e7eb"


def _all_subclasses(cls: type[Any]) -> list[type[Any]]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_all_subclasses(direct))]


@cache
def analyzer_types() -> dict[str, type[Analyzer]]:
    for module in pkgutil.iter_modules(plugins.__path__):
        try:
            importlib.import_module(f"{plugins.__name__}.{module.name}")
        except Exception:
            logger.exception("analyzer plug-in %s failed to import; skipped", module.name)
    return {cls.key: cls for cls in _all_subclasses(Analyzer) if getattr(cls, "key", None)}


def analyzers_by_queue(names: list[str], strategy_queue: str) -> dict[str, list[str]]:
    """Services mode: the stream's analyzers grouped by the Celery queue their job runs on.
    The strategy queue's group is always there, even empty: its job owns the segment's state."""
    types = analyzer_types()
    groups: dict[str, list[str]] = {strategy_queue: []}
    for name in names:
        queue = getattr(types.get(name), "queue", "") or strategy_queue
        groups.setdefault(queue, []).append(name)
    return groups


@dataclass(frozen=True)
class DeclaredKind:
    kind: Kind
    analyzers: tuple[str, ...]  # the plug-ins that produce it


@cache
def declared_kinds() -> list[DeclaredKind]:
    """Every `Finding.kind` the plug-ins produce, with the label and colour its `Kind` declares
    (the first by analyzer key where several do), boxed kinds first, then by label."""
    declared: dict[str, Kind] = {}
    producers: dict[str, list[str]] = {}
    for name, analyzer_type in sorted(analyzer_types().items()):
        for kind in getattr(analyzer_type, "kinds", ()):
            key = kind_key(kind)
            producers.setdefault(key, []).append(name)
            if isinstance(kind, Kind) and declared.setdefault(key, kind) != kind:
                logger.warning("analyzer %s declares kind %r unlike another plug-in; %s kept", name, key, declared[key])
    found = [
        DeclaredKind(declared.get(key) or Kind(key, key.capitalize(), DEFAULT_KIND_COLOUR), tuple(names))
        for key, names in producers.items()
    ]
    return sorted(found, key=lambda entry: (not entry.kind.boxes, entry.kind.label.casefold()))
