"""Unit tests of the site's renderers: layout, chart, names, records, pages."""

from __future__ import annotations

import itertools
import json

import networkx as nx
import pytest
from conftest import EXAMPLES
from sitecheck import Page

from infra_policy.engine.outputs import export
from infra_policy.engine.outputs.explain import why_not
from infra_policy.engine.outputs.prov import to_jsonld, to_turtle
from infra_policy.engine.records.record import record_body, seal
from infra_policy.site.anchors import node_anchor, slugify
from infra_policy.site.chart import balance_chart
from infra_policy.site.layout import NODE_HEIGHT, draw, layers_of
from infra_policy.site.records import (
    RecordError,
    evaluated,
    from_evaluation,
    justification_graph,
    read_record,
    read_records,
)
from infra_policy.site.render import SiteRenderer, value_text


@pytest.fixture(scope="module")
def acme(evaluator):
    ev = evaluator.evaluate_file(EXAMPLES / "acme-mixed-workloads.ttl")
    return ev, export.decision_dict(ev, evaluator.policy)


def test_graph_rebuilt_from_json_equals_the_engines(acme):
    ev, data = acme
    rebuilt = justification_graph(json.loads(json.dumps(data)))
    original = ev.justification.graph
    assert set(rebuilt.nodes) == set(original.nodes)
    assert set(rebuilt.edges) == set(original.edges)
    for node, attrs in original.nodes(data=True):
        assert rebuilt.nodes[node]["kind"] == attrs["kind"]
        assert rebuilt.nodes[node]["label"] == attrs["label"]


def test_layout_places_every_node_once_and_conclusions_left_of_their_premises(acme):
    graph = justification_graph(acme[1])
    drawing = draw(graph)
    placed = {n.id: n for n in drawing.nodes}
    assert set(placed) == set(graph.nodes) and len(drawing.nodes) == graph.number_of_nodes()
    assert len(drawing.edges) == graph.number_of_edges()
    for u, v in graph.edges:
        assert placed[u].x > placed[v].x, f"{u} supports {v} but is not drawn to its right"
    columns: dict[int, list[int]] = {}
    for n in drawing.nodes:
        columns.setdefault(n.x, []).append(n.y)
        assert n.x >= 0 and n.y >= 0 and n.y + NODE_HEIGHT <= drawing.height
    for ys in columns.values():
        ys.sort()
        assert all(b - a >= NODE_HEIGHT for a, b in itertools.pairwise(ys)), "nodes overlap in a column"


def test_premises_sit_just_before_their_first_use():
    graph = nx.DiGraph([("fact", "firing1"), ("firing1", "a"), ("a", "firing2"), ("rule2", "firing2")])
    layers = layers_of(graph)
    assert layers["rule2"] == layers["firing2"] - 1 == 2
    assert layers["fact"] == 0


def test_chart_follows_factor_order_and_one_scale(kb):
    labels = {f: kb.factors[f].label for f in kb.factors}
    order = {f: kb.factors[f].order for f in kb.factors}
    chart = balance_chart(
        [{"factor": "scalability", "cloud": 3, "in-house": 0}, {"factor": "privacy", "cloud": 1, "in-house": 3}],
        labels,
        order,
    )
    assert [r.factor for r in chart.rows] == sorted(["scalability", "privacy"], key=order.get)
    privacy = next(r for r in chart.rows if r.factor == "privacy")
    scalability = next(r for r in chart.rows if r.factor == "scalability")
    assert privacy.in_house_width == scalability.cloud_width > 0
    assert abs(3 * privacy.cloud_width - privacy.in_house_width) <= 2  # one scale, up to rounding
    assert (chart.cloud_total, chart.in_house_total) == (4, 3)
    assert labels["privacy"] in chart.summary and "in-house 3" in chart.summary


def test_empty_chart_says_so(kb):
    chart = balance_chart([], {}, {})
    assert chart.rows == () and chart.summary == "No factor weighed on either side."


