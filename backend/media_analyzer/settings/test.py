"""Tests: the embedded default, with fast password hashing and a throwaway data folder."""

import tempfile
from pathlib import Path

from .development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="media-analyzer-test-media-"))
