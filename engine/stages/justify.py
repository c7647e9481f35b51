"""Stage 6 — justify: the justification graph of a decision (networkx).

Premises (stated facts, knowledge-base claims, rules) point to the firings that
used them; firings point to what they concluded, up to the workload stances
and the organization's stance.  The graph must be acyclic and every conclusion
must have a path back to a stated fact; :func:`check` says what is wrong if not.

Node identifiers are IRIs, stable for the same inputs, so the same names can
be used in RDF exports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import networkx as nx

from infra_policy.engine.errors import EngineError
from infra_policy.engine.model import Decision, Firing, WorkloadDecision
from infra_policy.engine.stages.load import FactsDocument, Triple
from infra_policy.engine.stages.profile import display

RULE_BASE = "https://w3id.org/infra-policy/rule/"
CONCLUSION_KINDS = frozenset({"firing", "assessment", "constraint", "derived", "computed", "tally", "stance", "plan"})
PREMISE_KINDS = frozenset({"fact", "claim", "rule", "parameter"})


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fact_iri(triple: Triple) -> str:
    s, p, o = triple
    return f"urn:infra-policy:fact:{_key(f'{s.n3()} {p.n3()} {o.n3()}')}"


def rule_iri(rule_id: str) -> str:
    return RULE_BASE + rule_id


def firing_iri(firing: Firing) -> str:
    return f"urn:infra-policy:firing:{_key(firing.subject)}:{firing.rule}"


def workload_stance_iri(workload_id: str) -> str:
    return f"urn:infra-policy:workload-stance:{_key(workload_id)}"


def organization_stance_iri(organization_id: str) -> str:
    return f"urn:infra-policy:organization-stance:{_key(organization_id)}"


def plan_iri(subject_id: str) -> str:
    return f"urn:infra-policy:plan:{_key(subject_id)}"


def tally_iri(workload_id: str) -> str:
    return f"urn:infra-policy:tally:{_key(workload_id)}"


def conclusion_iri(kind: str, workload_id: str, name: str) -> str:
    return f"urn:infra-policy:{kind}:{_key(workload_id)}:{name}"


def parameter_iri(name: str) -> str:
    return f"urn:infra-policy:parameter:{name}"


@dataclass
class JustificationGraph:
    """A DiGraph whose nodes carry ``kind`` and ``label`` attributes."""

    graph: nx.DiGraph

    def nodes_of(self, kind: str) -> list[str]:
        return sorted(n for n, data in self.graph.nodes(data=True) if data["kind"] == kind)

    def problems(self) -> list[str]:
        """What makes this graph unsound (empty when it is sound)."""
        found = []
        if not nx.is_directed_acyclic_graph(self.graph):
            cycle = nx.find_cycle(self.graph)
            found.append("the justification graph has a cycle: " + " → ".join(u for u, _ in cycle))
        grounded = _reachable(self.graph, self.nodes_of("fact"))
        for node, data in sorted(self.graph.nodes(data=True)):
            if data["kind"] in CONCLUSION_KINDS and node not in grounded:
                found.append(f"{data['label']} ({node}) has no path back to a stated fact")
        return found

    def to_dict(self) -> dict:
        nodes = [{"id": n, **dict(sorted(d.items()))} for n, d in sorted(self.graph.nodes(data=True))]
        edges = [{"from": u, "to": v, "relation": d["relation"]} for u, v, d in sorted(self.graph.edges(data=True))]
        return {"nodes": nodes, "edges": edges}


class _Builder:
    def __init__(self, doc: FactsDocument | None, labels: dict[str, str] | None = None) -> None:
        self.doc = doc
        self.labels = labels or {}
        self.g = nx.DiGraph()
        self._shown: dict = {}

    def node(self, iri: str, kind: str, label: str, **attrs) -> str:
        if iri not in self.g:
            label = self.labels.get(iri, label)
            self.g.add_node(iri, kind=kind, label=label, **{k: v for k, v in attrs.items() if v is not None})
        return iri

    def _display(self, term) -> str:
        # the same subjects, properties and values recur in every firing: say each once
        shown = self._shown.get(term)
        if shown is None:
            shown = self._shown[term] = display(self.doc, term)
        return shown

    def edge(self, source: str, target: str, relation: str) -> None:
        self.g.add_edge(source, target, relation=relation)

    def fact(self, triple: Triple) -> str:
        s, p, o = triple
        assumed = None
        if self.doc is not None:
            text = f"{self._display(s)} {self._display(p)} {self._display(o)}"
            line = self.doc.line_of(triple)
            if self.doc.is_assumed(triple):  # `--set`: assumed, not stated in the file
                text, assumed = f"{text} (assumed)", True
        else:
            text, line = f"{s} {p} {o}", None
        return self.node(
            fact_iri(triple),
            "fact",
            text,
            subject=str(s),
            property=str(p),
            value=str(o),
            object=o.n3(),
            line=line,
            assumed=assumed,
        )

    def firing(self, firing: Firing, premises: Iterable[str]) -> str:
        iri = self.node(firing_iri(firing), "firing", f"{firing.rule} fired", rule=firing.rule, subject=firing.subject)
        self.edge(self.node(rule_iri(firing.rule), "rule", firing.rule), iri, "plan")
        for stated in firing.facts:
            for triple in stated.triples:
                self.edge(self.fact(triple), iri, "used")
        for premise in premises:
            self.edge(premise, iri, "used")
        return iri


def _computed(b: _Builder, w: WorkloadDecision) -> dict[str, str]:
    """A node per computed number (formula and value), fed by its inputs."""
    nodes: dict[str, str] = {}
    for value in w.cost.values if w.cost is not None else ():
        node = b.node(
            conclusion_iri("computed", w.id, value.name),
            "computed",
            value.formula,
            property=value.name,
            value=value.value,
            subject=w.id,
        )
        for name in value.inputs:
            for triple in w.profile.facts[name].triples:
                b.edge(b.fact(triple), node, "used")
        for name in value.computed_from:
            b.edge(nodes[name], node, "used")
        for name, number in value.parameters:
            b.edge(b.node(parameter_iri(name), "parameter", f"{name} = {number:g} (rules)"), node, "used")
        nodes[value.name] = node
    return nodes


def _workload(b: _Builder, w: WorkloadDecision, claims: dict[str, str]) -> str:
    wid = w.id
    computed_nodes = _computed(b, w)
    derived_nodes: dict[str, str] = {}
    conclusions: dict[str, tuple[str, str]] = {}
    for d in w.derivations:
        conclusions[d.rule] = (conclusion_iri("derived", wid, d.name), f"derived: {d.name}")
    for a in w.assessments:
        conclusions[a.rule] = (
            conclusion_iri("assessment", wid, a.rule),
            f"{a.factor} favors {a.favors} (weight {a.weight})",
        )
    for c in w.constraints:
        conclusions[c.rule] = (conclusion_iri("constraint", wid, c.rule), f"rules out {c.rules_out}")
    kinds = {
        **{d.rule: "derived" for d in w.derivations},
        **{a.rule: "assessment" for a in w.assessments},
        **{c.rule: "constraint" for c in w.constraints},
    }
    tally = b.node(
        tally_iri(wid),
        "tally",
        f"tally of {w.profile.name}",
        cloud_weight=w.tally.cloud_weight,
        in_house_weight=w.tally.in_house_weight,
    )
    b.edge(b.fact(w.profile.declaration), tally, "used")
    # Firings come in layer order, so a derivation exists before its users.
    for firing in w.firings:
        premises = [derived_nodes[name] for name in firing.derived]
        premises += [computed_nodes[name] for name, _ in firing.computed if name in computed_nodes]
        fnode = b.firing(firing, premises)
        for claim in claims.get(firing.rule, ()):
            b.edge(b.node(claim, "claim", claim), fnode, "cites")
        iri, label = conclusions[firing.rule]
        kind = kinds[firing.rule]
        b.node(iri, kind, label, rule=firing.rule)
        b.edge(fnode, iri, "generated")
        if kind == "derived":
            derived_nodes[label.removeprefix("derived: ")] = iri
        else:
            b.edge(iri, tally, "used")
    stance_firing = b.firing(w.stance_firing, [tally])
    stance = b.node(workload_stance_iri(wid), "stance", f"{w.profile.name}: {w.stance}", stance=w.stance, subject=wid)
    b.edge(stance_firing, stance, "generated")
    if w.plan is not None and w.plan.rule:
        plan_firing = b.firing(Firing(rule=w.plan.rule, subject=wid, stage="plan"), [tally, stance])
        plan = b.node(plan_iri(wid), "plan", f"{w.profile.name}: {w.plan.title}", plan=w.plan.id, subject=wid)
        b.edge(plan_firing, plan, "generated")
    return stance


def _workloads_part(b: _Builder, workloads: Iterable[WorkloadDecision], claims: dict[str, tuple[str, ...]]) -> None:
    for w in workloads:
        _workload(b, w, claims)
        for claim in claims.get(w.stance_firing.rule, ()):
            b.edge(b.node(claim, "claim", claim), firing_iri(w.stance_firing), "cites")


def _organization_part(b: _Builder, decision: Decision, claims: dict[str, tuple[str, ...]]) -> None:
    """The organization's firing, stance and plan, fed by the workloads' stances (and plans)."""
    stances = [workload_stance_iri(w.id) for w in decision.workloads]
    org_firing = b.firing(decision.stance_firing, stances)
    for claim in claims.get(decision.stance_firing.rule, ()):
        b.edge(b.node(claim, "claim", claim), org_firing, "cites")
    org = b.node(
        organization_stance_iri(decision.organization.id),
        "stance",
        f"{decision.organization.name}: {decision.stance}",
        stance=decision.stance,
        subject=decision.organization.id,
    )
    b.edge(org_firing, org, "generated")
    if decision.plan is not None and decision.plan.id == "split-by-workload":
        # the organization's split follows from its workloads' stances (and their plans)
        plan = b.node(
            plan_iri(decision.organization.id),
            "plan",
            f"{decision.organization.name}: {decision.plan.title}",
            plan=decision.plan.id,
            subject=decision.organization.id,
        )
        b.edge(org, plan, "used")
        for w in decision.workloads:
            if w.plan is not None and w.plan.rule:
                b.edge(plan_iri(w.id), plan, "used")


def _claims(claims_by_rule: dict[str, tuple[str, ...]], claim_iris: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return {rule: tuple(claim_iris.get(c, c) for c in ids) for rule, ids in claims_by_rule.items()}


def build_justification(
    decision: Decision,
    claims_by_rule: dict[str, tuple[str, ...]],
    claim_iris: dict[str, str],
    doc: FactsDocument | None = None,
    labels: dict[str, str] | None = None,
) -> JustificationGraph:
    """The justification graph of ``decision``; raises if it is unsound."""
    b = _Builder(doc, labels)
    claims = _claims(claims_by_rule, claim_iris)
    _workloads_part(b, decision.workloads, claims)
    _organization_part(b, decision, claims)
    graph = JustificationGraph(b.g)
    problems = graph.problems()
    if problems:
        raise EngineError("the justification is unsound: " + "; ".join(problems))
    return graph


def justification_parts(
    decision: Decision,
    claims_by_rule: dict[str, tuple[str, ...]],
    claim_iris: dict[str, str],
    doc: FactsDocument | None = None,
    labels: dict[str, str] | None = None,
    workloads_per_part: int = 500,
) -> Iterator[JustificationGraph]:
    """The justification graph of ``decision`` in parts, each checked as it is made (raises if unsound):
    the workloads ``workloads_per_part`` at a time, then the organization's conclusions.

    Their union is :func:`build_justification`'s graph: a node shared by several parts (a rule, a claim, an
    organization fact) is in each with the same attributes; a node of another part that an edge points
    to is there without attributes (no ``kind``) and belongs to that other part. Only the workloads'
    stances and plans feed the organization's part, and nothing feeds back, so checking each part for
    cycles and grounding checks the whole.
    """
    workloads = decision.workloads
    for start in range(0, len(workloads), workloads_per_part):
        yield workloads_part(workloads[start : start + workloads_per_part], claims_by_rule, claim_iris, doc, labels)
    yield organization_part(decision, claims_by_rule, claim_iris, doc, labels)


def workloads_part(
    workloads: Iterable[WorkloadDecision],
    claims_by_rule: dict[str, tuple[str, ...]],
    claim_iris: dict[str, str],
    doc: FactsDocument | None = None,
    labels: dict[str, str] | None = None,
) -> JustificationGraph:
    """The part of the justification graph that concludes ``workloads``' stances (see :func:`justification_parts`)."""
    b = _Builder(doc, labels)
    _workloads_part(b, workloads, _claims(claims_by_rule, claim_iris))
    return _checked_part(b.g)


