"""JSON written piece by piece, byte for byte what ``json.dumps(value, indent=2, ensure_ascii=False)`` gives.

Why: the standard library's encoder is pure Python once ``indent`` is set, and it needs the whole
document as one value, so a decision on 10,000 workloads was built twice in memory (as dicts and as
one string of ~300 MB). Here a list may be given as a :class:`Lazy` iterable whose items are made
one at a time and written as soon as they are made, so only one workload's entry is alive at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring  # the C implementation when available, as json.dumps uses

import orjson

INDENT = "  "


class Lazy:
    """A JSON array whose items are produced only while it is written."""

    def __init__(self, items: Iterable) -> None:
        self.items = items


class Encoded(str):
    """JSON text already encoded at the level it is written at (see :func:`encoded`): written as it is."""


def encoded(value: object, level: int) -> Encoded:
    """The text ``value`` has in a document where it is nested ``level`` deep (what :func:`write_json` writes)."""
    out = _Writer(lambda _: None, 1 << 62)
    _encode(value, level, out)
    return Encoded("".join(out.pieces))


def encoded_items(values: list, level: int) -> list[str]:
    """The texts of ``values`` as the items of a list, each at ``level``: ``[encoded(v, level) for v in values]``,
    in one pass of orjson when the items are dicts (a list of dicts is split back at its items' boundaries:
    a line at the items' own indentation that starts with ``{`` begins an item, nothing inside one)."""
    if not values:
        return []
    text = _fast(values, level - 1) if all(isinstance(v, dict) and v for v in values) else None
    if text is None:
        return [encoded(v, level) for v in values]
    inner = "\n" + INDENT * level
    body = text[len("[" + inner) : -len("\n" + INDENT * (level - 1) + "]")]
    items = body.split("," + inner + "{")
    return [items[0], *("{" + item for item in items[1:])]  # plain texts: wrap in Encoded to write them


class SortedRuns:
    """Items (a sort key and an :class:`Encoded` text) too many to sort in memory, sorted in runs on disk.

    Each run is sorted and written to a temporary file in blocks; :meth:`merged` then yields the texts
    of all runs in key order, an item repeated in several runs (same key) once. Keys are compared as
    Python compares them, so the order is what ``sorted`` would give in memory.
    """

    BLOCK = 4096

    def __init__(self) -> None:
        import tempfile

        self._directory = tempfile.TemporaryDirectory(prefix="infra-policy-runs.")
        self._runs: list[str] = []

    def add_run(self, items: list[tuple[object, str]], presorted: bool = False) -> None:
        """One run of (key, text) items, in any order (``presorted``: already in key order)."""
        import os
        import pickle

        if not items:
            return
        if not presorted:
            items = sorted(items, key=_first)
        path = os.path.join(self._directory.name, f"run-{len(self._runs)}")
        with open(path, "wb") as handle:
            for start in range(0, len(items), self.BLOCK):
                pickle.dump(items[start : start + self.BLOCK], handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(path)

    def merged(self) -> Iterator[Encoded]:
        import heapq

        handles = [open(path, "rb") for path in self._runs]  # noqa: SIM115 (closed below)
        try:
            previous = _NOTHING
            for key, text in heapq.merge(*(_items_of(h) for h in handles), key=_first):
                if key != previous:
                    previous = key
                    yield Encoded(text)
        finally:
            for handle in handles:
                handle.close()

    def close(self) -> None:
        self._directory.cleanup()


class RangedRuns:
    """Items (a sort key and a text) from several processes, sorted by ranges of keys instead of merged.

    Each writer (:meth:`write`, in any forked process) files its items by the range of their key, the
    ranges cut at ``boundaries`` (keys of the same type); the parent :meth:`adopt` s what was written;
    then each range is sorted on its own (:meth:`sorted_range`, in parallel in forked workers), and
    the ranges written one after the other give the texts of all items in key order, an item repeated
    (same key) once: what :class:`SortedRuns` gives, with the sorting shared out. The boundaries only
    decide how evenly.
    """

    def __init__(self, boundaries: list) -> None:
        import tempfile

        self.boundaries = boundaries
        self._directory = tempfile.TemporaryDirectory(prefix="infra-policy-ranges.")
        self._written: list[tuple[str, list[tuple[int, int]]]] = []

    @property
    def count(self) -> int:
        """How many ranges."""
        return len(self.boundaries) + 1

    def write(self, items: Iterable[tuple[object, str]]) -> tuple[str, list[tuple[int, int]]]:
        """File ``items`` by range: the file written and where each range's items are in it."""
        import bisect
        import pickle
        import tempfile

        by_range: list[list] = [[] for _ in range(self.count)]
        for item in items:
            by_range[bisect.bisect_right(self.boundaries, item[0])].append(item)
        handle, path = tempfile.mkstemp(prefix="ranges-", dir=self._directory.name)
        spans = []
        with open(handle, "wb") as stream:
            for part in by_range:
                start = stream.tell()
                pickle.dump(part, stream, protocol=pickle.HIGHEST_PROTOCOL)
                spans.append((start, stream.tell() - start))
        return path, spans

    def adopt(self, written: tuple[str, list[tuple[int, int]]]) -> None:
        self._written.append(written)

    def sorted_range(self, index: int) -> list[str]:
        """The texts of range ``index``, in key order, each key once."""
        import pickle

        items: list[tuple[object, str]] = []
        for path, spans in self._written:
            start, size = spans[index]
            with open(path, "rb") as stream:
                stream.seek(start)
                items += pickle.loads(stream.read(size))
        items.sort(key=_first)
        texts, previous = [], _NOTHING
        for key, text in items:
            if key != previous:
                previous = key
                texts.append(text)
        return texts

    def close(self) -> None:
        self._directory.cleanup()


def boundaries_of(keys: list, count: int) -> list:
    """At most ``count`` - 1 keys that cut ``keys`` (a sample of the keys to come) into ``count`` ranges of
    about the same size."""
    ordered = sorted(set(keys))
    return sorted({ordered[i * len(ordered) // count] for i in range(1, count)}) if ordered else []


_NOTHING = object()


def _first(item: tuple) -> object:
    return item[0]


def _items_of(handle) -> Iterator[tuple[object, str]]:
    import pickle

    while True:
        try:
            block = pickle.load(handle)
        except EOFError:
            return
        yield from block


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key(key: object) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    return json.dumps({key: 0})[1:-4]  # json's own rules for a non-string key (True → "true", 1 → "1")


class _Writer:
    """Collects pieces and hands them to ``write`` in blocks of about ``buffer_size`` characters."""

    def __init__(self, write: Callable[[str], object], buffer_size: int) -> None:
        self.write, self.buffer_size = write, buffer_size
        self.pieces: list[str] = []

    def flush(self, force: bool = False) -> None:
        # A piece may be a whole list item encoded at once (a workload's 30 kB): hand over at the
        # first large one too, or thousands of them would gather (140 MB for 4,096 workloads).
        pieces = self.pieces
        if force or len(pieces) >= self.buffer_size or (pieces and len(pieces[-1]) >= _LARGE_PIECE):
            self.write("".join(pieces))
            self.pieces = []


_LARGE_PIECE = 1024


def _encode(value: object, level: int, out: _Writer) -> None:
    # one recursive function appending to a list: several times faster than nested generators
    pieces = out.pieces
    if isinstance(value, Encoded):
        pieces.append(value)
    elif (fast := _fast(value, level)) is not None:
        pieces.append(fast)
    elif isinstance(value, str):
        pieces.append(encode_basestring(value))
    elif value is None:
        pieces.append("null")
    elif value is True:
        pieces.append("true")
    elif value is False:
        pieces.append("false")
    elif isinstance(value, int):
        pieces.append(int.__repr__(value))
    elif isinstance(value, float):
        pieces.append(_float(value))
    elif isinstance(value, dict):
        if not value:
            pieces.append("{}")
            return
        inner = "\n" + INDENT * (level + 1)
        separator = "{" + inner
        for key, item in value.items():
            pieces.append(separator + _key(key) + ": ")
            _encode(item, level + 1, out)
            pieces = out.pieces
            separator = "," + inner
        pieces.append("\n" + INDENT * level + "}")
    elif isinstance(value, (list, tuple, Lazy)):
        lazy = isinstance(value, Lazy)
        inner = "\n" + INDENT * (level + 1)
        first = "[" + inner
        separator = first
        for item in value.items if lazy else value:
            out.pieces.append(separator)
            _encode(item, level + 1, out)
            out.flush()  # a long list (or a Lazy one) is handed over as it is written, not held whole
            separator = "," + inner
        out.pieces.append("[]" if separator is first else "\n" + INDENT * level + "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Where orjson's text differs from json.dumps': a float below 1e-4 (json.dumps writes 1e-05 and
# 1.5e-07; orjson 0.00001 and 1.5e-7). Any text that may hold one is encoded by this module instead
# (a string that merely looks like one costs only time). orjson refuses what else it would write
# otherwise: integers beyond 64 bits, keys that are not strings, strings that are not valid UTF-8.
_SMALL_EXPONENT = re.compile(r"e-\d(?!\d)")  # a literal first: searched fast through megabytes


def _orjson_differs(text: str) -> bool:
    if "0.0000" in text:
        return True
    return any(m.start() and text[m.start() - 1].isdigit() for m in _SMALL_EXPONENT.finditer(text))


def _fast(value: object, level: int) -> str | None:
    """The text of ``value`` at ``level`` through orjson (C), when it is exactly what :func:`_encode` writes."""
    if isinstance(value, (str, Lazy)) or not isinstance(value, (dict, list, tuple)):
        return None
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError: something it does not write as json.dumps does
        return None
    if _orjson_differs(text):
        return None
    return text.replace("\n", "\n" + INDENT * level) if level else text


def write_json(value: object, write: Callable[[str], object], buffer_size: int = 4096) -> None:
    """Write the indented JSON text of ``value`` and a final newline through ``write``.

    Pieces are handed over after each item of a :class:`Lazy` list once ``buffer_size`` pieces have
    gathered, so memory holds one item's text at a time.
    """
    out = _Writer(write, buffer_size)
    _encode(value, 0, out)
    out.pieces.append("\n")
    out.flush(force=True)


def dumps(value: object) -> str:
    """The whole text at once: equal to ``json.dumps(value, indent=2, ensure_ascii=False) + "\\n"``."""
    pieces: list[str] = []
    write_json(value, pieces.append)
    return "".join(pieces)
