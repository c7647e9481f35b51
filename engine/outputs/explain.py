"""Explanations: the justification as a tree, "why?" for one node, and "why not?".

Everything here reads the decision, its justification graph and the rule AST;
nothing is re-decided.  "Why not X" looks, for every rule that could have
supported X and did not fire, at the first test of its condition that failed
and the value that was seen (or that the fact was not given).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from infra_policy.engine.errors import printable
from infra_policy.engine.model import WorkloadDecision
from infra_policy.engine.outputs.wording import Phrasing, side_words, wrap
from infra_policy.engine.pipeline import Evaluation
from infra_policy.engine.policy.conditions import Failure, describe, first_failure
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import (
    Assess,
    Rule,
    RuleOut,
    SetStance,
)
from infra_policy.engine.policy.tally import STANCES, organization_facts
from infra_policy.engine.stages.justify import conclusion_iri, organization_stance_iri, workload_stance_iri
from infra_policy.engine.vocabulary import Vocabulary

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
    changes: tuple[str, ...] = ()  # everything that would have to change for it to apply, in words
    favors: str = ""  # the side an assessment would have added to ("" for a stance or ruling-out rule)
    weight: int = 0
    facts_to_change: int = 0  # the facts ``changes`` is about (two bounds of one fact are one change)

    @property
    def distance(self) -> int:
        """How many facts would have to change for the rule to apply (the fewer, the closer)."""
        return self.facts_to_change or len(self.changes) or 1

    def effect(self) -> str:
        """What it would have done, in words."""
        if self.favors:
            strength = {1: "a weak", 2: "a moderate", 3: "a strong"}.get(self.weight, f"a {self.weight}-point")
            return f"{strength} argument for {side_words(self.favors)}"
        if self.adds.startswith("rules out "):
            return f"it would rule out {side_words(self.adds.removeprefix('rules out '))}"
        return self.adds


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


# cost_inputs_behind's answers by (parameters as JSON, computed facts): the same for every workload under
# one policy, and a site asks for them on each of thousands of decisions
_COST_INPUTS: dict[tuple[str, frozenset[str]], dict[str, tuple[str, ...]]] = {}


def cost_inputs_behind(parameters, computed: frozenset[str] = frozenset()) -> dict[str, tuple[str, ...]]:
    """For each computed fact, the stated inputs the cost model works it out from.

    Found by running the cost model once with every input stated, so the
    answer follows the model rather than a list kept here.
    """
    key = (json.dumps(parameters, sort_keys=True, default=repr), frozenset(computed))
    found = _COST_INPUTS.get(key)
    if found is None:
        if len(_COST_INPUTS) >= 16:  # a long-lived process that tries many policies
            _COST_INPUTS.clear()
        found = _COST_INPUTS[key] = _cost_inputs_behind(parameters, computed)
    return dict(found)


def _cost_inputs_behind(parameters, computed: frozenset[str]) -> dict[str, tuple[str, ...]]:
    from infra_policy.engine.stages.cost import COST_INPUTS, analyse_cost

    every = {name: 1.0 for name in (*COST_INPUTS, "capitalBudgetUSD")}
    analysis = analyse_cost(every, parameters)
    found = {v.name: analysis.stated_inputs(v.name) for v in analysis.values}
    # a result this run did not reach (e.g. the break-even share when it never breaks even) needs the lot
    every_input = tuple(sorted({i for inputs in found.values() for i in inputs}))
    return {name: found.get(name, every_input) for name in (*found, *computed)}


def workload_phrasing(w: WorkloadDecision, policy: Policy, vocabulary: Vocabulary) -> Phrasing:
    """Sentences about this workload's facts: what the cost model lacks, what each conclusion rests on."""
    lacking = tuple(sorted({m.fact for m in w.cost.missing}))
    stated = set(w.profile.facts)
    not_computed = {
        # what it still needs: the inputs already stated are not asked for again
        name: tuple(n for n in (lacking or inputs) if n not in stated) or lacking or inputs
        for name, inputs in cost_inputs_behind(policy.factor_parameters, vocabulary.computed).items()
    }
    return Phrasing(
        vocabulary,
        producers=policy.producers,
        titles=policy.titles,
        not_computed=not_computed,
        conditions=policy.conditions,
    )


