"""Celery tasks of the streaming app (services mode): thin wrappers that take IDs."""

from celery import shared_task


# Acknowledged once done: a worker lost mid-remux leaves the stored upload, and the job runs
# again from the start. No retries otherwise: a failed remux has deleted its upload.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def remux_upload(stream_id: str, upload_name: str, duration_s: float, token: str = "") -> str:
    """A stored upload to its stream's segments (streaming.uploads.upload_remux), on "batch".
    `token` names this job when it claims the stream; the same on a redelivery."""
    from streaming.uploads import upload_remux

    return upload_remux(stream_id, upload_name, duration_s, token)
