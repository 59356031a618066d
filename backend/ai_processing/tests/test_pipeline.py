"""The analysis job on real segments that ffmpeg makes: decode, sample, analyze, store."""

import subprocess
from datetime import timedelta

import imageio_ffmpeg
import pytest
from django.utils import timezone

from ai_processing.models import Detection, FrameAnalysis
from ai_processing.pipeline import segment_analyze
from streaming.models import MediaSegment
from streaming.services import stream_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "segments").mkdir()
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-t", "2", "-c:v", "libx264", "-g", "60", "-f", "mpegts", str(tmp_path / "segments" / "seg.ts")],
        check=True, timeout=60,
    )  # fmt: skip
    return "segments/seg.ts"


def segment_with_frames(media_root, frames, fps=15, name="frames.ts") -> str:
    """A 2 s-ish H.264 MPEG-TS segment of these RGB frames, under MEDIA_ROOT/segments."""
    (media_root / "segments").mkdir(exist_ok=True)
    height, width = frames[0].shape[:2]
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", f"{width}x{height}", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-f", "mpegts", str(media_root / "segments" / name)],
        input=b"".join(frame.tobytes() for frame in frames), check=True, timeout=60,
    )  # fmt: skip
    return f"segments/{name}"


def make_segment(stream, name, seq=0, age_s=0.0):
    return MediaSegment.objects.create(
        stream=stream,
        seq=seq,
        file=name,
        duration=2.0,
        start_pts=seq * 2.0,
        bytes=1,
        program_date_time=timezone.now() - timedelta(seconds=2 + age_s),
    )


def test_a_segment_is_sampled_analyzed_and_stored(stream, segment_file):
    segment = make_segment(stream, segment_file, seq=3)

    assert segment_analyze(segment.pk) == "done"

    frames = list(FrameAnalysis.objects.filter(segment=segment).order_by("pts"))
    assert [frame.pts for frame in frames] == [6.0, 6.5, 7.0, 7.5]  # 2 fps from start_pts
    assert frames[1].pdt - frames[0].pdt == timedelta(seconds=0.5)
    assert "visual" in frames[0].timings
    assert Detection.objects.filter(frame__segment=segment, kind="visual").count() == 4


def test_a_segments_time_is_traced_stage_by_stage_into_the_pipeline_stats(stream, segment_file):
    from ai_processing.selectors import pipeline_stats

    segment = make_segment(stream, segment_file, seq=0)
    # Registered a second ago and dispatched half a second later: the trace's "dispatch".
    registered = timezone.now() - timedelta(seconds=1)
    MediaSegment.objects.filter(pk=segment.pk).update(created_at=registered)
    dispatched_at = registered.timestamp() + 0.5
    assert segment_analyze(segment.pk, dispatched_at=dispatched_at) == "done"

    trace = MediaSegment.objects.get(pk=segment.pk).trace
    analyzers = sorted(stage for stage in trace if stage.startswith("analyze:"))  # those that ran here
    assert "analyze:visual" in analyzers
    assert set(trace) == {"close", "dispatch", "queue", "decode", "analyze", *analyzers, "store", "send", "total"}
    assert all(trace[stage] >= 0 for stage in ("dispatch", "queue", "decode", "analyze", *analyzers, "store", "send"))
    assert trace["dispatch"] == pytest.approx(0.5, abs=1e-3) and 0.45 <= trace["queue"] < 5  # waited since
    assert trace["analyze:visual"] > 0 and trace["decode"] > 0
    assert max(trace[name] for name in analyzers) <= trace["analyze"] + 0.01  # each is part of them all
    inside = trace["dispatch"] + trace["queue"] + trace["decode"] + trace["analyze"] + trace["store"] + trace["send"]
    assert trace["close"] + inside <= trace["total"] + 0.05  # the stages are parts of the whole
    stages = pipeline_stats(stream=stream, depths={})["stages"]
    order = ["close", "dispatch", "queue", "decode", "analyze", *analyzers, "store", "send", "total"]
    assert list(stages) == order  # pipeline order
    assert stages["decode"]["p50"] == pytest.approx(trace["decode"], abs=1e-3)


