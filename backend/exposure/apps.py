from django.apps import AppConfig


class ExposureConfig(AppConfig):
    name = "exposure"
    verbose_name = "Brand exposure"

    def ready(self) -> None:
        """ai_processing hands its stored results on through this hook; it never imports this app."""
        from ai_processing.hooks import results_stored
        from exposure.services import results_stored_record

        results_stored.subscribe(results_stored_record)
