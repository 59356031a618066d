"""The fuzz tests' properties with many examples: prints, per target, the cases run, the
failures (a 500 or an error envelope missing, a socket frame that crashed the consumer, a
parser exception) and the seconds taken.

    .venv/bin/python bench/fuzz/fuzz.py --cases 100000 --target rtmp
    .venv/bin/python bench/fuzz/fuzz.py --cases 25000            # every parser target
    .venv/bin/python bench/fuzz/fuzz.py --cases api=100000 --cases socket=20000 --cases images=2000
    .venv/bin/python bench/fuzz/fuzz.py --cases 100000 --seconds 300 --target api   # whichever comes first

`--cases` and `--seconds` take `N` (every target) or `TARGET=N` (that one), and may be given
again; a target named in a `TARGET=N` is run without `--target`. `--seconds` stops a target
after that long and reports the cases it ran.

Parser targets (rtmp, rtmp-mutated, amf0, amf0-mutated, amf0-roundtrip) take microseconds a
case. The Django targets make a request each against a throwaway test database, each target
as a user of its own, quotas lifted (so creation paths stay exercised past the first 50 streams):
`api` (every write endpoint's JSON, the endpoint drawn per case), `socket` (live socket
frames through the ASGI app), `images` (brand reference images) and `videos` (video
uploads, each accepted one remuxed in the background); `uploads` is both. Media go to a
temporary folder, removed at the end. The strategies and checks are imported from the test
files, not copied."""

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "media_analyzer.settings.test")

from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PARSERS = ["rtmp", "rtmp-mutated", "amf0", "amf0-mutated", "amf0-roundtrip"]
DJANGO = ["api", "socket", "images", "videos"]
GROUPS = {"parsers": PARSERS, "uploads": ["images", "videos"], "all": PARSERS + DJANGO}


def parser_target(name):
    from streaming.tests import test_fuzz_ingest as t

    return {
        "rtmp": (t.rtmp_bytes_inputs, t.check_rtmp),
        "rtmp-mutated": (t.rtmp_mutated_inputs, t.check_rtmp),
        "amf0": (t.amf0_bytes_inputs, t.check_amf0),
        "amf0-mutated": (t.amf0_mutated_inputs, t.check_amf0),
        "amf0-roundtrip": (st.lists(t.amf0_values, max_size=4), t.check_amf0_round_trip),
    }[name]


def django_target(name, user):
    from api.tests import test_fuzz_api as api
    from api.tests import test_fuzz_live_socket as sock

    if name == "api":
        fixture = api.Fixture(user)
        # Each endpoint's strategy built once (a flatmap built it again every case: two thirds of the time).
        strategy = st.one_of(
            *(st.tuples(st.just(i), api.bodies(serializer)) for i, serializer in enumerate(api._SERIALIZERS))
        )
        return strategy, lambda pair: api.check_endpoint(fixture, *pair)
    if name == "socket":
        fixture = sock.SocketFixture(user)
        return st.lists(sock.frames, min_size=1, max_size=8), lambda sent: sock.check_frames(fixture, sent)
    fixture = api.Fixture(user)
    if name == "images":
        return api.image_files, lambda content: api.check_image_upload(fixture, content)
    return api.video_files, lambda content: api.check_video_upload(fixture, content)


class _OutOfTime(BaseException):
    """Ends a target at its --seconds: not an Exception, so Hypothesis neither records it as a
    failure nor shrinks it."""


