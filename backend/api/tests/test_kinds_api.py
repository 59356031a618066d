"""`GET /api/kinds/`: the kinds, labels and colours the plug-ins declare, for the dashboard."""

import gc
from collections.abc import Sequence

import pytest

from ai_processing.analyzers import registry
from ai_processing.analyzers.base import NO_CONTEXT, Analyzer, Context, Finding, Frame, Kind

pytestmark = pytest.mark.django_db


def test_every_plug_in_kind_is_served_with_its_label_and_colour(api):
    response = api.get("/api/kinds/")

    assert response.status_code == 200
    kinds = {kind["key"]: kind for kind in response.json()}
    # The colours the dashboard drew before it asked the API.
    assert {key: kinds[key]["colour"] for key in ["object", "face", "logo", "text", "brand"]} == {
        "object": "#22d3ee",
        "face": "#facc15",
        "logo": "#f472b6",
        "text": "#a3e635",
        "brand": "#fb923c",
    }
    assert kinds["brand"] == {
        "key": "brand",
        "label": "Brands",
        "colour": "#fb923c",
        "boxes": True,
        "analyzers": ["text"],
    }
    assert kinds["logo"]["analyzers"] == ["cloud", "logos"]
    assert kinds["object"]["analyzers"] == ["cloud", "objects"]
    assert not kinds["scene"]["boxes"] and not kinds["visual"]["boxes"]  # whole-frame: no box, no toggle
    boxes = [kind["boxes"] for kind in response.json()]
    assert boxes == sorted(boxes, reverse=True)  # the toggles' kinds first


def test_kinds_need_a_signed_in_user(client):
    assert client.get("/api/kinds/").status_code in (401, 403)


def test_plug_ins_that_declare_one_kind_agree_on_it():
    declared: dict[str, Kind] = {}
    for analyzer_type in registry.analyzer_types().values():
        for kind in analyzer_type.kinds:
            if isinstance(kind, Kind):
                assert declared.setdefault(kind.key, kind) == kind


@pytest.fixture
def new_plug_in():
    """A plug-in as a new file would add it, seen by the registry only during the test."""
    types = dict(registry.analyzer_types())  # filled (and cached) before the new class exists

    class Sharpness(Analyzer):
        key = "sharpness-test"
        kinds = (Kind("sharpness", "Sharpness", "#38bdf8"), "undeclared")

        def load(self) -> None:
            pass

        def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
            return [[] for _ in frames]

    types[Sharpness.key] = Sharpness
    original = registry.analyzer_types
    registry.analyzer_types = lambda: types
    registry.declared_kinds.cache_clear()
    yield
    registry.analyzer_types = original
    registry.declared_kinds.cache_clear()
    types.clear()
    del Sharpness
    gc.collect()  # out of Analyzer.__subclasses__() again
    # Gone again for the tests after this one (a teardown check, not a test of its own that
    # would pass trivially when run alone or first).
    assert "sharpness-test" not in registry.analyzer_types()
    assert not any(entry.kind.key == "sharpness" for entry in registry.declared_kinds())
    assert "Sharpness" not in {sub.__name__ for sub in Analyzer.__subclasses__()}


def test_a_new_plug_in_s_kind_is_served_with_nothing_else_changed(api, new_plug_in):
    kinds = {kind["key"]: kind for kind in api.get("/api/kinds/").json()}

    assert kinds["sharpness"] == {
        "key": "sharpness",
        "label": "Sharpness",
        "colour": "#38bdf8",
        "boxes": True,
        "analyzers": ["sharpness-test"],
    }
    # Named by its key only: shown with a neutral colour.
    assert kinds["undeclared"]["colour"] == registry.DEFAULT_KIND_COLOUR
    assert kinds["undeclared"]["label"] == "Undeclared"


def test_a_kind_colour_must_be_hex():
    with pytest.raises(ValueError, match="#rrggbb"):
        Kind("x", "X", "orange")