class _Asking:
    """What the why-not answers for one workload share, whichever stance is asked: its phrasing and the
    shortfalls of each rule (a rule can support two stances asked, e.g. in-house and hybrid)."""

    def __init__(self, w: WorkloadDecision, policy: Policy, vocabulary: Vocabulary | None) -> None:
        self.phrasing = workload_phrasing(w, policy, vocabulary) if vocabulary is not None else None
        self.values = w.values()
        self.derived = frozenset(d.name for d in w.derivations)
        self.fired = {f.rule for f in w.firings}
        self.tally = w.tally.facts()
        self._changes: dict[tuple[str, bool], tuple[tuple[str, ...], int]] = {}

    def shortfalls(self, rule: Rule, of_tally: bool = False) -> tuple[tuple[str, ...], int]:
        """What would have to change for ``rule`` to apply, in words, and how many facts that is."""
        if self.phrasing is None:
            return (), 0
        key = (rule.id, of_tally)
        found = self._changes.get(key)
        if found is None:
            facts, derived = (self.tally, frozenset()) if of_tally else (self.values, self.derived)
            missing = self.phrasing.shortfalls(rule.when, facts, derived)
            found = (tuple(s.sentence for s in missing), len({s.fact or s.sentence for s in missing}))
            self._changes[key] = found
        return found

    def changes(self, rule: Rule, of_tally: bool = False) -> tuple[str, ...]:
        return self.shortfalls(rule, of_tally)[0]


def why_not_workload(
    ev: Evaluation,
    w: WorkloadDecision,
    policy: Policy,
    asked: str,
    vocabulary: Vocabulary | None = None,
    asking: _Asking | None = None,
) -> WhyNot:
    if w.stance == asked:
        return WhyNot(w.id, w.profile.name, w.stance, asked, True, (), ())
    asking = asking or _Asking(w, policy, vocabulary)
    values, derived, fired = asking.values, asking.derived, asking.fired
    factor: list[Missed] = []
    for rule in policy.factor_rules:
        if rule.id in fired:
            continue
        support = _supports(rule, asked, w)
        if support is None:
            continue
        failure = first_failure(rule.when, values, derived)
        if failure is not None:
            assess = rule.then if isinstance(rule.then, Assess) else None
            words, facts = asking.shortfalls(rule)
            factor.append(
                Missed(
                    rule.id,
                    rule.title,
                    support[0],
                    support[1],
                    failure,
                    words,
                    assess.favors if assess else "",
                    assess.weight if assess else 0,
                    facts,
                )
            )
    tally = asking.tally
    stance: list[Missed] = []
    for rule in policy.stance_rules:
        if isinstance(rule.then, SetStance) and rule.then.stance == asked:
            failure = first_failure(rule.when, tally)
            if failure is not None:
                stance.append(
                    Missed(rule.id, rule.title, f"stance {asked}", -rule.priority, failure, asking.changes(rule, True))
                )
            elif rule.id != w.stance_firing.rule:
                winner = policy.by_id[w.stance_firing.rule]
                stance.append(
                    Missed(
                        rule.id,
                        rule.title,
                        f"stance {asked}",
                        -rule.priority,
                        Failure(f"outranked by {winner.id} (priority {winner.priority})", None, None, True),
                        (f"a rule tried before it decides first: “{winner.title}”",),
                    )
                )
    # the change closest to applying first: fewest facts to change (the size of the smallest change that
    # makes the rule apply, as far as its condition tells: of an `any`, the alternative needing fewest),
    # then the most it would do
    factor.sort(key=lambda m: (m.distance, -m.rank, m.rule))
    return WhyNot(w.id, w.profile.name, w.stance, asked, w.stance == asked, tuple(stance), tuple(factor))


def why_not_organization(ev: Evaluation, policy: Policy, asked: str, vocabulary: Vocabulary | None = None) -> WhyNot:
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
                words = _organization_changes(rule, facts, d, vocabulary) if vocabulary is not None else ()
                missed.append(Missed(rule.id, rule.title, f"stance {asked}", -rule.priority, failure, words))
    return WhyNot(d.organization.id, d.organization.name, d.stance, asked, d.stance == asked, tuple(missed), ())


def _organization_changes(rule: Rule, facts, d, vocabulary: Vocabulary) -> tuple[str, ...]:
    """The organization rule's shortfalls in words; a shared placement is said with each workload's."""
    phrasing = Phrasing(vocabulary)
    out = []
    for s in phrasing.shortfalls(rule.when, facts):
        if s.fact == "common_stance":
            mix = ", ".join(f"{w.profile.name} is {w.stance}" for w in d.workloads)
            wanted = rule.then.stance if isinstance(rule.then, SetStance) else ""
            out.append(f"every workload would have to be {wanted}; no placement is shared: {mix}")
        else:
            out.append(s.sentence)
    return tuple(out)


