"""The wire protocol's one schema, for tests to hold messages against."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "protocol" / "messages.schema.json"


@cache
def _validator(sender: str) -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return Draft202012Validator({**schema, "oneOf": [{"$ref": f"#/$defs/{sender}"}]}, format_checker=FormatChecker())


def assert_valid_message(message: dict, sender: str = "ServerMessage") -> None:
    errors = sorted(_validator(sender).iter_errors(message), key=lambda error: error.path)
    assert not errors, f"{message.get('type')}: {[error.message for error in errors][:3]}"
