from django.apps import AppConfig


class ExposureConfig(AppConfig):
    name = "exposure"
    verbose_name = "Brand exposure"

    def ready(self) -> None:
        """ai_processing hands its stored results on through this hook, and streaming runs this
        app's loop beside the ingest; neither imports this app."""
        from ai_processing.hooks import results_stored
        from exposure.services import results_stored_record
        from exposure.webhooks import deliveries_sweep_loop
        from streaming.hooks import ingest_loops

        results_stored.subscribe(results_stored_record)
        # After ai_processing's loops: dispatches again the webhook deliveries whose job was lost.
        ingest_loops.add(deliveries_sweep_loop)