def test_names_are_stable_and_safe():
    assert slugify("Acme Insurance") == "acme-insurance"
    assert slugify("<script>alert(1)</script>") == "script-alert-1-script"
    assert slugify("Ærø Café") == "r-cafe"
    assert slugify("中文") == "organization"
    assert node_anchor("urn:x") == node_anchor("urn:x") != node_anchor("urn:y")


def test_value_text():
    assert value_text(["GDPR", "HIPAA"]) == "GDPR, HIPAA"
    assert value_text(True) == "true" and value_text(900.0) == "900" and value_text(0.5) == "0.5"


def test_decision_page_shows_placement_reasons_missing_facts_and_trail(kb, policy, acme):
    ev, data = acme
    renderer = SiteRenderer(kb, policy)
    files = dict(renderer.render([evaluated(from_evaluation(ev, policy, "@prefix ip: <x> .\n", "test"), "acme.ttl")]))
    slug = next(p for p in files if p.startswith("decisions/") and p.endswith(".json")).removesuffix(".json")
    page = Page(files[f"{slug}.html"].decode())
    text = " ".join(" ".join(page.text).split())
    for w in data["workloads"]:
        assert w["name"] in text
    assert "Why not" in text and "What would change it" in text
    # the fewest changes toward another stance, in words, with what was searched
    assert "state the model availability as hosted only" in text and "Searched: every single change" in text
    # Every node of the justification graph has its permalink entry and a box in the SVG.
    anchors = {node_anchor(n) for n in ev.justification.graph}
    assert anchors <= page.ids
    svg_links = {a["href"][1:] for tag, a in page.tags if tag == "a" and a.get("class", "").startswith("node ")}
    assert svg_links == anchors
    assert json.loads(files[f"{slug}.json"]) == data
    assert sum(1 for tag, _ in page.tags if tag == "svg") == 1 + len(data["workloads"])


