"""Render the policy site: engine results in, ``(relative path, bytes)`` pairs out.

Nothing here writes files or reaches the network; :mod:`.publish` puts the
pages in place.  Every text that comes from facts, records or rules goes
through jinja2's autoescaping, and every link is relative so the site works
from ``file://`` and from any static host.  Output is deterministic: inputs
are sorted, nothing depends on time or on where the files lie.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from importlib import resources

import jinja2
import networkx as nx
from rdflib import RDFS
from rdflib.namespace import DCTERMS

from infra_policy.engine.analysis.diff import diff_decisions
from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.outputs import jsonstream
from infra_policy.engine.outputs.export import changes_left_out_text
from infra_policy.engine.outputs.wording import fact_words, value_words
from infra_policy.engine.policy.rulecatalog import catalogue
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import Assess, value_text
from infra_policy.engine.policy.tally import STANCES
from infra_policy.engine.stages.cost import number_text
from infra_policy.engine.stages.justify import conclusion_iri
from infra_policy.engine.vocabulary import IP

from .anchors import claim_anchor, factor_page, node_anchor, rule_anchor, slugify, workload_anchor
from .chart import balance_chart
from .fragments import (
    References,
    badge,
    claim_links,
    fact_list,
    graph_edges,
    graph_nodes,
    source_rows,
    trail_entries,
)
from .layout import NODE_HEIGHT, NODE_WIDTH, PlacedNode, draw, shorten
from .records import ASKED, SiteDecision, justification_graph

MARKER = ".infra-policy-site"
# Where a rule or factor fired: this many links, then a count (a site can hold thousands of decisions).
FIRED_SHOWN = 50
ASSETS = ("site.css", "site.js")
# Reading order of the trail: conclusions first, then what they rest on.
TRAIL_KINDS = (
    "stance",
    "tally",
    "constraint",
    "assessment",
    "derived",
    "computed",
    "firing",
    "rule",
    "parameter",
    "claim",
    "fact",
)
KIND_TITLES = {
    "stance": "Stances",
    "tally": "Tallies",
    "constraint": "Requirements",
    "assessment": "Assessments",
    "derived": "Intermediate conclusions",
    "computed": "Computed cost facts",
    "parameter": "Policy parameters",
    "firing": "Rule firings",
    "rule": "Rules applied",
    "claim": "Claims of the article",
    "fact": "Stated facts",
}
# The graph's legend, from the premises to the stances as the drawing reads right to left.
LEGEND = (
    "fact",
    "claim",
    "rule",
    "parameter",
    "firing",
    "computed",
    "derived",
    "assessment",
    "constraint",
    "tally",
    "stance",
)
_SHOWN_ATTRS = ("rule", "subject", "property", "value", "line", "stance", "cloud_weight", "in_house_weight")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("infra_policy.site") / "templates")),
        autoescape=True,
        auto_reload=False,  # templates ship with the package; no need to stat them per page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["value"] = value_text
    env.filters["stance_label"] = lambda stance: stance[:1].upper() + stance[1:]
    env.filters["rule_anchor"] = rule_anchor
    env.filters["claim_anchor"] = claim_anchor
    env.filters["node_anchor"] = node_anchor
    env.filters["factor_page"] = factor_page
    env.filters["middle_short"] = middle_short
    return env


def middle_short(text: str, limit: int) -> str:
    """``text`` cut in the middle to at most ``limit`` characters (pages give the full text as a title)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


@dataclass(frozen=True)
class Extras:
    """What a decision page shows of the rest of the site: the record it was also published from, its history."""

    record: dict | None = None  # {"id": record id, "source": file name, "file": the record's file in the site}
    history: str | None = None  # the history page of its organization, relative to the site root
    records: int = 0  # how many records of its organization the history page shows


class _Named:
    """The organization's name and stance of a decision document (or of its summary) in ``data``."""

    data: dict

    @property
    def name(self) -> str:
        return self.data["organization"]["name"]

    @property
    def stance(self) -> str:
        return self.data["organization"].get("stance", "")