def test_the_analyzers_of_a_segment_run_at_once(stream, segment_file, monkeypatch):
    """Each analyzer waits inside its analyze until the other is in its own: run one after the
    other, they would both time out and fail."""
    import threading

    from ai_processing.analyzers.base import NO_CONTEXT
    from ai_processing.analyzers.loaded import analyzer_get

    meeting, threads = threading.Barrier(2, timeout=10), {}
    for key in ("visual", "logos"):
        analyzer_type = type(analyzer_get(key))

        def analyze(self, frames, context=NO_CONTEXT, original=analyzer_type.analyze):
            threads[self.key] = threading.current_thread().name
            meeting.wait()
            return original(self, frames, context)

        monkeypatch.setattr(analyzer_type, "analyze", analyze)
    stream_update(stream=stream, enabled_analyzers=["visual", "logos"])
    segment = make_segment(stream, segment_file)

    assert segment_analyze(segment.pk) == "done"

    segment.refresh_from_db()
    assert "failed" not in segment.state_reason
    assert {"visual", "logos"} <= set(FrameAnalysis.objects.filter(segment=segment).first().timings)
    assert threads["logos"] == threading.current_thread().name  # it reads the database: the job's thread
    assert threads["visual"].startswith("analyzer")


def test_a_rerun_replaces_results_instead_of_duplicating(stream, segment_file):
    segment = make_segment(stream, segment_file)
    segment_analyze(segment.pk)
    MediaSegment.objects.filter(pk=segment.pk).update(state="analyzing")  # its worker died after storing

    assert segment_analyze(segment.pk) == "done"
    assert FrameAnalysis.objects.filter(segment=segment).count() == 4
    assert segment_analyze(segment.pk) == "done"  # done is final: nothing runs again


def test_a_poisoned_segment_fails_with_its_reason(stream, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "bad.ts").write_bytes(b"\x47" + b"garbage" * 1000)
    segment = make_segment(stream, "bad.ts")

    assert segment_analyze(segment.pk) == "failed"

    segment.refresh_from_db()
    assert segment.state_reason.startswith(("cannot decode", "segment has no video"))
    assert segment_analyze(segment.pk) == "failed"  # and never loops


@pytest.mark.parametrize(
    ("behind_s", "pts", "left_out"),
    [
        (0.0, [6.0, 6.5, 7.0, 7.5], None),  # in time: the stream's 2 fps, every analyzer
        (4.0, [6.0, 7.0], []),  # 0.4 of the 10 s bound: half the rate
        (7.0, [6.0], ["visual"]),  # 0.7 of it: a quarter (0.5 fps), without the optional analyzers
    ],
)
def test_realtime_analysis_behind_live_gives_way_in_steps_before_skipping(
    stream, segment_file, settings, monkeypatch, django_capture_on_commit_callbacks, behind_s, pts, left_out
):
    from ai_processing import services
    from ai_processing.analyzers.loaded import analyzer_get

    sent = []
    monkeypatch.setattr(services, "broadcast", lambda stream_id, message: sent.append(message))

    settings.CONFIG = settings.CONFIG.model_copy(update={"realtime_lag_bound_s": 10.0})
    monkeypatch.setattr(type(analyzer_get("visual")), "optional", True)  # faces' model is not installed here
    stream_update(stream=stream, enabled_analyzers=["visual", "logos"])
    segment = make_segment(stream, segment_file, seq=3, age_s=behind_s)

    with django_capture_on_commit_callbacks(execute=True):
        assert segment_analyze(segment.pk) == "done"

    frames = FrameAnalysis.objects.filter(segment=segment).order_by("pts")
    assert [frame.pts for frame in frames] == pts
    assert "logos" in frames[0].timings and ("visual" in frames[0].timings) == (left_out != ["visual"])
    [summary] = [m for m in sent if m["type"] == "analysis.segment"]
    segment.refresh_from_db()
    if left_out is None:
        assert "degraded" not in summary and "degraded" not in segment.state_reason
    else:
        assert summary["degraded"] == {"fps": len(pts) / 2, "left_out": left_out}  # frames per 2 s segment
        assert segment.state_reason.startswith("degraded:") and "behind live" in segment.state_reason


