"""The stream socket through the real ASGI application: auth, snapshot, contract, bad input."""

from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from ai_processing.analyzers.base import Box, Finding
from ai_processing.services import results_store
from api.tests.protocol import assert_valid_message
from media_analyzer.asgi import application
from streaming.models import MediaSegment
from streaming.services import stream_create, stream_go_live

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


async def connect(stream_id, user=None, token=None, headers=ORIGIN) -> WebsocketCommunicator:
    if user is not None:
        token = (await sync_to_async(Token.objects.get_or_create)(user=user))[0].key
    query = f"?token={token}" if token else ""
    communicator = WebsocketCommunicator(application, f"/ws/streams/{stream_id}/{query}", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def store_frame(stream, seq=0, label="cup"):
    segment, _ = MediaSegment.objects.get_or_create(
        stream=stream,
        seq=seq,
        defaults=dict(
            file="segments/x.ts",
            duration=2.0,
            start_pts=seq * 2.0,
            program_date_time=datetime(2026, 11, 24, 12, 0, seq * 2, tzinfo=UTC),
            bytes=1,
        ),
    )
    finding = Finding("object", label, 0.875, Box(0.1, 0.2, 0.3, 0.4))
    results_store(
        segment=segment,
        pts=[segment.start_pts + 0.5],
        findings=[[("objects", finding)]],
        timings={"objects": 3.2},
        analyzers=["objects"],
    )


@pytest.fixture
def owned_stream(user):
    return stream_create(owner=user, name="cam")[0]


async def test_snapshot_then_live_events_follow_the_schema(user, owned_stream):
    await sync_to_async(store_frame)(owned_stream, seq=0, label="earlier")
    socket = await connect(owned_stream.id, user=user)

    snapshot = await socket.receive_json_from(timeout=5)
    await sync_to_async(stream_go_live)(stream=owned_stream)
    await sync_to_async(store_frame)(owned_stream, seq=1, label="now")
    state = await socket.receive_json_from(timeout=5)
    frame = await socket.receive_json_from(timeout=5)

    for message in (snapshot, state, frame):
        assert_valid_message(message)
    assert snapshot["type"] == "snapshot" and snapshot["stream"]["status"] == "offline"
    assert [f["detections"][0]["label"] for f in snapshot["frames"]] == ["earlier"]  # joined mid-stream
    assert (state["type"], state["status"]) == ("stream.state", "live")
    assert frame["type"] == "analysis.frame" and frame["segment_seq"] == 1 and frame["pts"] == 2.5
    assert frame["pdt"].startswith("2026-11-24T12:00:02.5")
    assert frame["detections"][0]["box"] == {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
    assert (state["seq"], frame["seq"]) == (snapshot["seq"] + 1, snapshot["seq"] + 2)  # numbered, none missed
    await socket.disconnect()


async def test_a_viewer_joining_later_is_told_the_number_of_the_last_message(user, owned_stream):
    first = await connect(owned_stream.id, user=user)
    await first.receive_json_from(timeout=5)
    await sync_to_async(stream_go_live)(stream=owned_stream)
    state = await first.receive_json_from(timeout=5)

    later = await connect(owned_stream.id, user=user)
    snapshot = await later.receive_json_from(timeout=5)
    await sync_to_async(store_frame)(owned_stream, seq=1)

    assert snapshot["seq"] == state["seq"]  # so the next it gets, seq + 1, shows nothing was missed
    assert (await later.receive_json_from(timeout=5))["seq"] == snapshot["seq"] + 1
    assert (await first.receive_json_from(timeout=5))["seq"] == state["seq"] + 1  # one number for all viewers
    await first.disconnect()
    await later.disconnect()


async def assert_closed_with(socket: WebsocketCommunicator, code: int) -> None:
    assert (await socket.receive_output(timeout=5))["code"] == code
    await socket.disconnect()  # the server side finishes too; nothing outlives the test


async def test_anonymous_viewer_is_closed_4401(owned_stream):
    await assert_closed_with(await connect(owned_stream.id), 4401)


async def test_bad_token_is_closed_4401(owned_stream):
    await assert_closed_with(await connect(owned_stream.id, token="not-a-token"), 4401)


async def test_a_token_client_without_an_origin_header_connects(user, owned_stream):
    """Not a browser, so no other site can drive it: the token alone signs it in."""
    socket = await connect(owned_stream.id, user=user, headers=[])

    assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
    await socket.disconnect()


async def test_without_an_origin_header_a_session_cookie_signs_nobody_in(user, owned_stream, client):
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    await assert_closed_with(await connect(owned_stream.id, headers=[(b"cookie", cookie)]), 4401)


async def test_a_foreign_origin_is_closed_4403_with_a_reason(user, owned_stream):
    socket = await connect(owned_stream.id, user=user, headers=[(b"origin", b"https://evil.example")])

    closed = await socket.receive_output(timeout=5)
    assert closed["code"] == 4403 and "https://evil.example not allowed" in closed["reason"]
    await socket.disconnect()


async def test_another_users_stream_is_closed_4404(make_user, owned_stream):
    mallory = await sync_to_async(make_user)("mallory")
    await assert_closed_with(await connect(owned_stream.id, user=mallory), 4404)


async def test_malformed_messages_get_errors_and_the_socket_lives_on(user, owned_stream):
    socket = await connect(owned_stream.id, user=user)
    await socket.receive_json_from(timeout=5)  # snapshot

    await socket.send_to(text_data="{not json")
    malformed = await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "subscribe", "to": "everything"})
    unknown = await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "ping"})
    pong = await socket.receive_json_from(timeout=5)

    for message in (malformed, unknown, pong):
        assert_valid_message(message)
    assert [malformed["code"], unknown["code"], pong["type"]] == ["malformed", "unknown_type", "pong"]
    await socket.disconnect()


