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
    ],
)
def test_each_bad_value_names_its_variable(environ, variable):
    with pytest.raises(ConfigError) as error:
        load_config(environ)

    assert str(error.value).startswith(variable)
    assert "short" not in str(error.value)  # secrets are never echoed


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
    missing = [field.title for field in Config.model_fields.values() if f"`{field.title}`" not in reference]
    assert missing == []


def test_production_logs_are_json_with_cloud_logging_fields():
    import json
    import logging

    from media_analyzer.logging_config import CloudLoggingFormatter, build_logging

    options = build_logging("json", "INFO")["formatters"]["json"]
    formatter = CloudLoggingFormatter(options["format"], rename_fields=options["rename_fields"], datefmt=options["datefmt"])
    record = logging.LogRecord("streaming", logging.WARNING, __file__, 1, "stream %s offline", ("abc",), None)
    record.trace = "projects/p/traces/123"

    line = json.loads(formatter.format(record))

    assert line["severity"] == "WARNING" and line["message"] == "stream abc offline"
    assert line["time"] and line["logging.googleapis.com/trace"] == "projects/p/traces/123"
