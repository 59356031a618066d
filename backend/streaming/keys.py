"""Stream keys: 256 random bits shown once, stored only as a SHA-256 digest.

A key this long needs no slow hash: its digest is enough to look it up, and a leaked
database does not leak a key that can publish."""

import hashlib
import hmac
import secrets

KEY_PREFIX = "sk_"


def key_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, digest: str) -> bool:
    """Constant-time comparison, so timing reveals nothing about a stored digest."""
    return hmac.compare_digest(key_digest(key), digest)