async def test_a_players_report_of_what_it_drew_becomes_the_drawn_stage(user, owned_stream):
    from ai_processing.selectors import pipeline_stats

    socket = await connect(owned_stream.id, user=user)
    await socket.receive_json_from(timeout=5)  # snapshot
    report = {
        "type": "player.drawn",
        "frames": [
            {"after_s": 0.4, "own_frame": True},
            {"after_s": 1.0, "own_frame": True},
            {"after_s": None, "own_frame": False},  # arrived after its frame played
        ],
    }
    assert_valid_message(report, sender="ClientMessage")

    await socket.send_json_to(report)
    await socket.send_json_to(report)  # within REPORT_EVERY_S: refused, not counted
    too_often = await socket.receive_json_from(timeout=5)
    stats = await sync_to_async(pipeline_stats)(stream=owned_stream, depths={"realtime": 0, "batch": 0})

    assert (too_often["type"], too_often["code"]) == ("error", "too_often")
    assert stats["stages"]["drawn"] == {"p50": 1.0, "p95": 1.0}
    assert stats["drawn_on_frame"] == pytest.approx(2 / 3, abs=1e-3)
    assert_valid_message({**stats, "v": 1})
    await socket.disconnect()


@pytest.mark.parametrize(
    "frames",
    [
        [{"after_s": -1, "own_frame": True}],
        [{"after_s": "soon", "own_frame": True}],
        [{"after_s": 1e9, "own_frame": True}],
        [{"after_s": 0.1, "own_frame": 1}],
        [{"after_s": 0.1}],
        [{"after_s": 0.1, "own_frame": True}] * 51,
        "all of them",
    ],
)
async def test_a_malformed_drawn_report_gets_an_error_and_counts_nothing(user, owned_stream, frames):
    from ai_processing.player_draws import player_draws_recent

    socket = await connect(owned_stream.id, user=user)
    await socket.receive_json_from(timeout=5)  # snapshot

    await socket.send_json_to({"type": "player.drawn", "frames": frames})
    error = await socket.receive_json_from(timeout=5)

    assert (error["type"], error["code"]) == ("error", "malformed")
    assert await sync_to_async(player_draws_recent)(stream_id=str(owned_stream.id)) == ([], None)
    await socket.disconnect()


async def test_an_oversized_message_closes_the_socket(user, owned_stream):
    socket = await connect(owned_stream.id, user=user)
    await socket.receive_json_from(timeout=5)

    await socket.send_to(text_data="x" * 10_000)

    await assert_closed_with(socket, 1009)


async def test_segment_summaries_and_pipeline_stats_follow_the_schema(user, owned_stream):
    from ai_processing.stats import stats_publish_once

    socket = await connect(owned_stream.id, user=user)
    await socket.receive_json_from(timeout=5)  # snapshot
    await sync_to_async(stream_go_live)(stream=owned_stream)
    await socket.receive_json_from(timeout=5)  # stream.state
    await sync_to_async(store_frame)(owned_stream, seq=0)
    frame, segment = await socket.receive_json_from(timeout=5), await socket.receive_json_from(timeout=5)

    assert await sync_to_async(stats_publish_once)() == 1  # one live stream
    stats = await socket.receive_json_from(timeout=5)

    for message in (frame, segment, stats):
        assert_valid_message(message)
    assert (segment["type"], segment["state"], segment["summary"]["detections"]) == (
        "analysis.segment",
        "done",
        {"object": 1},
    )
    assert stats["type"] == "pipeline.stats" and stats["frames_per_s"] > 0 and stats["dropped"] == 0
    assert stats["latency_p50_s"] is not None and set(stats["queue_depth"]) == {"realtime", "batch"}
    await socket.disconnect()


def seen_with_alert(stream, user):
    """Brand sightings stored, exposure recorded, and an alert fired, before anyone watches."""
    from ai_processing.services import brand_create
    from exposure.services import alert_rule_create, exposure_record

    brand = brand_create(owner=user, name="Acme")
    alert_rule_create(owner=user, name="Acme on air", brand=brand, condition="appears")
    segment = MediaSegment.objects.create(
        stream=stream,
        seq=0,
        file="segments/x.ts",
        duration=2.0,
        start_pts=0,
        program_date_time=datetime(2026, 11, 24, 12, tzinfo=UTC),
        bytes=1,
    )
    finding = Finding("logo", "Acme", 0.9, Box(0.1, 0.2, 0.3, 0.4), {"brand_id": brand.pk, "source": "logo"})
    results_store(segment=segment, pts=[0.5, 1.0], findings=[[("logos", finding)]] * 2, timings={}, analyzers=["logos"])
    exposure_record(segment=segment, interval_s=0.5, thumbnails={})


async def test_a_viewer_joining_later_gets_the_brand_totals_and_recent_alerts(user, owned_stream):
    await sync_to_async(seen_with_alert)(owned_stream, user)
    socket = await connect(owned_stream.id, user=user)

    snapshot = await socket.receive_json_from(timeout=5)

    assert_valid_message(snapshot)
    assert [(b["brand"], b["screen_time_s"]) for b in snapshot["exposure"]] == [("Acme", 1.0)]
    assert [a["rule"] for a in snapshot["alerts"]] == ["Acme on air"]
    await socket.disconnect()