def test_realtime_skips_stale_segments_and_records_why(stream, segment_file):
    segment = make_segment(stream, segment_file, age_s=60)

    assert segment_analyze(segment.pk) == "skipped"

    segment.refresh_from_db()
    assert "behind live" in segment.state_reason


@pytest.mark.django_db(transaction=True)  # the backfill runs in a pool thread or a Celery worker
def test_a_stale_segment_is_analysed_later_for_the_record_when_the_stream_asks(stream, segment_file, analysis_workers):
    """Realtime mode skips it for the live view; then the backfill (the embedded pool, or the
    batch queue's worker) analyses it at the stream's rate, with no lag bound."""
    from media_analyzer.tests.waits import until

    stream_update(stream=stream, backfill_skipped=True)
    segment = make_segment(stream, segment_file, age_s=60)

    assert segment_analyze(segment.pk) == "skipped"
    assert "for the record" in MediaSegment.objects.get(pk=segment.pk).state_reason

    assert until(lambda: MediaSegment.objects.get(pk=segment.pk).state == "done", 60, interval_s=0.1)
    assert FrameAnalysis.objects.filter(segment=segment).count() == 4  # 2 fps over 2 s: not degraded
    assert segment_analyze(segment.pk, backfill=True) == "done"  # a second delivery finds it done


def test_a_backfill_takes_only_a_segment_skipped_as_stale(stream, segment_file):
    stream_update(stream=stream, analysis_enabled=False)
    stopped = make_segment(stream, segment_file, age_s=60)
    assert segment_analyze(stopped.pk) == "skipped"
    stream_update(stream=stream, analysis_enabled=True)  # resumed: only a stale skip is backfilled

    assert segment_analyze(stopped.pk, backfill=True) == "skipped"  # left as it was, not claimed
    assert MediaSegment.objects.get(pk=stopped.pk).state_reason == "analysis is stopped for this stream"
    assert not FrameAnalysis.objects.filter(segment=stopped).exists()


def test_batch_never_skips_and_samples_denser(stream, segment_file):
    stream_update(stream=stream, processing_mode="batch")
    segment = make_segment(stream, segment_file, age_s=3600)

    assert segment_analyze(segment.pk) == "done"
    assert FrameAnalysis.objects.filter(segment=segment).count() == 8


def test_stopped_analysis_skips(stream, segment_file):
    stream_update(stream=stream, analysis_enabled=False)

    assert segment_analyze(make_segment(stream, segment_file).pk) == "skipped"


def test_batch_reads_brand_names_in_text_and_links_them(stream, settings, tmp_path):
    from PIL import Image, ImageDraw, ImageFont

    from ai_processing.services import brand_create

    settings.MEDIA_ROOT = tmp_path
    image = Image.new("RGB", (1280, 720), (30, 40, 60))
    ImageDraw.Draw(image).text((400, 300), "ACME", font=ImageFont.load_default(size=72), fill="white")
    image.save(tmp_path / "frame.png")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-loop", "1", "-framerate", "30", "-i",
                    str(tmp_path / "frame.png"), "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mpegts",
                    str(tmp_path / "text.ts")], check=True, timeout=60)  # fmt: skip
    acme = brand_create(owner=stream.owner, name="Acme", aliases=["Acme Inc"])
    stream_update(stream=stream, processing_mode="batch", enabled_analyzers=["text"], sampling_fps=1)
    segment = make_segment(stream, "text.ts")

    assert segment_analyze(segment.pk) == "done"

    brands = list(Detection.objects.filter(frame__segment=segment, kind="brand"))
    assert len(brands) == FrameAnalysis.objects.filter(segment=segment).count() == 2  # 1 s at batch's 2 fps
    brand = brands[0]
    assert (brand.label, brand.brand_id, brand.extra["source"]) == ("Acme", acme.pk, "ocr")
    assert abs(brand.x * 1280 - 400) < 25
