"""Explanations: the justification as a tree, "why?" for one node, and "why not?".

Everything here reads the decision, its justification graph and the rule AST;
nothing is re-decided.  "Why not X" looks, for every rule that could have
supported X and did not fire, at the first test of its condition that failed
and the value that was seen (or that the fact was not given).
"""

from __future__ import annotations

from dataclasses import dataclass

from .conditions import Failure, describe, first_failure
from .errors import printable
from .justify import organization_stance_iri, workload_stance_iri
from .model import WorkloadDecision
from .pipeline import Evaluation
from .ruleload import Policy
from .rules_ast import (
    Assess,
    Rule,
    RuleOut,
    SetStance,
)
from .tally import STANCES, organization_facts

__all__ = ["Failure", "describe", "first_failure"]

# ---------------------------------------------------------------------------
# why not


@dataclass(frozen=True)
class Missed:
    """A rule that could have supported the stance asked about, and did not fire."""

    rule: str
    title: str
    adds: str  # what it would have added, e.g. "in-house +3" or "rules out cloud"
    rank: int  # larger = would have mattered more
    failure: Failure


@dataclass(frozen=True)
class WhyNot:
    subject: str
    name: str
    stance: str  # the stance actually reached
    asked: str
    already: bool  # the subject has that stance already
    stance_rules: tuple[Missed, ...]
    factor_rules: tuple[Missed, ...]


def _supports(rule: Rule, asked: str, w: WorkloadDecision) -> tuple[str, int] | None:
    """What a factor rule would add toward ``asked`` (and how much), if anything."""
    then = rule.then
    ruled_out = {c.rules_out for c in w.constraints}
    if asked in ("cloud", "in-house"):
        if isinstance(then, RuleOut) and then.leaves == asked:
            return f"rules out {then.side}", 100
        if isinstance(then, Assess) and then.favors == asked:
            return f"{asked} +{then.weight}", then.weight
    if asked == "hybrid" and isinstance(then, Assess) and w.tally.leaning in ("cloud", "in-house"):
        weaker = "in-house" if w.tally.leaning == "cloud" else "cloud"
        if then.favors == weaker:
            return f"{weaker} +{then.weight}", then.weight
    if asked == "conflict" and isinstance(then, RuleOut) and ruled_out and then.side not in ruled_out:
        return f"rules out {then.side}", 100
    return None


def why_not_workload(ev: Evaluation, w: WorkloadDecision, policy: Policy, asked: str) -> WhyNot:
    if w.stance == asked:
        return WhyNot(w.id, w.profile.name, w.stance, asked, True, (), ())
    values = w.values()
    derived = frozenset(d.name for d in w.derivations)
    fired = {f.rule for f in w.firings}
    factor: list[Missed] = []
    for rule in policy.factor_rules:
        if rule.id in fired:
            continue
        support = _supports(rule, asked, w)
        if support is None:
            continue
        failure = first_failure(rule.when, values, derived)
        if failure is not None:
            factor.append(Missed(rule.id, rule.title, support[0], support[1], failure))
    tally = w.tally.facts()
    stance: list[Missed] = []
    for rule in policy.stance_rules:
        if isinstance(rule.then, SetStance) and rule.then.stance == asked:
            failure = first_failure(rule.when, tally)
            if failure is not None:
                stance.append(Missed(rule.id, rule.title, f"stance {asked}", -rule.priority, failure))
            elif rule.id != w.stance_firing.rule:
                winner = policy.by_id[w.stance_firing.rule]
                stance.append(
                    Missed(
                        rule.id,
                        rule.title,
                        f"stance {asked}",
                        -rule.priority,
                        Failure(f"outranked by {winner.id} (priority {winner.priority})", None, None, True),
                    )
                )
    factor.sort(key=lambda m: (-m.rank, m.rule))
    return WhyNot(w.id, w.profile.name, w.stance, asked, w.stance == asked, tuple(stance), tuple(factor))


def why_not_organization(ev: Evaluation, policy: Policy, asked: str) -> WhyNot:
    d = ev.decision
    if d.stance == asked:
        return WhyNot(d.organization.id, d.organization.name, d.stance, asked, True, (), ())
    facts = organization_facts({w.id: w.stance for w in d.workloads})
    missed = []
    for rule in policy.organization_rules:
        if isinstance(rule.then, SetStance) and rule.then.stance == asked:
            failure = first_failure(rule.when, facts)
            if failure is not None and failure.fact == "common_stance" and not failure.given:
                mix = ", ".join(f"{w.profile.name} {w.stance}" for w in d.workloads)
                failure = Failure(failure.test, failure.fact, f"not shared ({mix})", True)
            if failure is not None:
                missed.append(Missed(rule.id, rule.title, f"stance {asked}", -rule.priority, failure))
    return WhyNot(d.organization.id, d.organization.name, d.stance, asked, d.stance == asked, tuple(missed), ())


def why_not(ev: Evaluation, policy: Policy, asked: str) -> list[WhyNot]:
    """Why the organization and each workload did not get the stance ``asked``."""
    if asked not in STANCES:
        raise ValueError(f"unknown stance {asked!r}; one of {', '.join(STANCES)}")
    return [why_not_organization(ev, policy, asked)] + [
        why_not_workload(ev, w, policy, asked) for w in ev.decision.workloads
    ]


# ---------------------------------------------------------------------------
# the justification as a tree


