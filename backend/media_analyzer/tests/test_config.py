import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_analyzer.config import ConfigError, load_config

BACKEND = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_mode():
    config = load_config({})

    assert not config.services_mode
    assert config.media_storage == "local"
    assert config.broker_url is None


def test_services_mode_is_chosen_by_environment_alone():
    config = load_config({"REDIS_URL": "redis://h:6379/0", "DATABASE_URL": "postgres://u@h/db", "ANALYZERS": "visual,"})

    assert config.services_mode and config.broker_url == "redis://h:6379/0"
    assert config.analyzers == ["visual"]


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE"),
        ({"MEDIA_STORAGE": "gcs"}, "GCS_BUCKET"),
        ({"DATABASE_URL": "localhost"}, "DATABASE_URL"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"UPLOAD_MAX_BYTES": "-1"}, "UPLOAD_MAX_BYTES"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"NUM_PROXIES": "-1"}, "NUM_PROXIES"),
        ({"DJANGO_DEBUG": "true", "HOST": "0.0.0.0"}, "DJANGO_DEBUG"),
        ({"DJANGO_DEBUG": "true", "HOST": "media.example.com"}, "DJANGO_DEBUG"),
    ],
)
def test_each_bad_value_names_its_variable(environ, variable):
    with pytest.raises(ConfigError) as error:
        load_config(environ)

    assert str(error.value).startswith(variable)
    assert "short" not in str(error.value)  # secrets are never echoed


def test_forwarded_for_is_ignored_unless_proxies_are_declared():
    assert load_config({}).num_proxies == 0
    assert load_config({"NUM_PROXIES": "1"}).num_proxies == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_debug_is_allowed_on_a_loopback_host(host):
    assert load_config({"DJANGO_DEBUG": "true", "HOST": host}).debug


def test_any_host_without_debug_is_fine():
    assert load_config({"HOST": "0.0.0.0"}).host == "0.0.0.0"


def _settings_of(module: str, environ: dict[str, str]) -> dict:
    """The settings a fresh process gets from this environment (settings read it at import)."""
    import json

    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'DEBUG': s.DEBUG, 'CACHE': s.CACHES['default']['BACKEND'], "
        "'LOCATION': s.CACHES['default'].get('LOCATION'), "
        "'NUM_PROXIES': s.REST_FRAMEWORK.get('NUM_PROXIES', 'unset')}))"
    )
    keep = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "REDIS_URL", "NUM_PROXIES", "HOST")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BACKEND,
        capture_output=True,
        text=True,
        timeout=60,
        env={**keep, "DJANGO_SETTINGS_MODULE": module, **environ},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_run_is_not_in_debug_unless_asked():
    assert _settings_of("media_analyzer.settings.development", {})["DEBUG"] is False
    assert _settings_of("media_analyzer.settings.development", {"DJANGO_DEBUG": "true"})["DEBUG"] is True


def test_throttle_counts_are_shared_through_redis_in_services_mode():
    embedded = _settings_of("media_analyzer.settings.development", {})
    services = _settings_of(
        "media_analyzer.settings.development", {"REDIS_URL": "redis://redis.invalid:6379/0", "NUM_PROXIES": "1"}
    )

    assert embedded["CACHE"] == "django.core.cache.backends.locmem.LocMemCache" and embedded["NUM_PROXIES"] == 0
    assert services["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert services["LOCATION"] == "redis://redis.invalid:6379/0" and services["NUM_PROXIES"] == 1


@pytest.mark.parametrize(
    "environ, variable",
    [({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE"), ({"ANALYZERS": "objects,telepathy"}, "ANALYZERS")],
)
def test_bad_setting_at_start_up_is_one_clear_line(environ, variable):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BACKEND,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development", **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.stderr


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BACKEND,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.production",
            "DJANGO_SECRET_KEY": "a-test-only-secret-key-that-is-long-and-random-enough-0123456789",
            "DJANGO_ALLOWED_HOSTS": "media.example.com",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_variable_is_documented():
    from media_analyzer.config import Config

    reference = (BACKEND.parent / "docs" / "configuration.md").read_text()
    missing = [
        field.title for field in Config.model_fields.values() if field.title and f"`{field.title}`" not in reference
    ]
    assert missing == []


def test_every_analyzer_setting_is_documented():
    from ai_processing.analyzers.registry import analyzer_types

    reference = (BACKEND.parent / "docs" / "configuration.md").read_text()
    variables = [
        f"ANALYZER_{key.upper()}_{name.upper()}"
        for key, analyzer in analyzer_types().items()
        for name in analyzer.Settings.model_fields
    ]
    assert variables and [variable for variable in variables if f"`{variable}`" not in reference] == []


def test_production_logs_are_json_with_cloud_logging_fields():
    import json
    import logging

    from media_analyzer.logging_config import CloudLoggingFormatter, build_logging

    options = build_logging("json", "INFO")["formatters"]["json"]
    formatter = CloudLoggingFormatter(
        options["format"], rename_fields=options["rename_fields"], datefmt=options["datefmt"]
    )
    record = logging.LogRecord("streaming", logging.WARNING, __file__, 1, "stream %s offline", ("abc",), None)
    record.trace = "projects/p/traces/123"

    line = json.loads(formatter.format(record))

    assert line["severity"] == "WARNING" and line["message"] == "stream abc offline"
    assert line["time"] and line["logging.googleapis.com/trace"] == "projects/p/traces/123"