def run(name, strategy, check, cases, seconds=None):
    counts = {"cases": 0, "failures": 0}
    first_failure, kinds = [], Counter()
    started = time.perf_counter()
    deadline = None if seconds is None else started + seconds

    def property_(value):
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime
        counts["cases"] += 1
        try:
            check(value)
        except Exception as exc:  # counted and reported; the run goes on to the requested count
            counts["failures"] += 1
            kinds[f"{type(exc).__name__}: {exc!s:.80}"] += 1
            if not first_failure:
                first_failure.append(f"{type(exc).__name__}: {exc!s:.300} on {value!r:.300}")

    try:
        settings(
            max_examples=cases,
            deadline=None,
            database=None,
            phases=[Phase.generate],  # failures are counted above, never raised: nothing to shrink
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,  # no "reproduce with @seed" note when --seconds ends a target
        )(given(strategy)(property_))()
    except _OutOfTime:
        pass
    elapsed = time.perf_counter() - started
    counts["seconds"] = elapsed
    print(
        f"{name:15s} cases {counts['cases']:7d}  failures {counts['failures']}  "
        f"({elapsed:.1f} s, {1000 * elapsed / max(1, counts['cases']):.2f} ms a case)",
        flush=True,
    )
    if first_failure:
        print(f"{'':15s} first failure: {first_failure[0]}", flush=True)
        for kind, number in kinds.most_common(5):
            print(f"{'':15s} {number:7d} x {kind}", flush=True)
    return counts


def per_target(values, option, kind=int):
    """['5000', 'api=100000'] -> ({'api': 100000}, 5000): TARGET=N entries, and a plain N."""
    named, default = {}, None
    for value in values or []:
        target, _, number = value.rpartition("=")
        try:
            parsed = kind(number)
        except ValueError:
            raise SystemExit(f"{option} {value}: expected N or TARGET=N") from None
        if target and target not in PARSERS + DJANGO:
            raise SystemExit(f"{option} {value}: no target {target!r} (targets: {', '.join(PARSERS + DJANGO)})")
        if target:
            named[target] = parsed
        else:
            default = parsed
    return named, default


def django_start():
    """A throwaway test database and media folder; quotas lifted."""
    import django
    from django.conf import settings as django_settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()
    config = django_settings.CONFIG
    quotas = {name: 10**9 for name in type(config).model_fields if name.startswith("quota_")}
    django_settings.CONFIG = config.model_copy(
        update={"data_dir": Path(tempfile.mkdtemp(prefix="media-analyzer-fuzz-")), "analyzers": [], **quotas}
    )  # an accepted upload is remuxed, not analysed
    media = django_settings.MEDIA_ROOT = django_settings.CONFIG.media_root
    database = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    return media, database


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", action="append", metavar="N|TARGET=N", help="examples (default 25000)")
    parser.add_argument("--seconds", action="append", metavar="S|TARGET=S", help="stop a target after this long")
    parser.add_argument("--target", action="append", choices=PARSERS + DJANGO + list(GROUPS))
    args = parser.parse_args()
    cases, default_cases = per_target(args.cases, "--cases")
    budgets, default_budget = per_target(args.seconds, "--seconds", float)
    default_cases = 25000 if default_cases is None else default_cases
    import logging

    logging.disable(logging.ERROR)  # a refused request logs a line, a 500 its traceback: counted instead
    targets = args.target or list(cases) or ["parsers"]
    names = list(dict.fromkeys(n for t in targets for n in GROUPS.get(t, [t])))
    total = {"cases": 0, "failures": 0, "seconds": 0.0}

    def add(counts):
        for key, value in counts.items():
            total[key] += value

    for name in [n for n in names if n in PARSERS]:
        add(run(name, *parser_target(name), cases.get(name, default_cases), budgets.get(name, default_budget)))
    django_names = [n for n in names if n in DJANGO]
    if django_names:
        media, database = django_start()
        from django.contrib.auth import get_user_model

        try:
            for name in django_names:
                # A user of its own: a fixture's brand name is taken once per user.
                user = get_user_model().objects.create_user(username=f"fuzz-{name}", password="correct horse battery")
                target = django_target(name, user)
                add(run(name, *target, cases.get(name, default_cases), budgets.get(name, default_budget)))
        finally:
            from ai_processing.dispatch import pool_drain

            pool_drain()  # accepted uploads remux in the background: done before their folder goes
            shutil.rmtree(media, ignore_errors=True)
            from django.db import connection

            connection.creation.destroy_test_db(database, verbosity=0)
    print(f"{'total':15s} cases {total['cases']:7d}  failures {total['failures']}  ({total['seconds']:.1f} s)")
    sys.exit(1 if total["failures"] else 0)


if __name__ == "__main__":
    main()
