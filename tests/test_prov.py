"""The PROV-O export parses back and answers provenance questions."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from infra_policy.engine.outputs.prov import (
    jsonld_text,
    provenance_graph,
    provenance_texts,
    provenance_triples,
    to_jsonld,
    to_turtle,
    turtle_text,
)
from infra_policy.engine.stages.justify import organization_stance_iri

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"

FACTS_OF_STANCE = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX ip: <https://w3id.org/infra-policy#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?subject ?predicate ?object WHERE {
  ?stance prov:wasDerivedFrom+ ?fact .
  ?fact a ip:Fact ; rdf:subject ?subject ; rdf:predicate ?predicate ; rdf:object ?object .
}
"""


def test_turtle_and_jsonld_parse_back_to_the_same_graph(evaluator):
    ev = evaluator.evaluate_file(MIXED)
    turtle = Graph().parse(data=to_turtle(ev, "test"), format="turtle")
    jsonld = Graph().parse(data=to_jsonld(ev, "test"), format="json-ld")
    assert len(turtle) == len(jsonld) == len(provenance_graph(ev, "test"))
    assert json.loads(to_jsonld(ev, "test"))["@context"]["prov"] == "http://www.w3.org/ns/prov#"


def test_sparql_finds_the_facts_a_stance_derives_from(evaluator):
    ev = evaluator.evaluate_file(MIXED)
    g = Graph().parse(data=to_turtle(ev, "test"), format="turtle")
    stance = URIRef(organization_stance_iri(ev.decision.organization.id))
    rows = {tuple(str(t) for t in row) for row in g.query(FACTS_OF_STANCE, initBindings={"stance": stance})}
    stated = {(str(s), str(p), str(o)) for s, p, o in ev.document.graph}
    assert rows and rows <= stated
    w = next(w for w in ev.decision.workloads if w.profile.name == "Claims triage")
    used = {(f.subject, str(t[1]), str(t[2])) for a in w.assessments for f in w.grounds(a.firing) for t in f.triples}
    assert used <= rows


def test_every_firing_is_an_activity_with_its_rule_as_plan(evaluator):
    ev = evaluator.evaluate_file(MIXED)
    g = provenance_graph(ev, "test")
    firings = [n for n, d in ev.justification.graph.nodes(data=True) if d["kind"] == "firing"]
    query = """PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?plan WHERE { ?firing a prov:Activity ; prov:qualifiedAssociation ?a . ?a prov:hadPlan ?plan }"""
    for firing in firings:
        (row,) = list(g.query(query, initBindings={"firing": URIRef(firing)}))
        rule = ev.justification.graph.nodes[firing]["rule"]
        assert str(row[0]).endswith("/rule/" + rule)
    generated = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX ip: <https://w3id.org/infra-policy#>
        ASK { ?e a ip:Assessment . FILTER NOT EXISTS { ?e prov:wasGeneratedBy ?f . ?f a prov:Activity } }"""
    assert not g.query(generated).askAnswer


def test_the_rdf_and_the_graph_name_the_same_nodes(evaluator):
    ev = evaluator.evaluate_file(MIXED)
    g = provenance_graph(ev, "test")
    subjects = {str(s) for s in g.subjects()}
    assert set(ev.justification.graph.nodes) <= subjects


def test_exports_are_deterministic(evaluator):
    first, second = evaluator.evaluate_file(MIXED), evaluator.evaluate_file(MIXED)
    assert to_turtle(first, "x") == to_turtle(second, "x")
    assert to_jsonld(first, "x") == to_jsonld(second, "x")


def test_computed_numbers_are_entities_derived_from_their_inputs(evaluator):
    ev = evaluator.evaluate_file(EXAMPLES / "northwind-cost-model.ttl")
    g = Graph().parse(data=to_turtle(ev, "test"), format="turtle")
    query = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX ip: <https://w3id.org/infra-policy#>
        SELECT ?c WHERE { ?c a ip:Computation . FILTER NOT EXISTS { ?c prov:wasDerivedFrom+ ?f . ?f a ip:Fact } }"""
    computations = list(g.query("PREFIX ip: <https://w3id.org/infra-policy#> SELECT ?c WHERE { ?c a ip:Computation }"))
    assert computations, "the cost example must export its computations"
    assert list(g.query(query)) == []


