"""What the fuzz tests share: the Hypothesis profile (the number of examples is set here,
once) and the strategies for hostile input. `bench/fuzz/fuzz.py` runs the same properties
with many more examples."""

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The normal suite runs a short sample; FUZZ_EXAMPLES raises it without touching the tests.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))

settings.register_profile(
    "fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the checkout; failures print their example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
FUZZ = settings.get_profile("fuzz")  # the parsers: microseconds an example
FUZZ_API = settings(FUZZ, max_examples=max(5, EXAMPLES // 5))  # a request through Django each
FUZZ_UPLOADS = settings(FUZZ, max_examples=max(5, EXAMPLES // 10))  # a file decoded or an ffmpeg run each

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
# Values of a wrong type for any field: numbers where text goes, text where numbers go, and so on.
wrong_typed = (
    json_values
    | st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "null", "true", "x" * 500, "\x00", "2026-13-45T99:99:99Z"])
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 1e308, -1e308, 0.0001])
)


@st.composite
def mutated(draw, valid: bytes, focus_from: int = 0) -> bytes:
    """`valid` with bytes flipped, inserted, deleted or the tail cut off; positions fall
    mostly at or after `focus_from` (past a handshake that is only ever echoed)."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        low = focus_from if focus_from < len(data) and draw(st.integers(0, 3)) else 0
        at = draw(st.integers(low, len(data) - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x08, 0x0A, 0x0C, 0x3F, 0x7F, 0x80, 0xC0, 0xFF]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)
