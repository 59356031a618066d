"""The embedded default: one process, SQLite, in-memory channel layer, local media."""

import secrets

from .base import *  # noqa: F403
from .base import CONFIG

# DEBUG is base's CONFIG.debug: off unless DJANGO_DEBUG asks (config refuses it off loopback).
WHITENOISE_USE_FINDERS = True  # serve static files without collectstatic


def _local_secret_key() -> str:
    """A per-machine key kept outside the repository, made on first run."""
    path = CONFIG.data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = CONFIG.secret_key or _local_secret_key()
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
