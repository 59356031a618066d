from django.apps import AppConfig
from django.conf import settings


class AiProcessingConfig(AppConfig):
    name = "ai_processing"
    verbose_name = "AI processing"

    def ready(self) -> None:
        from ai_processing.analyzers.registry import analyzer_types
        from media_analyzer.config import ConfigError

        known = analyzer_types()
        unknown = [name for name in settings.MEDIA_ANALYZER["ANALYZERS"] if name not in known]
        if unknown:
            raise ConfigError(f"ANALYZERS: unknown analyzer {', '.join(unknown)} (known: {', '.join(sorted(known))})")
