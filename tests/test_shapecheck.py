"""The quick shape check may only vouch for nodes pySHACL finds no fault with.

The quick check (engine/stages/shapecheck.py) lets validation skip pySHACL for the subjects it is sure
of; these tests run both on real graphs — every example, and random facts with the kinds of mistakes
people make — and require every node pySHACL reports to be among the ones the quick check doubts.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH

import infra_policy
from infra_policy.engine.stages.shapecheck import quick_check
from infra_policy.engine.stages.validate import _run_shacl, vocabulary_view
from infra_policy.engine.vocabulary import IP
from tests.fuzzing import FUZZ_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
KB = infra_policy.knowledge_base()
QUICK = quick_check(KB.shapes)
EX = "https://example.com/q/"


def _reported(view: Graph) -> set:
    conforms, results = _run_shacl(view, KB)
    if conforms:
        return set()
    return {results.value(r, SH.focusNode) for r in results.subjects(RDF.type, SH.ValidationResult)}


def test_the_packaged_shapes_have_a_quick_check():
    assert QUICK is not None
    assert {str(s.target) for s in QUICK.shapes} == {str(IP.Organization), str(IP.Workload)}


def test_every_example_passes_the_quick_check_so_pyshacl_is_skipped():
    for path in sorted((ROOT / "examples").glob("*.ttl")):
        document = infra_policy.validate(path)  # valid, as shipped
        assert document.organization
        view = vocabulary_view(Graph().parse(path))
        assert QUICK.doubtful(view) == set(), path.name


# Values the vocabulary allows and values it does not, for any property: numbers of every datatype
# (negative, zero, NaN, huge), booleans, strings with and without a language, ill-typed literals,
# IRIs of ours and of others, blank nodes.
VALUES = st.sampled_from(
    [
        Literal(3),
        Literal(0),
        Literal(-1),
        Literal("2.5", datatype=XSD.decimal),
        Literal("-0.5", datatype=XSD.decimal),
        Literal("1e3", datatype=XSD.double),
        Literal("NaN", datatype=XSD.double),
        Literal("INF", datatype=XSD.double),
        Literal("-INF", datatype=XSD.double),
        Literal("abc", datatype=XSD.integer),
        Literal("3", datatype=XSD.float),
        Literal("3", datatype=XSD.long),
        Literal(True),
        Literal("maybe", datatype=XSD.boolean),
        Literal("name"),
        Literal("name", lang="en"),
        Literal("name", datatype=XSD.string),
        Literal("2024-01-01", datatype=XSD.date),
        IP.Confidential,
        IP.Reliable,
        IP.Low,
        IP.GDPR,
        IP.OpenWeights,
        IP.Nowhere,
        URIRef(EX + "w1"),
        URIRef(EX + "thing"),
        BNode("b1"),
    ]
)
PROPERTIES = st.sampled_from(
    [IP[name] for name in sorted(KB.vocabulary.properties)] + [IP.hasWorkload, IP.dataSensitivty, RDFS.label]
)


@st.composite
def fact_graphs(draw) -> Graph:
    graph = Graph()
    org, workloads = URIRef(EX + "org"), [URIRef(EX + f"w{i}") for i in range(draw(st.integers(0, 3)))]
    graph.add((org, RDF.type, IP.Organization))
    for w in workloads:
        if draw(st.booleans()) or len(workloads) == 1:
            graph.add((w, RDF.type, IP.Workload))
        graph.add((org, IP.hasWorkload, w))
    subjects = [org, *workloads]
    for _ in range(draw(st.integers(0, 14))):
        graph.add((draw(st.sampled_from(subjects)), draw(PROPERTIES), draw(VALUES)))
    if draw(st.integers(0, 9)) == 0:
        graph.add((URIRef(EX + "thing"), RDF.type, draw(st.sampled_from([IP.Workload, IP.Organization]))))
    return graph


@FUZZ_SETTINGS
@given(fact_graphs())
def test_the_quick_check_doubts_every_node_pyshacl_reports(graph):
    view = vocabulary_view(graph)
    assert _reported(view) <= QUICK.doubtful(view)


def test_the_quick_check_doubts_each_kind_of_mistake():
    org, w = URIRef(EX + "org"), URIRef(EX + "w1")
    base = [(org, RDF.type, IP.Organization), (org, IP.hasWorkload, w), (w, RDF.type, IP.Workload)]
    mistakes = [
        (w, IP.itStaffFTE, Literal(-1)),  # below the minimum
        (w, IP.recoveryTimeObjectiveHours, Literal(0)),  # exclusive minimum
        (w, IP.dataSensitivity, IP.Secret),  # not among the allowed values
        (w, IP.dataSensitivity, Literal("Confidential")),  # a literal for an IRI
        (w, IP.hasDataCenter, Literal("yes")),  # wrong datatype
        (w, IP.dataSensitivty, IP.Confidential),  # closed shape: unknown property
        (w, IP.hasWorkload, org),  # a workload may not have workloads
        (org, IP.hasWorkload, URIRef(EX + "undeclared")),  # not typed ip:Workload
    ]
    for mistake in mistakes:
        view = Graph()
        for triple in (*base, mistake):
            view.add(triple)
        assert mistake[0] in _reported(view), mistake
        assert mistake[0] in QUICK.doubtful(view), mistake
    twice = Graph()
    for triple in (*base, (w, IP.itStaffFTE, Literal(1)), (w, IP.itStaffFTE, Literal(2))):
        twice.add(triple)
    assert QUICK.doubtful(twice) == {w}


def test_shapes_beyond_what_it_understands_get_no_quick_check():
    shapes = Graph()
    shapes += KB.shapes
    shapes.add((IP.WorkloadShape, SH.severity, SH.Warning))
    assert quick_check(shapes) is None
    sparql = Graph()
    sparql += KB.shapes
    sparql.add((IP.NameProperty, SH.sparql, BNode()))
    assert quick_check(sparql) is None