def organization_part(
    decision: Decision,
    claims_by_rule: dict[str, tuple[str, ...]],
    claim_iris: dict[str, str],
    doc: FactsDocument | None = None,
    labels: dict[str, str] | None = None,
) -> JustificationGraph:
    """The part of the justification graph that concludes the organization's stance from its workloads'."""
    b = _Builder(doc, labels)
    _organization_part(b, decision, _claims(claims_by_rule, claim_iris))
    return _checked_part(b.g)


def _reachable(graph: nx.DiGraph, sources: list[str]) -> set[str]:
    """The nodes reachable from ``sources`` (not the sources themselves), in one walk."""
    seen = set(sources)
    found: set[str] = set()
    pending = list(sources)
    while pending:
        for successor in graph.successors(pending.pop()):
            found.add(successor)
            if successor not in seen:
                seen.add(successor)
                pending.append(successor)
    return found


def _checked_part(graph: nx.DiGraph) -> JustificationGraph:
    problems = []
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        problems.append("the justification graph has a cycle: " + " → ".join(u for u, _ in cycle))
    # the nodes of other parts were checked there: they count as grounded here, like the stated facts
    sources = [n for n, data in graph.nodes(data=True) if data.get("kind", "fact") == "fact"]
    grounded = _reachable(graph, sources) | {n for n in sources if "kind" not in graph.nodes[n]}
    for node, data in sorted(graph.nodes(data=True)):
        if data.get("kind") in CONCLUSION_KINDS and node not in grounded:
            problems.append(f"{data['label']} ({node}) has no path back to a stated fact")
    if problems:
        raise EngineError("the justification is unsound: " + "; ".join(problems))
    return JustificationGraph(graph)