def why_not(ev: Evaluation, policy: Policy, asked: str, vocabulary: Vocabulary | None = None) -> list[WhyNot]:
    """Why the organization and each workload did not get the stance ``asked``.

    With the ``vocabulary``, each missed rule also says in words everything that would have to change
    for it to apply, and the rules closest to applying come first.
    """
    return why_not_each(ev, policy, (asked,), vocabulary)[asked]


def why_not_each(
    ev: Evaluation, policy: Policy, stances: tuple[str, ...], vocabulary: Vocabulary | None = None
) -> dict[str, list[WhyNot]]:
    """:func:`why_not` for each of ``stances``, each workload's phrasing and shortfalls worked out once."""
    for asked in stances:
        if asked not in STANCES:
            raise ValueError(f"unknown stance {asked!r}; one of {', '.join(STANCES)}")
    workloads = ev.decision.workloads
    shared: list[_Asking | None] = [None] * len(workloads)

    def asking(index: int, asked: str) -> _Asking | None:
        if workloads[index].stance == asked:
            return None  # answered without looking at the rules
        if shared[index] is None:
            shared[index] = _Asking(workloads[index], policy, vocabulary)
        return shared[index]

    return {
        asked: [why_not_organization(ev, policy, asked, vocabulary)]
        + [why_not_workload(ev, w, policy, asked, vocabulary, asking(i, asked)) for i, w in enumerate(workloads)]
        for asked in stances
    }


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


def tree(ev: Evaluation, root: str | None = None, words: NodeWords | None = None) -> TreeNode:
    """The premises of ``root`` (default: the organization's stance) as a tree.

    With ``words``, each node is labelled in plain words and the nodes that only repeat a rule (the rule
    beside its firing, the firing under the conclusion it draws) are left out; the JSON keeps the graph's.
    """
    g = ev.justification.graph
    root = root or organization_stance_iri(ev.decision.organization.id)
    seen: set[str] = set()

    def premises_of(node: str) -> list[str]:
        found = sorted(g.predecessors(node), key=lambda n: (_ORDER.get(g.nodes[n]["kind"], 9), n))
        if words is None:
            return found
        out = []
        for p in found:
            kind = g.nodes[p]["kind"]
            if kind == "rule":
                continue  # its title is the firing's label
            if g.nodes[node]["kind"] == "derived" and kind == "firing":
                out.extend(premises_of(p))  # the conclusion's label is its rule's title already
                continue
            out.append(p)
        return out

    def build(node: str) -> TreeNode:
        data = g.nodes[node]
        label = words.label(data, node) if words is not None else data["label"]
        if node in seen and g.in_degree(node):
            return TreeNode(node, data["kind"], label, data.get("line"), (), repeated=True)
        seen.add(node)
        return TreeNode(node, data["kind"], label, data.get("line"), tuple(build(p) for p in premises_of(node)))

    return build(root)