@dataclass(frozen=True)
class TreeNode:
    id: str
    kind: str
    label: str
    line: int | None
    children: tuple[TreeNode, ...]
    repeated: bool = False  # already shown above; not expanded again

    def to_dict(self) -> dict:
        entry = {"id": self.id, "kind": self.kind, "label": self.label}
        if self.line is not None:
            entry["line"] = self.line
        if self.repeated:
            entry["repeated"] = True
        if self.children:
            entry["children"] = [c.to_dict() for c in self.children]
        return entry


_ORDER = {
    "stance": 0,
    "firing": 1,
    "tally": 2,
    "constraint": 3,
    "assessment": 4,
    "derived": 5,
    "rule": 6,
    "claim": 7,
    "fact": 8,
}


def tree(ev: Evaluation, root: str | None = None) -> TreeNode:
    """The premises of ``root`` (default: the organization's stance) as a tree."""
    g = ev.justification.graph
    root = root or organization_stance_iri(ev.decision.organization.id)
    seen: set[str] = set()

    def build(node: str) -> TreeNode:
        data = g.nodes[node]
        if node in seen and g.in_degree(node):
            return TreeNode(node, data["kind"], data["label"], data.get("line"), (), repeated=True)
        seen.add(node)
        premises = sorted(g.predecessors(node), key=lambda n: (_ORDER.get(g.nodes[n]["kind"], 9), n))
        return TreeNode(node, data["kind"], data["label"], data.get("line"), tuple(build(p) for p in premises))

    return build(root)


def resolve_node(ev: Evaluation, policy: Policy, name: str) -> list[str]:
    """Graph nodes that ``--why NAME`` means: a workload, a factor or a rule id."""
    d = ev.decision
    g = ev.justification.graph
    for w in d.workloads:
        if name in (w.id, w.profile.name) or w.id.rsplit("/", 1)[-1].rsplit("#", 1)[-1] == name:
            return [workload_stance_iri(w.id)]
    if name in (d.organization.id, d.organization.name):
        return [organization_stance_iri(d.organization.id)]
    if name in policy.by_id:
        return sorted(n for n, data in g.nodes(data=True) if data["kind"] == "firing" and data.get("rule") == name)
    factor_rules = {r.id for r in policy.factor_rules if isinstance(r.then, Assess) and r.then.factor == name}
    if factor_rules:
        return sorted(
            n for n, data in g.nodes(data=True) if data["kind"] == "assessment" and data.get("rule") in factor_rules
        )
    if name in g:
        return [name]
    return []


__all__ = ["Failure", "Missed", "TreeNode", "WhyNot", "first_failure", "resolve_node", "tree", "why_not"]


# ---------------------------------------------------------------------------
# rendering

_KIND_MARK = {
    "fact": "fact",
    "claim": "claim",
    "rule": "rule",
    "firing": "fired",
    "assessment": "assessment",
    "constraint": "feasibility",
    "derived": "concluded",
    "tally": "tally",
    "stance": "stance",
    "plan": "plan",
}


def render_tree(node: TreeNode) -> str:
    lines: list[str] = []

    def walk(n: TreeNode, prefix: str, last: bool, top: bool) -> None:
        line = f" (line {n.line})" if n.line else ""
        repeated = " (shown above)" if n.repeated else ""
        text = f"[{_KIND_MARK.get(n.kind, n.kind)}] {n.label}{line}{repeated}"
        lines.append(text if top else f"{prefix}{'└─ ' if last else '├─ '}{text}")
        child_prefix = "" if top else prefix + ("   " if last else "│  ")
        for i, child in enumerate(n.children):
            walk(child, child_prefix, i == len(n.children) - 1, False)

    walk(node, "", True, True)
    return printable("\n".join(lines) + "\n")


def missed_dict(m: Missed) -> dict:
    seen = m.failure.seen
    return {
        "rule": m.rule,
        "title": m.title,
        "would_add": m.adds,
        "failed": m.failure.sentence(),
        "failed_test": m.failure.test,
        "fact": m.failure.fact,
        "seen": list(seen) if isinstance(seen, tuple) else seen,
        "given": m.failure.given,
    }


def why_not_dict(answers: list[WhyNot]) -> list[dict]:
    return [
        {
            "subject": a.subject,
            "name": a.name,
            "stance": a.stance,
            "asked": a.asked,
            "already": a.already,
            "stance_rules": [missed_dict(m) for m in a.stance_rules],
            "factor_rules": [missed_dict(m) for m in a.factor_rules],
        }
        for a in answers
    ]


def render_why_not(answers: list[WhyNot], limit: int = 8) -> str:
    out: list[str] = []
    for a in answers:
        out.append(f"{a.name}: {a.stance}" + (f" — already {a.asked}" if a.already else f", not {a.asked}"))
        if a.already:
            out.append("")
            continue
        for m in a.stance_rules:
            out.append(f"  stance rule {m.rule} ({m.adds}) did not decide: {m.failure.sentence()}")
        if a.factor_rules:
            out.append(f"  rules that would have supported {a.asked}, strongest first:")
            for m in a.factor_rules[:limit]:
                out.append(f"    • {m.title}")
                out.append(f"      {m.adds} · {m.rule} · failed: {m.failure.sentence()}")
            if len(a.factor_rules) > limit:
                out.append(f"    … and {len(a.factor_rules) - limit} more (see --format json)")
        out.append("")
    return printable("\n".join(out))
