from django.apps import AppConfig
from django.conf import settings


class AiProcessingConfig(AppConfig):
    name = "ai_processing"
    verbose_name = "AI processing"

    def ready(self) -> None:
        self._analyzers_check()
        self._hooks_subscribe()
        import ai_processing.metrics  # noqa: F401  (adds the database gauges to /api/metrics)

    def _hooks_subscribe(self) -> None:
        """Streaming hands work on through these; it never imports this app."""
        from ai_processing.dispatch import segment_registered_dispatch
        from ai_processing.stats import stats_loop
        from ai_processing.sweep import sweep_loop
        from streaming.hooks import ingest_loops, segment_registered

        segment_registered.subscribe(segment_registered_dispatch)
        # Beside the ingest, one per deployment: pipeline.stats for every live stream, then the
        # sweep, which dispatches again the segments whose dispatch, message or job was lost.
        ingest_loops.add(stats_loop)
        ingest_loops.add(sweep_loop)

    def _analyzers_check(self) -> None:
        from ai_processing.analyzers.registry import analyzer_types
        from ai_processing.analyzers.settings import analyzer_settings_validated
        from media_analyzer.config import ConfigError

        known = analyzer_types()
        unknown = [name for name in settings.CONFIG.analyzers if name not in known]
        if unknown:
            raise ConfigError(f"ANALYZERS: unknown analyzer {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        analyzer_settings_validated(settings.CONFIG.analyzer_settings)
