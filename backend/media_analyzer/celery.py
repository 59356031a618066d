"""The Celery app for services mode. Embedded mode never starts a worker: the dispatcher
runs jobs in an in-process pool instead (ai_processing.dispatch)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "media_analyzer.settings.development")

app = Celery("media_analyzer")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Video work has its own queues so a backlog of batch jobs never delays live streams.
app.conf.task_queues = [Queue("realtime"), Queue("batch"), Queue("visual")]
app.autodiscover_tasks()