def test_read_record_rejects_what_is_not_a_decision(tmp_path):
    bad = tmp_path / "note.json"
    bad.write_text('{"format": "something/else"}', encoding="utf-8")
    with pytest.raises(RecordError, match=r"note\.json: not a decision document .*'something/else'"):
        read_record(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(RecordError, match=r"broken\.json: is not a recorded decision .*: not valid JSON"):
        read_record(broken)


def test_read_record_rejects_a_dangling_edge(tmp_path, acme):
    data = json.loads(json.dumps(acme[1]))
    data["justification"]["edges"].append({"from": "urn:nowhere", "to": "urn:else", "relation": "used"})
    path = tmp_path / "dangling.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RecordError, match="points to a node the graph does not have"):
        read_record(path)


def _page_of(files: dict[str, bytes]) -> tuple[str, Page, str]:
    slug = next(p for p in files if p.startswith("decisions/") and p.endswith(".html") and ".facts" not in p)
    page = Page(files[slug].decode())
    return slug.removesuffix(".html"), page, " ".join(" ".join(page.text).split())


def test_why_not_answers_are_the_engines(kb, policy, evaluator):
    ev = evaluator.evaluate_file(EXAMPLES / "acme-mixed-workloads.ttl")
    files = dict(SiteRenderer(kb, policy).render([evaluated(from_evaluation(ev, policy, "", "t"), "acme.ttl")]))
    _, _, text = _page_of(files)
    shown = 0
    for asked in ("cloud", "in-house", "hybrid"):
        for answer in why_not(ev, policy, asked):
            if answer.already:
                continue
            for missed in answer.stance_rules + answer.factor_rules[:5]:
                failed = missed.failure.sentence() if missed.failure.fact is not None else missed.failure.test
                assert failed in text, f"why not {asked} for {answer.name}: {failed!r} is not on the page"
                shown += 1
    assert shown > 5
    assert "needs the facts" not in text and "can only be told with the facts" not in text


def test_a_recorded_decision_says_why_not_needs_the_facts(kb, policy, evaluator, tmp_path):
    ev = evaluator.evaluate_file(EXAMPLES / "acme-mixed-workloads.ttl")
    (tmp_path / "acme.json").write_text(export.render_json(ev, policy), encoding="utf-8")
    files = dict(SiteRenderer(kb, policy).render(read_records(tmp_path)))
    _, _, text = _page_of(files)
    assert "can only be told with the facts" in text
    assert "infra-policy explain FACTS --why-not" in text
    # no failed test is claimed without the facts
    assert "did not decide" not in text


def test_rdf_twins_are_the_engines_prov_and_records_give_the_same(kb, policy, evaluator, tmp_path):
    ev = evaluator.evaluate_file(EXAMPLES / "northwind-cost-model.ttl")
    fresh = dict(SiteRenderer(kb, policy).render([evaluated(from_evaluation(ev, policy, "", "9.9"), "nw.ttl")]))
    slug, _, _ = _page_of(fresh)
    assert fresh[f"{slug}.prov.ttl"].decode() == to_turtle(ev, "9.9")
    assert fresh[f"{slug}.prov.jsonld"].decode() == to_jsonld(ev, "9.9")
    record = seal(record_body(ev, policy, {"infra-policy": "9.9"}))
    (tmp_path / "nw.json").write_text(json.dumps(record), encoding="utf-8")
    recorded = dict(SiteRenderer(kb, policy).render(read_records(tmp_path)))
    slug, _, _ = _page_of(recorded)
    # built from the record's justification graph, with the version of the engine that recorded it
    assert recorded[f"{slug}.prov.ttl"].decode() == to_turtle(ev, "9.9")
    assert recorded[f"{slug}.prov.jsonld"].decode() == to_jsonld(ev, "9.9")
    assert json.loads(recorded[f"{slug}.json"]) == record


def test_an_altered_record_is_refused(tmp_path, policy, evaluator):
    ev = evaluator.evaluate_file(EXAMPLES / "acme-mixed-workloads.ttl")
    record = seal(record_body(ev, policy, {"infra-policy": "1"}))
    record["decision"]["organization"]["stance"] = "cloud" if ev.decision.stance != "cloud" else "in-house"
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(RecordError, match=r"altered\.json: the record's id .* does not match its content"):
        read_record(path)


def test_cost_section_shows_status_break_even_formulas_and_missing_inputs(kb, policy, evaluator):
    ev = evaluator.evaluate_file(EXAMPLES / "northwind-cost-model.ttl")
    data = export.decision_dict(ev, policy)
    files = dict(SiteRenderer(kb, policy).render([evaluated(from_evaluation(ev, policy, "", "t"), "nw.ttl")]))
    _, page, text = _page_of(files)
    costed = [w for w in data["workloads"] if w["cost"]["status"] != "not-given"]
    assert costed, "the cost example must have costed workloads"
    sections = [a for tag, a in page.tags if tag == "section" and a.get("class") == "cost"]
    assert len(sections) == len(costed)
    for w in costed:
        for c in w["cost"]["computed"]:
            if c["fact"] != "breakEvenNever":
                assert c["formula"].removeprefix(c["fact"] + " = ") in text
        for m in w["cost"]["missing"]:
            assert f"ip:{m['fact']}" in text
    if any(w["cost"]["summary"].get("breakEvenMonths") == "never" for w in costed):
        assert "Break-even never" in text
    # computed facts and policy parameters have their own groups in the trail
    assert "Computed cost facts" in text and "Policy parameters" in text


def test_cost_section_of_an_incomplete_model_lists_what_is_missing(kb, policy, evaluator, facts_file):
    path = facts_file(
        """
ex:Org a ip:Organization ; ip:name "Half costed" ; ip:hasWorkload ex:W .
ex:W a ip:Workload ; ip:name "Drafts" ; ip:tokensPerMonth 200000000 .
"""
    )
    ev = evaluator.evaluate_file(path)
    cost = export.decision_dict(ev, policy)["workloads"][0]["cost"]
    assert cost["status"] == "incomplete" and cost["missing"]
    files = dict(SiteRenderer(kb, policy).render([evaluated(from_evaluation(ev, policy, "", "t"), "h.ttl")]))
    _, _, text = _page_of(files)
    assert "Incomplete" in text and "Cost inputs not given" in text
    for m in cost["missing"]:
        assert f"ip:{m['fact']}" in text
