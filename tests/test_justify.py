"""Stage 6: the justification graph is acyclic and grounded, and says so when not."""

from __future__ import annotations

import networkx as nx
import pytest
from conftest import example_files

from infra_policy.engine.stages.justify import JustificationGraph, fact_iri, organization_stance_iri


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_every_example_has_a_sound_justification(evaluator, path):
    ev = evaluator.evaluate_file(path)
    g = ev.justification.graph
    assert nx.is_directed_acyclic_graph(g)
    assert ev.justification.problems() == []
    org = organization_stance_iri(ev.decision.organization.id)
    assert g.nodes[org]["stance"] == ev.decision.stance
    facts_behind = {n for n in nx.ancestors(g, org) if g.nodes[n]["kind"] == "fact"}
    assert facts_behind, "the organization's stance must rest on stated facts"
    for w in ev.decision.workloads:
        for a in w.assessments:
            for stated in a.firing.facts:
                for triple in stated.triples:
                    assert nx.has_path(g, fact_iri(triple), org)
        cited = {c for a in w.assessments for c in a.claims}
        claim_nodes = {n for n in nx.ancestors(g, org) if g.nodes[n]["kind"] == "claim"}
        assert {evaluator.kb.claims[c].iri for c in cited} <= claim_nodes


def test_a_cycle_or_an_ungrounded_conclusion_is_reported():
    g = nx.DiGraph()
    g.add_node("f", kind="fact", label="a fact")
    g.add_node("a", kind="firing", label="A")
    g.add_node("b", kind="assessment", label="B")
    g.add_node("lonely", kind="stance", label="Lonely stance")
    g.add_edges_from([("f", "a"), ("a", "b")], relation="used")
    assert JustificationGraph(g).problems() == ["Lonely stance (lonely) has no path back to a stated fact"]
    g.add_edge("b", "a", relation="used")
    assert any("has a cycle" in p for p in JustificationGraph(g).problems())


def test_graph_export_is_sorted_and_stable(evaluator):
    path = example_files()[0]
    first = evaluator.evaluate_file(path).justification.to_dict()
    second = evaluator.evaluate_file(path).justification.to_dict()
    assert first == second
    ids = [n["id"] for n in first["nodes"]]
    assert ids == sorted(ids)
