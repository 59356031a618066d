"""The fuzz tests' properties with many examples: prints, per target, the cases run and failures.

    .venv/bin/python bench/fuzz/fuzz.py --cases 100000 --target rtmp
    .venv/bin/python bench/fuzz/fuzz.py --cases 25000            # every parser target
    .venv/bin/python bench/fuzz/fuzz.py --cases 2000 --target api --target socket --target uploads

Parser targets (rtmp, rtmp-mutated, amf0, amf0-mutated, amf0-roundtrip) take microseconds a
case and carry the bulk; the Django targets (api: every write endpoint, socket, uploads) make
a request each against a throwaway test database and are meant for a few thousand cases.
The properties are imported from the test files, not copied."""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "media_analyzer.settings.test")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PARSERS = ["rtmp", "rtmp-mutated", "amf0", "amf0-mutated", "amf0-roundtrip"]
DJANGO = ["api", "socket", "uploads"]


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
        count = len(fixture.endpoints())
        strategy = st.integers(0, count - 1).flatmap(lambda i: st.tuples(st.just(i), api.bodies(api._SERIALIZERS[i])))
        return strategy, lambda pair: api.check_endpoint(fixture, *pair)
    if name == "socket":
        fixture = sock.SocketFixture(user)
        return st.lists(sock.frames, min_size=1, max_size=8), lambda sent: sock.check_frames(fixture, sent)
    fixture = api.Fixture(user)
    strategy = st.one_of(st.tuples(st.just("image"), api.image_files), st.tuples(st.just("video"), api.video_files))
    return strategy, lambda pair: (api.check_image_upload if pair[0] == "image" else api.check_video_upload)(
        fixture, pair[1]
    )


def run(name, strategy, check, cases):
    counts = {"cases": 0, "failures": 0}
    first_failure = []

    def property_(value):
        counts["cases"] += 1
        try:
            check(value)
        except Exception as exc:  # counted and reported; the run goes on to the requested count
            counts["failures"] += 1
            if not first_failure:
                first_failure.append(f"{type(exc).__name__}: {exc!s:.300} on {value!r:.300}")

    started = time.perf_counter()
    settings(
        max_examples=cases,
        deadline=None,
        database=None,
        suppress_health_check=list(__import__("hypothesis").HealthCheck),
    )(given(strategy)(property_))()
    seconds = time.perf_counter() - started
    print(f"{name:15s} cases {counts['cases']:7d}  failures {counts['failures']}  ({seconds:.1f} s)", flush=True)
    if first_failure:
        print(f"{'':15s} first failure: {first_failure[0]}", flush=True)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=25000, help="examples per target")
    parser.add_argument("--target", action="append", choices=PARSERS + DJANGO + ["parsers", "all"])
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)  # a refused connection or request logs a line each
    targets = args.target or ["parsers"]
    names = [n for t in targets for n in (PARSERS if t == "parsers" else PARSERS + DJANGO if t == "all" else [t])]
    total = {"cases": 0, "failures": 0}
    django_names = [n for n in names if n in DJANGO]
    for name in [n for n in names if n in PARSERS]:
        for key, value in run(name, *parser_target(name), args.cases).items():
            total[key] += value
    if django_names:
        import django
        from django.db import connection
        from django.test.utils import setup_test_environment

        django.setup()
        setup_test_environment()
        connection.creation.create_test_db(verbosity=0)
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user(username="fuzz", password="correct horse battery")
        for name in django_names:
            for key, value in run(name, *django_target(name, user), args.cases).items():
                total[key] += value
    print(f"{'total':15s} cases {total['cases']:7d}  failures {total['failures']}")
    sys.exit(1 if total["failures"] else 0)


if __name__ == "__main__":
    main()
