from datetime import UTC, datetime, timedelta

import pytest

from ai_processing.models import Detection, FrameAnalysis
from streaming.models import MediaSegment

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def detections(stream):
    segment = MediaSegment.objects.create(
        stream=stream, seq=0, file="segments/x.ts", duration=2.0, start_pts=0.0, program_date_time=T0, bytes=1
    )
    for index in range(10):
        pts = index * 0.5
        frame = FrameAnalysis.objects.create(segment=segment, stream=stream, pts=pts, pdt=T0 + timedelta(seconds=pts))
        Detection.objects.create(
            frame=frame, stream=stream, pts=pts, pdt=frame.pdt, analyzer="objects",
            kind="object" if index % 2 else "logo", label="cup", confidence=0.9, x=0.1, y=0.2, w=0.3, h=0.4,
        )  # fmt: skip


def test_time_range_by_wall_clock(api, stream, detections):
    response = api.get(
        f"/api/streams/{stream.id}/detections/",
        {"since": (T0 + timedelta(seconds=1)).isoformat(), "until": (T0 + timedelta(seconds=3)).isoformat()},
    )

    assert response.status_code == 200
    assert [item["pts"] for item in response.data["results"]] == [1.0, 1.5, 2.0, 2.5]
    assert response.data["results"][0]["box"] == {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}


def test_time_range_by_pts_and_kind_paginates(api, stream, detections):
    url = f"/api/streams/{stream.id}/detections/"
    first = api.get(url, {"since_pts": 0, "until_pts": 5, "kind": "object", "limit": 3}).data
    second = api.get(first["next"]).data

    pts = [item["pts"] for item in first["results"] + second["results"]]
    assert pts == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert second["next"] is None


def test_reversed_range_is_400(api, stream):
    response = api.get(f"/api/streams/{stream.id}/detections/", {"since_pts": 5, "until_pts": 1})

    assert response.status_code == 400
    assert "until_pts" in response.data["error"]["fields"]


def test_frames_of_a_range_come_in_the_sockets_shape(api, stream, detections):
    from api.tests.protocol import assert_valid_message

    response = api.get(f"/api/streams/{stream.id}/frames/", {"since_pts": 1, "until_pts": 2.5, "limit": 2})

    assert response.status_code == 200
    frames = response.data["results"] + api.get(response.data["next"]).data["results"]
    assert [frame["pts"] for frame in frames] == [1.0, 1.5, 2.0]
    for frame in frames:
        assert_valid_message(frame)
    assert frames[0]["detections"][0]["box"] == {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
