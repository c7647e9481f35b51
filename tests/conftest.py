"""Shared fixtures: the real packaged knowledge base, policy and evaluator."""

from __future__ import annotations

import textwrap
import weakref
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.policy.ruleload import load_policy

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"

PREFIXES = """\
@prefix ip: <https://w3id.org/infra-policy#> .
@prefix ex: <https://example.com/test/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@pytest.fixture(scope="session")
def kb():
    return load_knowledge_base()


@pytest.fixture(scope="session")
def policy(kb):
    return load_policy(kb)


@pytest.fixture(scope="session")
def evaluator(kb, policy):
    return Evaluator(kb, policy)


@pytest.fixture
def facts_file(tmp_path):
    """Write a Turtle facts file (prefixes ip:, ex:, xsd: added) and return its path."""

    def write(body: str, name: str = "facts.ttl") -> Path:
        path = tmp_path / name
        path.write_text(PREFIXES + textwrap.dedent(body), encoding="utf-8")
        return path

    return write


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.ttl"))


class Runner(CliRunner):
    """click's runner, without the memory each run would otherwise keep.

    click remembers the text stream it writes to in a WeakKeyDictionary whose value is the
    stream itself (click/_compat.py, ``_make_cached_stream_func``), so every stream a runner
    captures stays alive with all its output: ~0.17 MB per evaluate in one process, which is
    what grew in long fuzz runs. Forgetting them after each run keeps such loops flat.
    """

    def invoke(self, *args, **kwargs):
        try:
            return super().invoke(*args, **kwargs)
        finally:
            _forget_captured_streams()


def _forget_captured_streams() -> None:
    import click._compat

    for cached in (click._compat._default_text_stdout, click._compat._default_text_stderr):
        for cell in getattr(cached, "__closure__", None) or ():
            if isinstance(cell.cell_contents, weakref.WeakKeyDictionary):
                cell.cell_contents.clear()


def invoke_cli(*args):
    """Run the real CLI in process (click's runner); every argument is turned into text."""
    return Runner().invoke(_main(), [str(a) for a in args], catch_exceptions=False)


def _main():
    from infra_policy.cli.main import main

    return main


@pytest.fixture
def run():
    return invoke_cli
