"""The streamed JSON writer gives byte for byte what json.dumps(indent=2, ensure_ascii=False) gives.

It encodes through orjson where orjson writes the same text and through its own encoder elsewhere
(tiny floats, integers beyond 64 bits, keys that are not strings, lone surrogates); lists may be
Lazy and items already Encoded, and long runs of items may be sorted on disk (SortedRuns).
"""

from __future__ import annotations

import json
import random

from hypothesis import given
from hypothesis import strategies as st

from infra_policy.engine.outputs.jsonstream import Lazy, SortedRuns, dumps, encoded, encoded_items, write_json
from tests.fuzzing import FUZZ_SETTINGS

FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-9, max_value=1e-4),
    st.sampled_from([1e-5, 1.5e-7, 0.00012, 1e16, 1e-4, 0.0, -0.0, 123456.789]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 4, max_value=2**70),
    FLOATS,
    st.text(),
    st.sampled_from(["\ud800 lone", "line\nbreak \x01\x1f\x7f \u2028", "3e-5 looks like a float", "é ü 中"]),
)
KEYS = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), FLOATS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=40,
)


def expected(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@FUZZ_SETTINGS
@given(VALUES)
def test_the_text_is_that_of_json_dumps(value):
    assert dumps(value) == expected(value)


@FUZZ_SETTINGS
@given(st.lists(VALUES, max_size=6), st.integers(min_value=1, max_value=50))
def test_lazy_lists_and_small_buffers_give_the_same_text(items, buffer_size):
    pieces: list[str] = []
    write_json({"items": Lazy(iter(items)), "after": items[:1]}, pieces.append, buffer_size=buffer_size)
    assert "".join(pieces) == expected({"items": items, "after": items[:1]})


def test_items_sorted_in_runs_on_disk_are_written_as_sorted_in_memory():
    rng = random.Random(7)
    entries = [{"id": f"urn:x:{rng.randrange(10_000):05d}", "n": i} for i in range(3_000)]
    unique = {e["id"]: e for e in reversed(entries)}  # a key repeated in several runs is written once
    runs = SortedRuns()
    try:
        for start in range(0, len(entries), 700):
            part = [unique[e["id"]] for e in entries[start : start + 700]]
            runs.add_run([(e["id"], text) for e, text in zip(part, encoded_items(part, 2), strict=True)])
        pieces: list[str] = []
        write_json({"nodes": Lazy(runs.merged())}, pieces.append)
    finally:
        runs.close()
    assert "".join(pieces) == expected({"nodes": [unique[k] for k in sorted(unique)]})


@FUZZ_SETTINGS
@given(st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=4), max_size=6), st.integers(1, 4))
def test_items_encoded_together_are_those_encoded_one_by_one(items, level):
    assert encoded_items(items, level) == [encoded(item, level) for item in items]
