"""The impact of a policy change: the same facts decided under two policies, and what moved.

Each facts document is validated and profiled once (both policies share the knowledge base, which is
what validation and profiling read) and decided under the base policy and the new one. A decision
*changes* when the stance or the hybrid plan of the organization or of a workload differs; for each
changed workload the rules that made the difference are named — fired under one policy and not the
other, or fired under both with another weight — and the decision diff (``engine/analysis/diff.py``)
lists the counted reasons that appeared or disappeared. A workload whose stance and plan stay but whose
counted reasons or weights move is *reweighed*: counted, not detailed.

Recorded decisions (``evaluate --record``) hold their stated facts; ``engine/records/replay.py`` turns a
decision document back into facts so that a corpus of records can be decided again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from infra_policy.engine.analysis.diff import DecisionDiff, diff_decisions
from infra_policy.engine.model import Decision, HybridPlan, WorkloadDecision
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.stages.load import FactsDocument
from infra_policy.engine.stages.validate import validate_facts

IMPACT_FORMAT = "infra-policy/impact@1"


@dataclass(frozen=True)
class RuleDifference:
    """One rule that made a difference for a workload (or the organization)."""

    rule: str
    title: str
    change: str  # "fired under the new policy only" | "fired under the base policy only" | "weight" | "decided"
    detail: str  # for people: "+ in-house 1", "weight 1 → 2", "decides now (was stance.clear-cloud)"

    def to_dict(self) -> dict:
        return {"rule": self.rule, "title": self.title, "change": self.change, "detail": self.detail}


@dataclass(frozen=True)
class Side:
    """A subject's outcome under one policy."""

    stance: str
    plan: str | None  # the hybrid plan's id
    plan_title: str | None
    cloud_weight: int | None = None  # workloads only
    in_house_weight: int | None = None
    balance: float | None = None

    def to_dict(self) -> dict:
        found: dict = {"stance": self.stance, "plan": self.plan}
        if self.cloud_weight is not None:
            found |= {"cloud_weight": self.cloud_weight, "in_house_weight": self.in_house_weight}
            found["balance"] = self.balance
        return found


@dataclass(frozen=True)
class SubjectChange:
    """The organization or a workload whose stance or plan differs between the policies."""

    subject: str
    name: str
    kind: str  # "organization" | "workload"
    before: Side
    after: Side
    rules: tuple[RuleDifference, ...] = ()

    def to_dict(self) -> dict:
        return {
            "id": self.subject,
            "name": self.name,
            "kind": self.kind,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "rules": [r.to_dict() for r in self.rules],
        }


@dataclass(frozen=True)
class DecisionImpact:
    """One facts document decided under both policies."""

    source: str
    organization: str  # the organization's name
    workloads: int
    changes: tuple[SubjectChange, ...]  # organization first, then workloads in file order
    reweighed: tuple[str, ...] = ()  # names of workloads weighed differently with the same stance and plan
    diff: DecisionDiff | None = None  # the decision diff, for a changed decision

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def to_dict(self) -> dict:
        found = {
            "source": self.source,
            "organization": self.organization,
            "workloads": self.workloads,
            "changes": [c.to_dict() for c in self.changes],
            "reweighed": list(self.reweighed),
        }
        if self.diff is not None:
            found["reasons"] = [
                {"workload": r.workload, "name": r.name, "rule": r.rule, "favors": r.favors, "change": r.change}
                | ({"weight": r.weight} if r.weight else {})
                for r in self.diff.reasons
            ]
        return found


def _plan(plan: HybridPlan | None) -> tuple[str | None, str | None]:
    return (plan.id, plan.title) if plan is not None else (None, None)


def _side(w: WorkloadDecision) -> Side:
    plan, title = _plan(w.plan)
    t = w.tally
    return Side(w.stance, plan, title, t.cloud_weight, t.in_house_weight, round(t.balance, 4))


def _title(rule_id: str, *evaluators: Evaluator) -> str:
    for evaluator in evaluators:
        if rule_id in evaluator.policy.by_id:
            return evaluator.policy.by_id[rule_id].title
    return ""


def _conclusion(rule_id: str, evaluator: Evaluator) -> str:
    rule = evaluator.policy.by_id.get(rule_id)
    then = getattr(rule, "then", None)
    if hasattr(then, "weight"):
        return f"{then.favors} {then.weight}"
    if hasattr(then, "side"):
        return f"rules out {then.side}"
    if hasattr(then, "name"):
        return f"derives {then.name}"
    return ""


def _redefined(rule_id: str, base: Evaluator, new: Evaluator) -> str:
    """ " (redefined by the new policy)" when the rule is in both policies with another condition or conclusion."""
    a, b = base.policy.by_id.get(rule_id), new.policy.by_id.get(rule_id)
    if a is not None and b is not None and (a.when != b.when or a.then != b.then):
        return " (redefined by the new policy)"
    return ""