@dataclass
class _Published(_Named):
    """A decision with the names it is published under."""

    decision: SiteDecision
    slug: str
    graph: nx.DiGraph
    extras: Extras = Extras()

    @property
    def data(self) -> dict:
        return self.decision.data


@dataclass
class Listed(_Named):
    """A decision as the overview, the rules and the search see it: its summary, never its whole document."""

    data: dict  # summary(): the organization, the workloads' stances, the inputs, where rules fired
    slug: str
    source: str
    origin: str
    extras: Extras = Extras()


def summary(data: dict) -> dict:
    """The small part of a decision document the site-wide pages need (it is all a build keeps in memory)."""
    org = data["organization"]
    workloads = data["workloads"]
    inputs = data.get("inputs")
    names = {w.get("id"): w["name"] for w in workloads} | {org.get("id"): org["name"]}
    fired = []
    for node in data["justification"]["nodes"]:
        if node.get("kind") == "firing" and "rule" in node:
            subject = node.get("subject", "")
            fired.append([str(node["rule"]), str(names.get(subject, subject)), node_anchor(str(node["id"]))])
    return {
        "organization": {"id": str(org.get("id", "")), "name": str(org["name"]), "stance": str(org.get("stance", ""))},
        "workloads": [
            {
                "id": str(w.get("id", "")),
                "name": str(w["name"]),
                "stance": str(w.get("stance", "")),
                "implicit": bool(w.get("implicit")),
            }
            for w in workloads
        ],
        "inputs": {str(k): str(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {},
        "fired": fired,
    }


def slug_base(summary_data: dict) -> str:
    digest = str(summary_data.get("inputs", {}).get("facts", "")).removeprefix("sha256:")[:8]
    return slugify(summary_data["organization"]["name"]) + (f"-{digest}" if digest else "")


def assign_slugs(items: list[tuple[str, str, str, str]]) -> list[str]:
    """Page names for decisions given as (slug base, origin, source, twin digest): unique and independent of
    the order the decisions were given in."""
    order = sorted(range(len(items)), key=lambda i: items[i])
    taken: dict[str, int] = {}
    slugs = [""] * len(items)
    for i in order:
        slug = items[i][0]
        taken[slug] = taken.get(slug, 0) + 1
        slugs[i] = slug if taken[slug] == 1 else f"{slug}-{taken[slug]}"
    return slugs


def _assign_slugs(decisions: list[SiteDecision]) -> list[_Published]:
    import hashlib

    keys = [(slug_base(summary(d.data)), d.origin, d.source, hashlib.sha256(d.twin).hexdigest()) for d in decisions]
    published = [
        _Published(d, slug, justification_graph(d.data)) for d, slug in zip(decisions, assign_slugs(keys), strict=True)
    ]
    return sorted(published, key=lambda p: (p.name.casefold(), p.slug))


class SiteRenderer:
    """Renders every page of the site for one knowledge base and policy."""

    def __init__(self, kb: KnowledgeBase, policy: Policy) -> None:
        self.kb = kb
        self.policy = policy
        self.env = _environment()
        # compiled now, before the build forks its workers: a package upgraded during a build cannot mix
        # old code with new templates
        for template in self.env.list_templates(extensions=["html"]):
            self.env.get_template(template)
        # Recorded decisions may name rules, factors or claims this policy no longer has:
        # those show as text instead of links that lead nowhere.
        self.env.globals["known_rules"] = frozenset(policy.by_id)
        self.env.globals["known_factors"] = frozenset(kb.factors)
        references = References(self.env.globals["known_rules"], self.env.globals["known_factors"])
        self.env.globals.update(
            badge=badge,
            fact_list=fact_list,
            claim_links=claim_links,
            rule_ref=references.rule_ref,
            why_not_list=references.why_not_list,
            source_rows=source_rows,
            factor_ref=references.factor_ref,
        )
        self.factor_labels = {fid: f.label for fid, f in kb.factors.items()}
        self.factor_order = {fid: f.order for fid, f in kb.factors.items()}
        self.claims_by_iri = {c.iri: c for c in kb.claims.values()}
        self.catalogue = catalogue(policy)
        self.rules_by_factor: dict[str, list[dict]] = defaultdict(list)
        for entry in self.catalogue:
            then = policy.by_id[entry["id"]].then
            if isinstance(then, Assess):
                self.rules_by_factor[then.factor].append(entry)

    # -- shared pieces ---------------------------------------------------------

    def _page(self, template: str, path: str, **context) -> tuple[str, bytes]:
        depth = path.count("/")
        root = "../" * depth
        text = self.env.get_template(template).render(root=root, path=path, stances=STANCES, **context)
        return path, text.encode("utf-8")

    def _claim(self, claim_id: str) -> dict:
        claim = self.kb.claims.get(claim_id)
        return {
            "id": claim_id,
            "anchor": claim_anchor(claim_id),
            "label": claim.label if claim else claim_id,
            "section": claim.section if claim else "",
            "known": claim is not None,
        }

    def _fact(self, fact: dict) -> dict:
        return {
            "property": fact.get("property", ""),
            "value": value_text(fact.get("value", "")),
            "subject": fact.get("subject", ""),
            "inherited": bool(fact.get("inherited")),
            "lines": fact.get("lines", []),
        }

    # -- a decision ------------------------------------------------------------

    def _assessment(self, w: dict, a: dict, graph: nx.DiGraph) -> dict:
        node = conclusion_iri("assessment", w["id"], a["rule"]) if "id" in w else ""
        return {
            "rule": a["rule"],
            "title": a.get("title", a["rule"]),
            "factor": a.get("factor", ""),
            "factor_label": self.factor_labels.get(a.get("factor", ""), a.get("factor", "")),
            "favors": a.get("favors", ""),
            "weight": a.get("weight", 0),
            "claims": [self._claim(c) for c in a.get("claims", [])],
            "grounds": [self._fact(f) for f in a.get("grounds", a.get("facts", []))],
            "derived_from": a.get("derived_from", []),
            "counted": a.get("counted", True),
            "counted_instead": a.get("counted_instead", ""),
            "assumes": a.get("assumes", []),
            "node": node_anchor(node) if node in graph else None,
        }

    def _property_label(self, name: str) -> str:
        prop = self.kb.vocabulary.get(name)
        return prop.label if prop is not None else name

    def _why_not(
        self,
        subject: str | None,
        stance: str,
        answers: dict[str, list[dict]] | None,
        assessments: dict[str, dict],
        missing: list[dict],
    ) -> list[dict]:
        """Why not each other stance: the engine's answer, or for a record, what the record can tell."""
        questions = []
        for asked in ASKED:
            if asked == stance:
                continue
            if answers is not None:
                answer = next((a for a in answers.get(asked, []) if a["subject"] == subject), None)
                if answer is not None:
                    questions.append({"stance": asked, "answer": answer})
                continue
            favoring = sorted(
                (a for a in assessments.values() if a["favors"] == asked), key=lambda a: (-a["weight"], a["rule"])
            )
            could = [m for m in missing if any(o["stance"] == asked for o in m["could_lead_to"])]
            questions.append({"stance": asked, "answer": None, "favoring": favoring, "missing": could})
        return questions

    def _smallest_changes(self, entries: object) -> list[dict] | None:
        """The fewest changes toward each other stance, each set in words (None: a record written before them)."""
        from infra_policy.engine.analysis.abduce import step_words
        from infra_policy.engine.model import FactStep

        if not isinstance(entries, list):
            return None

        def value(v: object) -> object:
            return tuple(v) if isinstance(v, list) else v

        found = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            combos = [c for c in entry.get("sets", []) if isinstance(c, list)]
            sets = [
                "; ".join(
                    step_words(
                        FactStep(str(s.get("fact", "")), value(s.get("before")), value(s.get("after"))),
                        self.kb.vocabulary,
                    )
                    for s in combo
                    if isinstance(s, dict)
                )
                for combo in combos
            ]
            found.append({**entry, "sets": sets, "size": len(combos[0]) if combos else 0})
        return found

    def _workload(
        self, w: dict, graph: nx.DiGraph, why_not: dict[str, list[dict]] | None, explanation: dict | None = None
    ) -> dict:
        assessments = {a["rule"]: self._assessment(w, a, graph) for a in w.get("assessments", [])}
        reasons = [assessments[r] for r in w.get("reasons", []) if r in assessments]
        outweighed = [
            a for rule, a in sorted(assessments.items()) if rule not in set(w.get("reasons", [])) and a["counted"]
        ]
        # the justification as a reader follows it: each side's counted arguments, heaviest first
        outline = {
            side: sorted(
                (a for a in assessments.values() if a["favors"] == side and a["counted"]),
                key=lambda a: (-a["weight"], a["rule"]),
            )
            for side in ("in-house", "cloud")
        }
        counted_once = [a for a in assessments.values() if not a["counted"]]
        constraints = []
        for c in w.get("constraints", []):
            node = conclusion_iri("constraint", w["id"], c["rule"]) if "id" in w else ""
            constraints.append(
                {
                    "rule": c["rule"],
                    "title": c.get("title", c["rule"]),
                    "requires": c.get("requires", ""),
                    "rules_out": c.get("rules_out", ""),
                    "claims": [self._claim(x) for x in c.get("claims", [])],
                    "grounds": [self._fact(f) for f in c.get("grounds", c.get("facts", []))],
                    "node": node_anchor(node) if node in graph else None,
                }
            )
        missing = [
            {
                "fact": m.get("fact", ""),
                "label": m.get("label", m.get("fact", "")),
                "could_lead_to": [
                    {"stance": o.get("stance", ""), "example": value_text(o.get("example_value", ""))}
                    for o in m.get("could_lead_to", [])
                ],
                "rules": m.get("rules", []),
            }
            for m in w.get("missing_facts", [])
        ]
        stance = w.get("stance", "")
        tally = w.get("tally", {})
        return {
            "smallest_changes": self._smallest_changes(w.get("smallest_changes")),
            "id": w.get("id", ""),
            "anchor": workload_anchor(w.get("id", w["name"])),
            "name": w["name"],
            "implicit": bool(w.get("implicit")),
            "stance": stance,
            "stance_rule": w.get("stance_rule", {}),
            "tally": tally,
            "chart": balance_chart(tally.get("by_factor", []), self.factor_labels, self.factor_order),
            "reasons": reasons,
            "outweighed": outweighed,
            "outline": outline,
            "counted_once": counted_once,
            "constraints": constraints,
            "plan": w.get("hybrid_plan"),
            "closeness": [c.get("text", "") for c in w.get("closeness", [])],
            "risks": w.get("risks", []),
            "not_weighed": [
                {**u, "shown": value_text(u.get("value", "")), "label": self._property_label(u.get("fact", ""))}
                for u in w.get("not_weighed", [])
            ],
            "questions": w.get("questions", []),
            "derived": w.get("derived", []),
            "missing": missing,
            "why_not": self._why_not(w.get("id"), stance, why_not, assessments, missing),
            "cost": _cost(w.get("cost"), self._property_label),
            "facts": [self._fact(f) for f in w.get("facts", [])],
            "explanation": explanation,
            "stance_node": node_anchor(n) if (n := _stance_node(graph, w.get("id"))) is not None else None,
        }

    def _node_link(
        self, kind: str, attrs: dict, node: str, facts_page: str, line_anchors: bool
    ) -> tuple[str, str] | None:
        """Where a node's own entry lives outside the trail (rule, claim, line of the facts)."""
        if kind == "rule" and attrs.get("label") in self.policy.by_id:
            return f"../rules.html#{rule_anchor(attrs['label'])}", "rule in the catalogue"
        if kind == "claim" and node in self.claims_by_iri:
            return f"../sources.html#{claim_anchor(self.claims_by_iri[node].id)}", "claim in the sources"
        if kind == "fact" and isinstance(attrs.get("line"), int) and line_anchors:
            return f"{facts_page}#L{attrs['line']}", f"line {attrs['line']} of the facts"
        if kind == "fact":
            return facts_page, "the facts"
        return None

    def _label(self, graph: nx.DiGraph, node: str) -> str:
        kind = graph.nodes[node].get("kind")
        if kind == "claim" and node in self.claims_by_iri:
            return self.claims_by_iri[node].label
        return str(graph.nodes[node].get("label", node))

    def _trail(
        self, graph: nx.DiGraph, facts_page: str, line_anchors: bool, names: dict[str, str] | None = None
    ) -> list[dict]:
        names = names or {}

        def shown(key: str, value: object) -> str:
            # subjects are IRIs in the graph; people know the workload by its name
            return (
                names.get(value, value_text(value))
                if key == "subject" and isinstance(value, str)
                else value_text(value)
            )

        groups: dict[str, list[dict]] = defaultdict(list)
        for node in graph:
            attrs = graph.nodes[node]
            kind = str(attrs.get("kind", "node"))
            groups[kind].append(
                {
                    "anchor": node_anchor(node),
                    "id": node,
                    "kind": kind,
                    "label": self._label(graph, node),
                    "attrs": [(k, shown(k, attrs[k])) for k in _SHOWN_ATTRS if k in attrs],
                    "link": self._node_link(kind, attrs, node, facts_page, line_anchors),
                    "inputs": sorted(
                        (graph.edges[p, node].get("relation", ""), self._label(graph, p), node_anchor(p))
                        for p in graph.predecessors(node)
                    ),
                    "outputs": sorted(
                        (graph.edges[node, s].get("relation", ""), self._label(graph, s), node_anchor(s))
                        for s in graph.successors(node)
                    ),
                }
            )
        order = [k for k in TRAIL_KINDS if k in groups] + sorted(k for k in groups if k not in TRAIL_KINDS)
        trail = []
        for k in order:
            entries = sorted(groups[k], key=lambda e: (e["label"], e["id"]))
            title = KIND_TITLES.get(k, k)
            trail.append({"kind": k, "title": title, "entries": entries, "html": trail_entries(entries)})
        return trail

    def _drawing(self, graph: nx.DiGraph) -> dict:
        drawing = draw(graph)
        # Claim nodes are named by IRI in the graph; people read their labels.
        nodes = [n if n.kind != "claim" else _relabel(n, self._label(graph, n.id)) for n in drawing.nodes]
        return {
            "width": drawing.width,
            "height": drawing.height,
            "nodes": nodes,
            "edges": drawing.edges,
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
            "edges_html": graph_edges(drawing.edges),
            "nodes_html": graph_nodes(nodes, NODE_WIDTH, NODE_HEIGHT),
        }

    def decision_pages(self, p: _Published) -> Iterator[tuple[str, bytes]]:
        data = p.data
        facts_page = f"{p.slug}.facts.html"
        why_not = p.decision.why_not
        explained = p.decision.explanations or {}
        workloads = [self._workload(w, p.graph, why_not, explained.get(w.get("id", ""))) for w in data["workloads"]]
        # an organization too large for the search of what would change each stance says so, as evaluate does
        left_out = next((e.get("why") for e in data.get("left_out", []) if isinstance(e, dict)), None)
        for shown, w in zip(workloads, data["workloads"], strict=True):
            shown["changes_not_searched"] = (
                changes_left_out_text(str(left_out)) if left_out and w.get("changes_explored") is False else None
            )
        org_id = data["organization"].get("id")
        org_node = _stance_node(p.graph, org_id)
        org_why_not = self._why_not(org_id, p.stance, why_not, {}, []) if why_not is not None else []
        turtle, jsonld = p.decision.rdf_twins()
        context = {
            "decision": p,
            "org": data["organization"],
            "org_node": node_anchor(org_node) if org_node else None,
            "workloads": workloads,
            "inputs": data.get("inputs", {}),
            "org_why_not": org_why_not,
            "legend": [k for k in LEGEND if any(a.get("kind") == k for _, a in p.graph.nodes(data=True))],
            "drawing": self._drawing(p.graph),
            "trail": self._trail(
                p.graph,
                facts_page,
                p.decision.facts_text is not None,
                {w["id"]: w["name"] for w in data["workloads"] if "id" in w} | ({org_id: p.name} if org_id else {}),
            ),
            # Lines link into the facts file only when the site has its text.
            "line_page": facts_page if p.decision.facts_text is not None else None,
            # Data twins offered for download: (label, file name, what it holds).
            "twins": [
                ("JSON", f"{p.slug}.json", "the decision record" if p.decision.record_id else "the decision"),
                ("Turtle", f"{p.slug}.prov.ttl", "its derivation in W3C PROV-O"),
                ("JSON-LD", f"{p.slug}.prov.jsonld", "its derivation in W3C PROV-O"),
            ],
            "facts_page": facts_page,
            "extras": p.extras,
        }
        if p.extras.record is not None:
            also = "the decision record it was also published from"
            context["twins"].append(("Record", p.extras.record["file"], also))
        yield self._page("decision.html", f"decisions/{p.slug}.html", title=p.name, nav="overview", **context)
        yield f"decisions/{p.slug}.json", p.decision.twin
        yield f"decisions/{p.slug}.prov.ttl", turtle
        yield f"decisions/{p.slug}.prov.jsonld", jsonld
        lines = p.decision.facts_text.splitlines() if p.decision.facts_text is not None else None
        yield self._page(
            "facts.html",
            f"decisions/{p.slug}.facts.html",
            title=f"Facts of {p.name}",
            nav="overview",
            decision=p,
            org=data["organization"],
            workloads=workloads,
            lines=lines,
        )

    # -- the whole site ----------------------------------------------------------

    def render(self, decisions: list[SiteDecision]) -> Iterator[tuple[str, bytes]]:
        """Every file of the site as ``(relative path, bytes)``, in a fixed order (all decisions in memory)."""
        published = _assign_slugs(decisions)
        for p in published:
            yield from self.decision_pages(p)
        yield from self.site_pages(
            [Listed(summary(p.data), p.slug, p.decision.source, p.decision.origin) for p in published]
        )

    def site_pages(self, published: list[Listed], histories: list[dict] | None = None) -> Iterator[tuple[str, bytes]]:
        """The pages about all decisions: overview, rules, factors, sources, histories, search, assets."""
        published = sorted(published, key=lambda p: (p.name.casefold(), p.slug))
        counts = {s: sum(1 for p in published if p.stance == s) for s in STANCES}
        yield self._page(
            "overview.html",
            "index.html",
            title="Decisions",
            nav="overview",
            decisions=published,
            counts=counts,
            page_twins=[("JSON", "index.json")],
        )
        yield "index.json", _json([_overview_entry(p) for p in published])
        for history in histories or []:
            yield self._page(
                "history.html",
                history["page"],
                title=f"History of {history['name']}",
                nav="overview",
                history=history,
            )
        fired = self._fired(published)
        yield (
            "rules.json",
            _json(
                [
                    {**e, "fired_count": len(fired.get(e["id"], [])), "fired": fired.get(e["id"], [])[:FIRED_SHOWN]}
                    for e in self.catalogue
                ]
            ),
        )
        yield self._page(
            "rules.html",
            "rules.html",
            title="Rules",
            nav="rules",
            page_twins=[("JSON", "rules.json")],
            catalogue=self.catalogue,
            claims={c: self._claim(c) for e in self.catalogue for c in e["claims"]},
            fired=fired,
            fired_shown=FIRED_SHOWN,
            factor_of={e["id"]: f for f, es in self.rules_by_factor.items() for e in es},
            factor_labels=self.factor_labels,
        )
        claims_by_factor: dict[str, list] = defaultdict(list)
        for claim in self.kb.claims.values():
            if claim.factor:
                claims_by_factor[claim.factor].append(claim)
        yield (
            "factors.json",
            _json(
                [
                    {
                        "id": f.id,
                        "label": f.label,
                        "description": f.description,
                        "claims": [c.id for c in claims_by_factor.get(f.id, [])],
                        "rules": [e["id"] for e in self.rules_by_factor.get(f.id, [])],
                    }
                    for f in self.kb.factors.values()
                ]
            ),
        )
        yield self._page(
            "factors.html",
            "factors.html",
            title="Factors",
            nav="factors",
            page_twins=[("JSON", "factors.json")],
            factors=list(self.kb.factors.values()),
            claims_by_factor=claims_by_factor,
            rules_by_factor=self.rules_by_factor,
        )
        for factor in self.kb.factors.values():
            yield self._page(
                "factor.html",
                factor_page(factor.id),
                title=factor.label,
                nav="factors",
                factor=factor,
                claims=claims_by_factor.get(factor.id, []),
                rules=self.rules_by_factor.get(factor.id, []),
                claims_of={e["id"]: [self._claim(c) for c in e["claims"]] for e in self.catalogue},
                fired=fired,
                fired_shown=FIRED_SHOWN,
            )
        sources = self._sources()
        yield (
            "sources.json",
            _json(
                [
                    {
                        "section": section["path"],
                        "claims": [
                            {"id": c.id, "label": c.label, "text": c.text, "factor": c.factor, "favors": c.favors}
                            for c in section["claims"]
                        ],
                    }
                    for section in sources["sections"]
                ]
            ),
        )
        yield self._page(
            "sources.html",
            "sources.html",
            title="Sources",
            nav="sources",
            page_twins=[("JSON", "sources.json")],
            **sources,
        )
        yield "search-index.js", self._search_index(published)
        for name in ASSETS:
            yield f"assets/{name}", (resources.files("infra_policy.site") / "static" / name).read_bytes()
        yield MARKER, b"Built by `infra-policy site`; the whole folder is replaced on the next build.\n"

    def history_diff(self, before: dict, after: dict) -> dict:
        """What changed between two decision documents, in the vocabulary's words (engine.analysis.diff)."""
        d = diff_decisions(before, after)
        vocabulary = self.kb.vocabulary

        def shown(value: object) -> str:
            return "not stated" if value is None else value_words(value, vocabulary)

        return {
            "same": d.same,
            "stances": [{"name": m.name, "before": m.before, "after": m.after} for m in d.stances],
            "facts": [
                {
                    "name": f.name,
                    "label": fact_words(f.property, vocabulary).removeprefix("the "),
                    "before": shown(f.before),
                    "after": shown(f.after),
                }
                for f in d.facts
            ],
            "reasons": [
                {"name": r.name, "title": r.title, "favors": r.favors, "weight": r.weight, "change": r.change}
                for r in d.reasons
            ],
        }

    def _fired(self, published: list[Listed]) -> dict[str, list[dict]]:
        fired: dict[str, list[dict]] = defaultdict(list)
        for p in published:
            for rule, subject, anchor in p.data["fired"]:
                fired[rule].append({"slug": p.slug, "organization": p.name, "subject": subject, "anchor": anchor})
        for entries in fired.values():
            entries.sort(key=lambda e: (e["organization"].casefold(), e["slug"], e["subject"], e["anchor"]))
        return fired

    def _sources(self) -> dict:
        graph = self.kb.graph
        sections = []
        for section in graph.subjects(predicate=IP.sectionPath):
            path = str(graph.value(section, IP.sectionPath))
            order = graph.value(section, IP.sectionOrder)
            label = str(graph.value(section, RDFS.label) or path)
            sections.append((int(order) if order is not None else 10**6, path, label))
        sections.sort()
        claims_by_section: dict[str, list] = defaultdict(list)
        for claim in self.kb.claims.values():
            claims_by_section[claim.section].append(claim)
        document = next(iter(sorted(graph.subjects(DCTERMS.title, None))), None)
        known = {path for _, path, _ in sections}
        return {
            "document_title": str(graph.value(document, DCTERMS.title)) if document is not None else "",
            "sections": [
                {"path": path, "label": label, "depth": path.count("›"), "claims": claims_by_section.get(path, [])}
                for _, path, label in sections
            ],
            "unplaced": [c for s, cs in sorted(claims_by_section.items()) if s not in known for c in cs],
            "factor_labels": self.factor_labels,
            "rules_citing": {
                cid: sorted(e["id"] for e in self.catalogue if cid in e["claims"]) for cid in self.kb.claims
            },
        }

    def _search_index(self, published: list[Listed]) -> bytes:
        entries = []
        for p in published:
            workloads = ", ".join(w["name"] for w in p.data["workloads"] if not w.get("implicit"))
            entries.append(["decision", p.name, f"{p.stance} · {workloads}".strip(" ·"), f"decisions/{p.slug}.html"])
        for e in self.catalogue:
            entries.append(["rule", e["title"], e["id"], f"rules.html#{rule_anchor(e['id'])}"])
        for f in self.kb.factors.values():
            entries.append(["factor", f.label, f.id, factor_page(f.id)])
        # A script, not JSON: browsers refuse to fetch() files over file://.
        body = json.dumps(entries, ensure_ascii=True, separators=(",", ":"))
        return f"window.INFRA_POLICY_SEARCH = {body};\n".encode("ascii")


def _cost(cost: dict | None, label: Callable[[str], str]) -> dict | None:
    """A workload's cost object as the page shows it (None when no cost input was given)."""
    if not isinstance(cost, dict) or cost.get("status", "not-given") == "not-given":
        return None
    summary = cost.get("summary", {})
    if summary.get("breakEvenNever") is True or summary.get("breakEvenMonths") == "never":
        break_even = "never: running in-house costs at least as much per month as the cloud"
    elif isinstance(summary.get("breakEvenMonths"), int | float):
        hours = summary.get("breakEvenHours")
        break_even = f"after {number_text(summary['breakEvenMonths'], 1)} months" + (
            f" ({number_text(hours, 0)} utilized hours)" if isinstance(hours, int | float) else ""
        )
    elif isinstance(summary.get("breakEvenHours"), int | float):
        break_even = f"after {number_text(summary['breakEvenHours'], 0)} utilized hours"
    else:
        break_even = None
    return {
        "status": cost.get("status", ""),
        "break_even": break_even,
        "computed": [
            {
                "fact": c.get("fact", ""),
                "label": label(c.get("fact", "")),
                "value": _number(c.get("value")),
                # the formula reads "fact = symbols = numbers": the page shows the part after the name
                "formula": str(c.get("formula", "")).removeprefix(f"{c.get('fact', '')} = "),
                "inputs": c.get("inputs", []) + c.get("computed_from", []),
                "parameters": [f"{x.get('name', '')} = {_number(x.get('value'))}" for x in c.get("parameters", [])],
            }
            for c in cost.get("computed", [])
            if c.get("fact") != "breakEvenNever"
        ],
        "missing": [
            {
                "fact": m.get("fact", ""),
                "label": label(m.get("fact", "")),
                "needed_for": value_text(m.get("needed_for", "")),
            }
            for m in cost.get("missing", [])
        ],
        "assumptions": [str(a) for a in cost.get("assumptions", [])],
    }


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value_text(value)
    return number_text(value)


def _json(value: object) -> bytes:
    return jsonstream.dumps(value).encode("utf-8")  # json.dumps(indent=2)'s bytes, through orjson


def _overview_entry(p: Listed) -> dict:
    entry = {
        "organization": p.name,
        "stance": p.stance,
        "placement": [{"workload": w["name"], "stance": w.get("stance", "")} for w in p.data["workloads"]],
        "page": f"decisions/{p.slug}.html",
        "record": f"decisions/{p.slug}.json",
        "provenance": {"turtle": f"decisions/{p.slug}.prov.ttl", "jsonld": f"decisions/{p.slug}.prov.jsonld"},
        "source": p.source,
        "origin": p.origin,
        "inputs": p.data.get("inputs", {}),
    }
    if p.extras.record is not None:
        entry["recorded"] = {"id": p.extras.record["id"], "file": f"decisions/{p.extras.record['file']}"}
    if p.extras.history is not None:
        entry["history"] = p.extras.history
    return entry


def _stance_node(graph: nx.DiGraph, subject: str | None) -> str | None:
    if subject is None:
        return None
    found = sorted(n for n, a in graph.nodes(data=True) if a.get("kind") == "stance" and a.get("subject") == subject)
    return found[0] if found else None


def _relabel(node: PlacedNode, label: str) -> PlacedNode:
    return replace(node, label=label, short=shorten(label))


def render_site(decisions: list[SiteDecision], kb: KnowledgeBase, policy: Policy) -> Iterator[tuple[str, bytes]]:
    return SiteRenderer(kb, policy).render(decisions)


__all__ = [
    "MARKER",
    "Extras",
    "Listed",
    "SiteRenderer",
    "assign_slugs",
    "render_site",
    "slug_base",
    "summary",
    "value_text",
]
