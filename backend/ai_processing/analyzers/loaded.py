"""Analyzers loaded once per process and shared by every job in it."""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from ai_processing.analyzers.base import Analyzer
from ai_processing.analyzers.registry import analyzer_types
from ai_processing.analyzers.settings import analyzer_settings

logger = logging.getLogger(__name__)
_loaded: dict[str, Analyzer | None] = {}
_lock = threading.Lock()


def analyzer_get(name: str) -> Analyzer | None:
    """The loaded analyzer, or None when it is unknown, lacks weights or failed to load
    (said once in the log; /api/health says why)."""
    with _lock:
        if name not in _loaded:
            _loaded[name] = _load(name)
        return _loaded[name]


def _load(name: str) -> Analyzer | None:
    analyzer_type = analyzer_types().get(name)
    if analyzer_type is None:
        logger.warning("analyzer %s is unknown; skipped", name)
        return None
    analyzer = analyzer_type(settings.CONFIG.resolved_models_dir, analyzer_settings()[name])
    status = analyzer.status()
    if status.state != "ready":
        logger.warning("analyzer %s disabled: %s", name, status.message)
        return None
    try:
        analyzer.load()
    except Exception:
        logger.exception("analyzer %s failed to load; disabled", name)
        return None
    return analyzer