def _rule_differences(a: WorkloadDecision, b: WorkloadDecision, base: Evaluator, new: Evaluator) -> list:
    fired_a = {f.rule for f in a.firings}
    fired_b = {f.rule for f in b.firings}
    found: list[RuleDifference] = []
    if a.stance_firing.rule != b.stance_firing.rule or a.stance != b.stance:
        rule = b.stance_firing.rule
        was = a.stance_firing.rule
        detail = f"gives {b.stance} now (was {was}, {a.stance})" if was != rule else f"gives {b.stance} now"
        detail += _redefined(rule, base, new) or _redefined(was, base, new)
        found.append(RuleDifference(rule, _title(rule, new, base), "decided", detail))
    for rule in sorted(fired_b - fired_a):
        what = _conclusion(rule, new)
        detail = f"+ {what}".strip() + _redefined(rule, base, new)
        found.append(RuleDifference(rule, _title(rule, new), "fired under the new policy only", detail))
    for rule in sorted(fired_a - fired_b):
        what = _conclusion(rule, base)
        gone = " (not in the new policy)" if rule not in new.policy.by_id else _redefined(rule, base, new)
        found.append(
            RuleDifference(rule, _title(rule, base), "fired under the base policy only", f"− {what}{gone}".strip())
        )
    weights_a = {x.rule: x.weight for x in a.assessments}
    for x in b.assessments:
        if x.rule in weights_a and weights_a[x.rule] != x.weight:
            found.append(
                RuleDifference(x.rule, _title(x.rule, new), "weight", f"weight {weights_a[x.rule]} → {x.weight}")
            )
    return found


def _counted(w: WorkloadDecision) -> tuple:
    return tuple(sorted((x.rule, x.weight) for x in w.assessments if w.tally.counted(x.rule)))


def compare_decisions(
    source: str, before: Decision, after: Decision, base: Evaluator, new: Evaluator
) -> DecisionImpact:
    """What differs between one document's decisions under the base and the new policy."""
    changes: list[SubjectChange] = []
    plan_a, plan_b = _plan(before.plan), _plan(after.plan)
    if before.stance != after.stance or plan_a[0] != plan_b[0]:
        rules = []
        if before.stance_firing.rule != after.stance_firing.rule:
            rule = after.stance_firing.rule
            detail = f"gives {after.stance} now (was {before.stance_firing.rule}, {before.stance})"
            detail += _redefined(rule, base, new) or _redefined(before.stance_firing.rule, base, new)
            rules.append(RuleDifference(rule, _title(rule, new, base), "decided", detail))
        changes.append(
            SubjectChange(
                before.organization.id,
                before.organization.name,
                "organization",
                Side(before.stance, *plan_a),
                Side(after.stance, *plan_b),
                tuple(rules),
            )
        )
    reweighed = []
    for a, b in zip(before.workloads, after.workloads, strict=True):
        side_a, side_b = _side(a), _side(b)
        if (side_a.stance, side_a.plan) != (side_b.stance, side_b.plan):
            differences = tuple(_rule_differences(a, b, base, new))
            changes.append(SubjectChange(a.profile.id, a.profile.name, "workload", side_a, side_b, differences))
        elif _counted(a) != _counted(b) or a.tally != b.tally:
            reweighed.append(a.profile.name)
    return DecisionImpact(source, before.organization.name, len(before.workloads), tuple(changes), tuple(reweighed))


def decide_both(document: FactsDocument, source: str, base: Evaluator, new: Evaluator) -> DecisionImpact:
    """Validate and profile ``document`` once, decide it under both policies and compare.

    A changed decision is justified under both policies and compared with the decision diff as well.
    The search of what would change each stance is left out: the comparison does not read it.
    """
    validate_facts(document, base.kb)
    organization = base.profile(document)
    # what would change each stance (missing facts, questions) is not compared: not searched
    before = base.decide(document, organization, explore_changes=False)
    after = new.decide(document, organization, explore_changes=False)
    found = compare_decisions(source, before, after, base, new)
    if not found.changed:
        return found
    from infra_policy.engine.outputs.export import decision_dict

    a = decision_dict(base.justify(before, document), base.policy)
    b = decision_dict(new.justify(after, document), new.policy)
    return DecisionImpact(
        found.source, found.organization, found.workloads, found.changes, found.reweighed, diff_decisions(a, b)
    )


