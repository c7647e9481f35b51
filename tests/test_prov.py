"""The PROV-O export parses back and answers provenance questions."""

from __future__ import annotations

import json

from conftest import EXAMPLES
from rdflib import Graph, URIRef

from infra_policy.engine.outputs.prov import provenance_graph, to_jsonld, to_turtle
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
    from rdflib.compare import isomorphic

    for path in sorted(EXAMPLES.glob("*.ttl")):
        ev = evaluator.evaluate_file(path)
        expected = provenance_graph(ev, "test")
        assert isomorphic(Graph().parse(data=to_turtle(ev, "test"), format="turtle"), expected), path.name
        assert isomorphic(Graph().parse(data=to_jsonld(ev, "test"), format="json-ld"), expected), path.name
