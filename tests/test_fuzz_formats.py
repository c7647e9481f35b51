"""Fuzzing the other formats: the same generated facts as N-Triples, N-Quads, TriG, JSON-LD and RDF/XML.

Unmutated, every format must give exactly the decision the Turtle file gives
(same stance, same facts digest); truncated or with bytes spliced in, it must
still end in a decision or a clear message.
"""

from __future__ import annotations

import json
import re

import pytest
from fuzzing import FUZZ_SETTINGS
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Dataset, Graph
from test_fuzz_facts import RUNNER, WORKDIR, evaluate_and_check, render, valid_facts

from infra_policy.cli.main import main

_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def turtle_text(statements) -> str:
    """The text values as parsed (JSON-style escapes in the generated Turtle are real characters)."""
    graph = Graph().parse(data=render(statements), format="turtle")
    return "".join(str(o) for o in graph.objects())


FORMATS = {".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld", ".rdf": "xml"}


def _serialize(turtle: str, fmt: str) -> str:
    graph = Graph().parse(data=turtle, format="turtle")
    if fmt in ("nquads", "trig"):
        dataset = Dataset()
        dataset.default_graph += graph
        return dataset.serialize(format=fmt)
    return graph.serialize(format=fmt)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's serializers, used to make the inputs
@FUZZ_SETTINGS
@given(valid_facts(), st.sampled_from(sorted(FORMATS)), st.sampled_from(["same", "truncate", "splice"]), st.data())
def test_every_format_decides_like_turtle_or_reports_clearly(statements, suffix, mutation, data):
    turtle = render(statements)
    text = _serialize(turtle, FORMATS[suffix]).encode("utf-8")
    if mutation == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif mutation == "splice":
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.binary(min_size=1, max_size=8)) + text[at:]
    status = evaluate_and_check(suffix, text)
    if mutation == "same" and suffix == ".rdf" and _XML_FORBIDDEN.search(turtle_text(statements)):
        # rdflib writes control characters into RDF/XML, which XML 1.0 forbids: a clear error is right.
        assert status == 2
    elif mutation == "same":
        assert status == 0
        (WORKDIR / "same.ttl").write_text(turtle, encoding="utf-8")
        (WORKDIR / f"same{suffix}").write_bytes(text)
        as_turtle = json.loads(RUNNER.invoke(main, ["evaluate", str(WORKDIR / "same.ttl"), "--format", "json"]).output)
        other = json.loads(RUNNER.invoke(main, ["evaluate", str(WORKDIR / f"same{suffix}"), "--format", "json"]).output)
        assert other["inputs"]["facts"] == as_turtle["inputs"]["facts"]
        assert other["organization"]["stance"] == as_turtle["organization"]["stance"]
