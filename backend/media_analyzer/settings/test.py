"""Tests: the embedded default, with fast password hashing and a throwaway data folder."""

import tempfile
from pathlib import Path

from .development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="media-analyzer-test-media-"))

# A file, not SQLite's shared in-memory database: threads (ingest watcher, analysis pool)
# then get WAL and the busy timeout, as in the embedded run, instead of table locks.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    test_db = Path(tempfile.mkdtemp(prefix="media-analyzer-test-db-")) / "db.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(test_db)}  # noqa: F405
