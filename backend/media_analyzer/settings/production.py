"""Services mode behind TLS: secrets from the environment, JSON logs, hardened cookies."""

from media_analyzer.config import ConfigError
from media_analyzer.logging_config import build_logging

from .base import *  # noqa: F403
from .base import CONFIG

if not CONFIG.secret_key:
    raise ConfigError("DJANGO_SECRET_KEY: required in production (at least 32 characters)")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS_ONLY=false only for a plain-HTTP trial on one machine (compose on a laptop).
SECURE_SSL_REDIRECT = CONFIG.https_only
SECURE_HSTS_SECONDS = 31536000 if CONFIG.https_only else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = CONFIG.https_only
SECURE_HSTS_PRELOAD = CONFIG.https_only
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = CONFIG.https_only
CSRF_COOKIE_SECURE = CONFIG.https_only
SESSION_COOKIE_HTTPONLY = True
# Kubernetes probes call /api/health over plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
LOGGING = build_logging("json", CONFIG.log_level)
