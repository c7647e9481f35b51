"""What a facts file may be: its formats, its size limits, and quiet libraries.

Kept free of heavy imports so the command line can offer the formats and show
the default limits without loading rdflib.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra_policy.engine.errors import FactsError, InputError

# Format names a user may give (--input-format) → rdflib parser name, and how
# the format is called in messages.
INPUT_FORMATS: dict[str, tuple[str, str]] = {
    "turtle": ("turtle", "Turtle"),
    "n-triples": ("nt", "N-Triples"),
    "n-quads": ("nquads", "N-Quads"),
    "trig": ("trig", "TriG"),
    "json-ld": ("json-ld", "JSON-LD"),
    "rdf-xml": ("xml", "RDF/XML"),
}

# Extension → format name.  Anything else is refused rather than guessed.
EXTENSIONS: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "n-triples",
    ".nq": "n-quads",
    ".trig": "trig",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
    ".rdf": "rdf-xml",
    ".owl": "rdf-xml",
    ".xml": "rdf-xml",
}


@dataclass(frozen=True)
class Limits:
    """Bounds on one facts file.

    A facts file describes one organization: the examples are a few kilobytes
    and under a hundred triples; an organization's whole inventory of AI
    workloads, exported from a CMDB, may have ten thousand of them with about
    ten facts each (3 MB, 110,000 triples). The defaults leave room for that
    with some facts more per workload, and still refuse a file that would take
    minutes or gigabytes: parsing is bounded by the triples, evaluation by the
    workloads (bench/portfolio.py measures both). Triples and workloads are
    counted as the parser makes them, so a file is refused before it is read whole.
    """

    max_bytes: int = 10_000_000
    max_triples: int = 250_000
    # each workload is evaluated on its own: ten thousand take tens of seconds and a few hundred MB
    max_workloads: int = 10_000


DEFAULT_LIMITS = Limits()


# The rule engine (durable-rules) reads numbers from JSON without exponents, so
# a float Python would write with one (1e+16, 1e-05, inf) cannot be compared.
# Integers of any size are fine for it; NaN equals nothing.
SMALLEST_NUMBER, LARGEST_NUMBER = 1e-4, 1e15
COMPARABLE_NUMBERS = (
    f"a number must be finite, below {LARGEST_NUMBER:,.0f} and, unless it is 0, at least {SMALLEST_NUMBER}"
)


def comparable_number(value: object) -> bool:
    """Whether the rule engine can compare ``value`` (non-numbers are someone else's concern)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return True
    if math.isnan(value):
        return False
    return value == 0 or SMALLEST_NUMBER <= abs(value) < LARGEST_NUMBER


def usable_number(value: object) -> bool:
    """Whether a stated fact can be used: comparable, and — since the cost model computes in
    floats — an integer a float can hold (a 1 followed by 400 zeros cannot)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= sys.float_info.max
    return comparable_number(value)


def read_text_input(
    path: Path,
    max_bytes: int,
    *,
    what: str = "facts file",
    example: str = "facts.ttl",
    text_kind: str = "RDF text",
    error: type[InputError] = FactsError,
    flag: str = "--max-bytes",
) -> str:
    """The UTF-8 text of an input file, or ``error`` with a message saying why not.

    Refuses, each with its own sentence: a missing path, a directory, an
    unreadable file, one larger than ``max_bytes`` (read no further), a binary
    file and text that is not UTF-8.  Records and logs can reuse it with their
    own ``what``, ``error`` and ``flag``.
    """
    from infra_policy.engine.files import read_bounded

    if path.is_dir():
        raise error(f"{path}: is a directory; give the path of a {what} (for example {example}).")
    data = read_bounded(path, max_bytes, error, what, flag)
    return decode_input(data, path, max_bytes, text_kind=text_kind, error=error, flag=flag)


def decode_input(
    data: bytes,
    path: Path,
    max_bytes: int,
    *,
    text_kind: str = "RDF text",
    error: type[InputError] = FactsError,
    flag: str = "--max-bytes",
) -> str:
    """The UTF-8 text of bytes read from ``path`` (a file, or ``<stdin>``), refusing as above."""
    if len(data) > max_bytes:
        raise error(
            f"{path}: the file is more than the limit of {max_bytes:,} bytes; if it is right, raise the limit ({flag})."
        )
    if b"\x00" in data[:8192]:
        raise error(f"{path}: looks like a binary file, not {text_kind} (it contains NUL bytes).")
    try:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte order mark; it is not content.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: is not valid UTF-8 (byte {exc.start}); {text_kind} files must be UTF-8.") from exc


_CHATTY_LOGGERS = ("rdflib", "pyshacl", "durable")


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Keep the libraries' own warnings and log lines off the terminal.

    rdflib and pySHACL report through ``warnings`` and ``logging``; every
    problem they see reaches the user as one of our messages instead.
    """
    levels = {name: logging.getLogger(name).level for name in _CHATTY_LOGGERS}
    try:
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


__all__ = [
    "COMPARABLE_NUMBERS",
    "DEFAULT_LIMITS",
    "EXTENSIONS",
    "INPUT_FORMATS",
    "Limits",
    "comparable_number",
    "decode_input",
    "quiet_libraries",
    "read_text_input",
    "usable_number",
]