@dataclass
class Summary:
    decisions: int = 0
    decisions_changed: int = 0
    workloads: int = 0
    organization_stances_changed: int = 0
    workload_stances_changed: int = 0
    plans_changed: int = 0
    reweighed: int = 0
    failed: int = 0
    transitions: Counter = field(default_factory=Counter)  # (before, after) → workloads

    def add(self, impact: dict) -> None:
        """Count one decision (a :meth:`DecisionImpact.to_dict`)."""
        self.decisions += 1
        self.workloads += impact["workloads"]
        self.reweighed += len(impact["reweighed"])
        if impact["changes"]:
            self.decisions_changed += 1
        for change in impact["changes"]:
            before, after = change["before"], change["after"]
            if before["stance"] != after["stance"]:
                if change["kind"] == "organization":
                    self.organization_stances_changed += 1
                else:
                    self.workload_stances_changed += 1
                    self.transitions[(before["stance"], after["stance"])] += 1
            if before["plan"] != after["plan"]:
                self.plans_changed += 1

    def to_dict(self) -> dict:
        return {
            "decisions": self.decisions,
            "decisions_changed": self.decisions_changed,
            "decisions_failed": self.failed,
            "workloads": self.workloads,
            "organization_stances_changed": self.organization_stances_changed,
            "workload_stances_changed": self.workload_stances_changed,
            "plans_changed": self.plans_changed,
            "workloads_reweighed": self.reweighed,
            "transitions": [{"from": a, "to": b, "workloads": n} for (a, b), n in sorted(self.transitions.items())],
        }


def policy_description(evaluator: Evaluator, rules_label: str) -> dict:
    """How a report names a policy: where its rules come from, its overlays and its digest."""
    return {
        "rules": rules_label,
        "overlays": [o.summary() for o in evaluator.policy.overlays],
        "digest": evaluator.rules_digest,
    }


def impact_document(impacts: list[dict], errors: list[tuple[str, str]], base: dict, new: dict) -> dict:
    """The ``infra-policy/impact@1`` document (docs/impact.schema.json) of every decision's
    :meth:`DecisionImpact.to_dict`, in the order the corpus was given."""
    summary = Summary()
    for impact in impacts:
        summary.add(impact)
    summary.failed = len(errors)
    return {
        "format": IMPACT_FORMAT,
        "base": base,
        "new": new,
        "summary": summary.to_dict(),
        "decisions": [i for i in impacts if i["changes"]],
        "reweighed": [
            {"source": i["source"], "organization": i["organization"], "workloads": i["reweighed"]}
            for i in impacts
            if i["reweighed"]
        ],
        "errors": [{"source": s, "error": e} for s, e in errors],
    }


def _policy_text(description: dict) -> str:
    overlays = "".join(f" + overlay {o['name']} ({o['file']})" for o in description["overlays"])
    return f"{description['rules']}{overlays} ({description['digest'][:19]}…)"


def _side_text(side: dict) -> str:
    text = side["stance"]
    if side.get("plan"):
        text += f" [{side['plan']}]"
    return text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_impact(document: dict) -> str:
    """The impact report for people (deterministic: the same inputs give the same text)."""
    s = document["summary"]
    out = [
        f"Impact of the policy change on {_plural(s['decisions'], 'decision')} ({_plural(s['workloads'], 'workload')})",
        f"  base: {_policy_text(document['base'])}",
        f"  new:  {_policy_text(document['new'])}",
        "",
        f"Changed: {s['decisions_changed']} of {_plural(s['decisions'], 'decision')} — "
        f"{_plural(s['organization_stances_changed'], 'organization stance')}, "
        f"{_plural(s['workload_stances_changed'], 'workload stance')}, {_plural(s['plans_changed'], 'plan')}; "
        f"{_plural(s['workloads_reweighed'], 'workload')} weighed differently with the same stance and plan.",
    ]
    for t in s["transitions"]:
        out.append(f"  {t['from']} → {t['to']}: {_plural(t['workloads'], 'workload')}")
    for decision in document["decisions"]:
        out.append("")
        org = next((c for c in decision["changes"] if c["kind"] == "organization"), None)
        head = f"{decision['source']} — {decision['organization']}"
        if org is not None:
            head += f": {_side_text(org['before'])} → {_side_text(org['after'])}"
        out.append(head)
        for change in decision["changes"]:
            if change["kind"] == "organization":
                continue
            before, after = change["before"], change["after"]
            out.append(f"  {change['name']}: {_side_text(before)} → {_side_text(after)}")
            weights = [
                f"cloud {side['cloud_weight']} · in-house {side['in_house_weight']} (balance {side['balance']})"
                for side in (before, after)
            ]
            if weights[0] == weights[1]:
                out.append(f"    weights unchanged: {weights[0]}")
            else:
                out.append(f"    weights {weights[0]} → {weights[1]}")
            for rule in change["rules"]:
                out.append(f"    {rule['rule']}: {rule['detail']}")
        for reason in decision.get("reasons", []):
            sign = "+" if reason["change"] == "appeared" else "−"
            out.append(f"  {sign} reason {reason['rule']} ({reason['name']}, {reason['favors']}, {reason['change']})")
    if document["reweighed"]:
        out.append("")
        out.append("Weighed differently, with the same stance and plan:")
        for entry in document["reweighed"]:
            out.append(f"  {entry['source']} — {entry['organization']}: {', '.join(entry['workloads'])}")
    for error in document["errors"]:
        out.append("")
        out.append(f"error: {error['source']}: {error['error']}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# recorded decisions back into facts


__all__ = [
    "IMPACT_FORMAT",
    "DecisionImpact",
    "compare_decisions",
    "decide_both",
    "impact_document",
    "policy_description",
    "render_impact",
]