class NodeWords:
    """The justification graph's nodes said in the vocabulary's and the rules' words, without ids."""

    def __init__(self, ev: Evaluation, policy: Policy, kb) -> None:
        from rdflib import RDF

        d = ev.decision
        self.names = {d.organization.id: d.organization.name} | {w.id: w.profile.name for w in d.workloads}
        self.policy = policy
        self.kb = kb
        self.claims = {claim.iri: claim for claim in kb.claims.values()}
        self.rdf_type = str(RDF.type)
        # what the tally did not add as it stands, so that the listed arguments add up to its figures
        self.not_added: dict[str, str] = {}
        for w in d.workloads:
            for loser, winner in w.tally.superseded:
                self.not_added[conclusion_iri("assessment", w.id, loser)] = (
                    f"not added: its point is already counted through “{policy.by_id[winner].title.rstrip('.')}”"
                )
            capped = {(factor, side) for factor, side, _ in w.tally.capped}
            for a in w.assessments:
                if (a.factor, a.favors) in capped:
                    cap = policy.parameters["factor_cap"]
                    self.not_added.setdefault(
                        conclusion_iri("assessment", w.id, a.rule), f"its factor adds at most {cap} for one side"
                    )

    def label(self, data: dict, node: str = "") -> str:
        from infra_policy.engine.outputs.wording import terms_in_words, value_words
        from infra_policy.engine.policy.tally import STRENGTH

        kind, vocabulary = data["kind"], self.kb.vocabulary
        rule = self.policy.by_id.get(data.get("rule", ""))
        if kind in ("firing", "derived") and rule is not None:
            return rule.title
        if kind == "assessment" and rule is not None and isinstance(rule.then, Assess):
            factor = self.kb.factors[rule.then.factor].label + ": " if rule.then.factor in self.kb.factors else ""
            note = f" ({self.not_added[node]})" if node in self.not_added else ""
            return f"{factor}a {STRENGTH[rule.then.weight]} argument for {side_words(rule.then.favors)}{note}"
        if kind == "constraint" and rule is not None and isinstance(rule.then, RuleOut):
            return f"rules out {side_words(rule.then.side)}"
        if kind == "tally":
            name = data["label"].removeprefix("tally of ")
            weights = f"cloud {data.get('cloud_weight')} · in-house {data.get('in_house_weight')}"
            return f"the arguments counted for {name} ({weights})"
        if kind == "claim" and data.get("label", "").count(" — "):
            return "the article: " + data["label"].split(" — ", 1)[1]
        if kind == "parameter":
            from infra_policy.engine.stages.cost import DEFAULT_PARAMETERS

            name, _, value = data["label"].partition(" = ")
            prop = vocabulary.get(DEFAULT_PARAMETERS.get(name, ""))
            if prop is not None:
                return f"the policy's default {prop.label}, as it is not stated: {value.removesuffix(' (rules)')}"
        if kind == "computed":
            return terms_in_words(data["label"], vocabulary)
        if kind == "fact":
            subject = self.names.get(data.get("subject", ""), data.get("subject", ""))
            assumed = " (assumed)" if data.get("assumed") else ""
            if data.get("property") == self.rdf_type:
                what = "the organization" if data.get("value", "").endswith("#Organization") else "a workload"
                return f"{subject} is {what}"
            name = str(data.get("property", "")).rsplit("#", 1)[-1]
            prop = vocabulary.get(name)
            if prop is None:
                return data["label"]
            return f"{subject}: {prop.label} {value_words(_fact_value(data, prop), vocabulary)}{assumed}"
        return data["label"]


def _fact_value(data: dict, prop) -> object:
    """A fact node's value as the vocabulary's words need it: an individual's name, a number, a boolean."""
    text = str(data.get("value", ""))
    if text.startswith("https://w3id.org/infra-policy#"):
        return text.rsplit("#", 1)[-1]
    if prop.kind == "boolean":
        return text.lower() == "true"
    if prop.numeric:
        try:
            return float(text)
        except ValueError:
            return text
    return text


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


__all__ = ["Failure", "Missed", "NodeWords", "TreeNode", "WhyNot", "first_failure", "resolve_node", "tree", "why_not"]


# ---------------------------------------------------------------------------
# rendering

_KIND_MARK = {
    "fact": "fact",
    "claim": "claim",
    "rule": "rule",
    "firing": "applied",
    "computed": "worked out",
    "parameter": "policy default",
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
        "changes": list(m.changes),
        "changes_needed": m.distance,
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


def _changes_text(m: Missed) -> list[str]:
    return list(m.changes) or [m.failure.sentence()]


def render_why_not(answers: list[WhyNot], limit: int | None = 8, verbose: bool = False) -> str:
    """Why not, in words: what would have to change, the change closest to applying first.

    ``limit`` bounds the rules shown per subject (None: all of them); ``verbose`` adds rule ids.
    """
    out: list[str] = []
    for a in answers:
        out.append(f"{a.name}: {a.stance}" + (f" — already {a.asked}" if a.already else f", not {a.asked}"))
        if a.already:
            out.append("")
            continue
        for m in a.stance_rules:
            rule = f" [{m.rule}]" if verbose else ""
            out.extend(wrap(f"To be {a.asked}: " + "; and ".join(_changes_text(m)) + rule, "  "))
        if a.factor_rules:
            out.append(f"  What would argue for {a.asked}, closest to applying first:")
            shown = a.factor_rules if limit is None else a.factor_rules[:limit]
            for m in shown:
                out.extend(wrap(f"• {m.title}", "    ", "      "))
                rule = f" [{m.rule}]" if verbose else ""
                needs = "; ".join(_changes_text(m))
                count = f"{m.distance} change{'s' * (m.distance > 1)}"
                out.extend(wrap(f"{m.effect()} — {count}: {needs}{rule}", "      "))
            if len(shown) < len(a.factor_rules):
                out.append(f"    … and {len(a.factor_rules) - len(shown)} more (all of them: --full)")
        out.append("")
    return printable("\n".join(out))
