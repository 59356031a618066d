"""Typed start-up configuration, read from the environment once, at the edge.

Settings modules call `load_config()`; nothing else reads `os.environ`. Every bad value
raises `ConfigError` with one line naming the variable, so a mistyped deployment fails at
start-up instead of at the first request.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ImproperlyConfigured):
    """A bad environment variable; the message names it."""


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    secret_key: str | None = Field(default=None, title="DJANGO_SECRET_KEY", min_length=32)
    debug: bool = Field(default=False, title="DJANGO_DEBUG")
    host: str = Field(default="127.0.0.1", title="HOST", min_length=1)
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"], title="DJANGO_ALLOWED_HOSTS")
    csrf_trusted_origins: list[str] = Field(default_factory=list, title="DJANGO_CSRF_TRUSTED_ORIGINS")
    # Proxies in front of the web that append to X-Forwarded-For; 0 ignores the header, which
    # a client can otherwise set to anything (and so dodge the per-address sign-in limit).
    num_proxies: int = Field(default=0, title="NUM_PROXIES", ge=0, le=10)
    https_only: bool = Field(default=True, title="HTTPS_ONLY")
    data_dir: Path = Field(default=REPO_ROOT / "var", title="MEDIA_ANALYZER_DATA_DIR")
    database_url: str | None = Field(default=None, title="DATABASE_URL")
    redis_url: str | None = Field(default=None, title="REDIS_URL")
    celery_broker_url: str | None = Field(default=None, title="CELERY_BROKER_URL")
    task_redelivery_s: float = Field(default=600.0, title="TASK_REDELIVERY_S", ge=1)
    media_storage: Literal["local", "gcs"] = Field(default="local", title="MEDIA_STORAGE")
    gcs_bucket: str | None = Field(default=None, title="GCS_BUCKET")
    gcs_project: str | None = Field(default=None, title="GCS_PROJECT")
    models_dir: Path | None = Field(default=None, title="MODELS_DIR")
    analyzers: list[str] = Field(
        default_factory=lambda: ["objects", "faces", "logos", "scene", "text", "visual"], title="ANALYZERS"
    )
    scene_labels: list[str] = Field(
        default_factory=lambda: ["news", "sports", "advertising", "music performance", "video game", "talk show",
                                 "nature", "cooking"],
        title="SCENE_LABELS", min_length=2,
    )  # fmt: skip
    realtime_lag_bound_s: float = Field(default=10.0, title="REALTIME_LAG_BOUND_S", gt=0)
    analysis_threads: int = Field(default=1, title="ANALYSIS_THREADS", ge=1, le=32)
    log_format: Literal["text", "json"] = Field(default="text", title="LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", title="LOG_LEVEL")
    metrics_token: str | None = Field(default=None, title="METRICS_TOKEN", min_length=16)
    admin_password: str | None = Field(default=None, title="ADMIN_PASSWORD", min_length=12)
    rtmp_host: str = Field(default="127.0.0.1", title="RTMP_HOST")
    rtmp_port: int = Field(default=1935, title="RTMP_PORT", ge=0, le=65535)
    rtmp_public_url: str | None = Field(default=None, title="RTMP_PUBLIC_URL")
    ingest_in_web: bool | None = Field(default=None, title="INGEST_IN_WEB")
    hls_segment_seconds: float = Field(default=2.0, title="HLS_SEGMENT_SECONDS", ge=1.0, le=10.0)
    hls_live_segments: int = Field(default=6, title="HLS_LIVE_SEGMENTS", ge=3, le=60)
    segment_retention_hours: float = Field(default=72.0, title="SEGMENT_RETENTION_HOURS", gt=0)
    upload_max_bytes: int = Field(default=2 * 1024**3, title="UPLOAD_MAX_BYTES", ge=1024)
    image_max_bytes: int = Field(default=10 * 1024**2, title="IMAGE_MAX_BYTES", ge=1024)
    webhook_private_hosts: bool = Field(default=False, title="WEBHOOK_PRIVATE_HOSTS")
    # A webhook delivery still `pending` with no attempt for this long lost its job (its process
    # died with the in-process queue, or the broker lost its task): the sweep dispatches it again.
    webhook_delivery_stall_s: float = Field(default=300.0, title="WEBHOOK_DELIVERY_STALL_S", ge=90)
    segment_lease_s: float = Field(default=60.0, title="SEGMENT_LEASE_S", gt=0)
    segment_pending_bound_s: float = Field(default=30.0, title="SEGMENT_PENDING_BOUND_S", gt=0)
    segment_sweep_interval_s: float = Field(default=10.0, title="SEGMENT_SWEEP_INTERVAL_S", gt=0)
    segment_max_attempts: int = Field(default=3, title="SEGMENT_MAX_ATTEMPTS", ge=1)
    # An upload `processing` with no remux progress this long is queued again by the sweep, once, then failed.
    upload_stall_s: float = Field(default=3600.0, title="UPLOAD_STALL_S", gt=0)
    # API tokens older than this are refused (401) and deleted; the client signs in again.
    token_ttl_hours: float = Field(default=720.0, title="TOKEN_TTL_HOURS", gt=0)
    # Per-user quotas (staff exempt): bound what one account can make the platform store and analyse.
    quota_streams: int = Field(default=50, title="QUOTA_STREAMS", ge=0)
    quota_brands: int = Field(default=200, title="QUOTA_BRANDS", ge=0)
    quota_brand_images: int = Field(default=3, title="QUOTA_BRAND_IMAGES", ge=0)
    quota_alert_rules: int = Field(default=100, title="QUOTA_ALERT_RULES", ge=0)
    # ANALYZER_<KEY>_<FIELD> variables, by analyzer key and field, as given: each analyzer's
    # settings class validates its own at start-up (ai_processing.analyzers.settings).
    analyzer_settings: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("database_url", "redis_url", "celery_broker_url")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError("must be a URL such as scheme://host:port/name")
        return value

    @property
    def binds_loopback_only(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False  # a host name: it may resolve to any interface

    @property
    def services_mode(self) -> bool:
        return self.redis_url is not None

    @property
    def runs_ingest_in_web(self) -> bool:
        """Embedded mode runs the RTMP server inside the web process, sharing its
        in-memory channel layer; services mode runs it as its own process."""
        return (not self.services_mode) if self.ingest_in_web is None else self.ingest_in_web

    @property
    def ingest_url(self) -> str:
        return self.rtmp_public_url or f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    @property
    def broker_url(self) -> str | None:
        return self.celery_broker_url or self.redis_url

    @property
    def media_root(self) -> Path:
        return self.data_dir / "media"

    @property
    def hls_root(self) -> Path:
        return self.media_root / "streams"

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"


# Environment variable -> field; list fields are comma-separated.
_ENV_FIELDS = {field.title: name for name, field in Config.model_fields.items() if field.title}
_LIST_FIELDS = {"allowed_hosts", "csrf_trusted_origins", "analyzers", "scene_labels"}


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for variable, name in _ENV_FIELDS.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        raw[name] = [item.strip() for item in value.split(",") if item.strip()] if name in _LIST_FIELDS else value
    raw["analyzer_settings"] = _analyzer_settings(environ)
    try:
        config = Config(**raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = Config.model_fields[str(error["loc"][0])].title or ""
        shown = environ.get(variable, "")
        shown = "<hidden>" if "SECRET" in variable or "PASSWORD" in variable else repr(shown)
        raise ConfigError(f"{variable}={shown}: {error['msg']}") from None
    _check_combinations(config, environ)
    return config


ANALYZER_PREFIX = "ANALYZER_"


def _analyzer_settings(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """ANALYZER_LOGOS_MIN_PROBABILITY=0.85 -> {"logos": {"min_probability": "0.85"}} (keys have no "_")."""
    found: dict[str, dict[str, str]] = {}
    for variable, value in environ.items():
        if variable.startswith(ANALYZER_PREFIX) and value != "":
            key, _, name = variable[len(ANALYZER_PREFIX) :].partition("_")
            found.setdefault(key.lower(), {})[name.lower()] = value
    return found


def _check_combinations(config: Config, environ: Mapping[str, str]) -> None:
    """Rules across variables, each refused with one line naming the first of them."""
    if config.media_storage == "gcs" and not config.gcs_bucket:
        raise ConfigError("GCS_BUCKET: required when MEDIA_STORAGE=gcs")
    if config.debug and not config.binds_loopback_only:
        # Debug pages show settings, code and tracebacks to whoever can reach the server.
        raise ConfigError(
            f"DJANGO_DEBUG={environ.get('DJANGO_DEBUG')!r}: refused with HOST={config.host!r}, "
            "which is not a loopback address (debug pages expose settings and code)"
        )
