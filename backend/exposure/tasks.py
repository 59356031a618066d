"""Celery tasks: thin wrappers that take IDs."""

from celery import shared_task

from exposure.models import WebhookDelivery
from exposure.webhooks import BACKOFF_S, delivery_attempt


@shared_task(bind=True, acks_late=True, max_retries=len(BACKOFF_S))
def deliver_webhook(self, delivery_id: int) -> str:
    state = delivery_attempt(delivery_id, expected_attempts=self.request.retries)  # retries = attempts made
    if state == WebhookDelivery.State.PENDING:
        raise self.retry(countdown=BACKOFF_S[min(self.request.retries, len(BACKOFF_S) - 1)])
    return state
