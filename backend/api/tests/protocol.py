"""The wire protocol's one schema, for tests to hold messages against."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "protocol" / "messages.schema.json"


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()), format_checker=FormatChecker())


def assert_valid_message(message: dict) -> None:
    errors = sorted(_validator().iter_errors(message), key=lambda error: error.path)
    assert not errors, f"{message.get('type')}: {[error.message for error in errors][:3]}"
