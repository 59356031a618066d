"""Each analyzer's settings (`Analyzer.Settings`), from the ANALYZER_<KEY>_<FIELD> variables
the configuration gathered at the edge: validated once at start-up, refused with one line
naming the variable."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from pydantic import ValidationError

from ai_processing.analyzers.base import AnalyzerSettings
from ai_processing.analyzers.registry import analyzer_types
from media_analyzer.config import ANALYZER_PREFIX, ConfigError


def analyzer_settings_validated(given: dict[str, dict[str, str]]) -> dict[str, AnalyzerSettings]:
    """Every known analyzer's settings, with the given values; ConfigError on the first bad one."""
    types = analyzer_types()
    for key, values in given.items():
        if key not in types:
            variable = f"{ANALYZER_PREFIX}{key.upper()}_{next(iter(values)).upper()}"
            raise ConfigError(f"{variable}: no analyzer {key!r} (known: {', '.join(sorted(types))})")
    validated = {}
    for key, analyzer_type in types.items():
        values = given.get(key, {})
        try:
            validated[key] = analyzer_type.Settings(**values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else ""
            variable = f"{ANALYZER_PREFIX}{key.upper()}_{name.upper()}"
            shown = repr(values[name]) if name in values else "(unset)"
            reason = "not a setting of this analyzer" if error["type"] == "extra_forbidden" else error["msg"]
            raise ConfigError(f"{variable}={shown}: {reason}") from None
    return validated


@cache
def analyzer_settings() -> dict[str, AnalyzerSettings]:
    """The process's analyzer settings (checked at start-up by AiProcessingConfig.ready)."""
    return analyzer_settings_validated(settings.CONFIG.analyzer_settings)