def test_the_written_documents_are_exactly_the_provenance_graph_for_every_example(evaluator):
    for path in sorted(EXAMPLES.glob("*.ttl")):
        ev = evaluator.evaluate_file(path)
        expected = provenance_graph(ev, "test")
        assert isomorphic(Graph().parse(data=to_turtle(ev, "test"), format="turtle"), expected), path.name
        assert isomorphic(Graph().parse(data=to_jsonld(ev, "test"), format="json-ld"), expected), path.name


# -- the documents are written straight from the justification graph (provenance_texts): byte for byte
#    what rdflib's terms give through turtle_text and jsonld_text, for any label, value and IRI

_TEXT = st.text(alphabet=st.sampled_from(["a", "Z", " ", '"', "'", "\\", "\n", "\r", "\t", "é", "<", "#", "\x01"]))
_IRI = st.sampled_from(
    [
        "urn:infra-policy:fact/1",
        "urn:infra-policy:firing/w/r",
        "https://w3id.org/infra-policy#Acme",
        "https://w3id.org/infra-policy#cloud-2",
        'urn:x:"quoted"',  # no serializer can write it: both refuse
    ]
)
_OBJECT = st.sampled_from(
    ['"12"^^<http://www.w3.org/2001/XMLSchema#decimal>', "true", "3", '"x"@en', "<https://w3id.org/infra-policy#High>"]
)
_VALUE = st.one_of(_TEXT, st.integers(-5, 10**20), st.booleans(), st.floats(allow_nan=False, width=32))


@st.composite
def _justification(draw) -> nx.DiGraph:
    kinds = ["fact", "rule", "firing", "assessment", "tally", "stance", "parameter", "computed", "claim"]
    graph = nx.DiGraph()
    nodes = draw(st.lists(st.tuples(_IRI, st.sampled_from(kinds)), min_size=1, max_size=8, unique_by=lambda n: n[0]))
    for iri, kind in nodes:
        attrs = {"kind": kind, "label": draw(st.one_of(_TEXT, st.integers(0, 9)))}
        if kind == "fact":
            attrs.update(subject=draw(_IRI), property=draw(_IRI), object=draw(_OBJECT))
            if draw(st.booleans()):
                attrs["line"] = draw(st.integers(1, 500))
            attrs["assumed"] = draw(st.booleans())
        elif kind not in ("rule", "firing"):
            attrs.update(
                {key: draw(_VALUE) for key in draw(st.sets(st.sampled_from(["stance", "rule", "cloud_weight"])))}
            )
        graph.add_node(iri, **attrs)
    for a, b in draw(st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)), max_size=10)):
        if a[0] != b[0]:
            graph.add_edge(a[0], b[0], relation=draw(st.sampled_from(["plan", "used", "grounds"])))
    return graph


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_justification(), _TEXT)
def test_the_documents_are_what_rdflibs_terms_give_for_any_graph(graph, version):
    triples = provenance_triples(graph, version)
    try:
        reference = turtle_text(triples), jsonld_text(triples)
    except Exception as refused:
        with pytest.raises(type(refused)):
            provenance_texts(graph, version)
        return
    turtle, jsonld = provenance_texts(graph, version)
    assert (turtle, jsonld) == reference
    expected = Graph()
    for triple in triples:
        expected.add(triple)
    assert isomorphic(Graph().parse(data=turtle, format="turtle"), expected)
    assert isomorphic(Graph().parse(data=jsonld, format="json-ld"), expected)


def test_the_site_writes_the_same_documents_as_the_rdf_terms_for_every_example(evaluator):
    for path in sorted(EXAMPLES.glob("*.ttl")):
        ev = evaluator.evaluate_file(path)
        triples = provenance_triples(ev.justification.graph, "9.9")
        assert provenance_texts(ev.justification.graph, "9.9") == (turtle_text(triples), jsonld_text(triples)), path


def test_an_iri_that_needs_escaping_is_written_by_rdflib():
    graph = nx.DiGraph()
    graph.add_node("urn:infra-policy:tab\tin-iri", kind="stance", label="x", stance="cloud")
    graph.add_node("urn:infra-policy:rule/r", kind="rule", label="r")
    graph.add_edge("urn:infra-policy:rule/r", "urn:infra-policy:tab\tin-iri", relation="plan")
    triples = provenance_triples(graph, "1")
    assert provenance_texts(graph, "1") == (turtle_text(triples), jsonld_text(triples))
