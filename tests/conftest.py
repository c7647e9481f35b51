"""Shared fixtures: the real packaged knowledge base, policy and evaluator."""

from __future__ import annotations

import textwrap
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


def invoke_cli(*args):
    """Run the real CLI in process (click's runner); every argument is turned into text."""
    return CliRunner().invoke(_main(), [str(a) for a in args], catch_exceptions=False)


def _main():
    from infra_policy.cli.main import main

    return main


@pytest.fixture
def run():
    return invoke_cli
