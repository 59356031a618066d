"""Each analyzer's typed settings: ANALYZER_<KEY>_<FIELD> in the environment, validated once
at start-up with one line naming the variable, and used by the analyzer."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_processing.analyzers.settings import analyzer_settings_validated
from media_analyzer.config import ConfigError, load_config

BACKEND = Path(__file__).resolve().parents[2]


def validated(environ: dict[str, str]):
    return analyzer_settings_validated(load_config(environ).analyzer_settings)


def test_a_variable_sets_its_analyzers_field_and_the_others_keep_their_defaults():
    found = validated({"ANALYZER_LOGOS_MIN_PROBABILITY": "0.9", "ANALYZER_OBJECTS_IOU": "0.5"})

    assert found["logos"].min_probability == 0.9 and found["logos"].doubted_min_probability == 0.6
    assert (found["objects"].confidence, found["objects"].iou) == (0.25, 0.5)
    assert found["faces"].confidence == 0.3  # its own default, over the objects analyzer's


@pytest.mark.parametrize(
    "environ, message",
    [
        (
            {"ANALYZER_LOGOS_MIN_PROBABILITY": "high"},
            "ANALYZER_LOGOS_MIN_PROBABILITY='high': Input should be a valid number",
        ),
        (
            {"ANALYZER_FACES_CONFIDENCE": "1.5"},
            "ANALYZER_FACES_CONFIDENCE='1.5': Input should be less than or equal to 1",
        ),
        ({"ANALYZER_LOGOS_COLOUR": "red"}, "ANALYZER_LOGOS_COLOUR='red': not a setting of this analyzer"),
        ({"ANALYZER_LOGO_MIN_PROBABILITY": "0.9"}, "ANALYZER_LOGO_MIN_PROBABILITY: no analyzer 'logo'"),
    ],
)
def test_a_bad_variable_is_refused_with_one_line_naming_it(environ, message):
    with pytest.raises(ConfigError) as refused:
        validated(environ)

    assert str(refused.value).startswith(message), str(refused.value)


def test_the_platform_refuses_to_start_with_a_bad_analyzer_setting():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BACKEND,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ANALYZER_TEXT_MIN_CONFIDENCE": "-1"},
    )

    assert result.returncode != 0
    assert "ANALYZER_TEXT_MIN_CONFIDENCE='-1': Input should be greater than or equal to 0" in result.stderr
