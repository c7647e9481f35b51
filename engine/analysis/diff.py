"""Two decisions compared the way a decision maker reads them.

First the stances that changed (organization, then each workload), then the
stated facts that changed (old → new, in the vocabulary's words), then the
reasons that appeared or disappeared. Both sides are decision documents
(``infra-policy/decision@1``, the JSON of ``evaluate``), so a facts file, a
decision's JSON and a record all compare alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra_policy.engine.outputs.wording import fact_words, sentence_case, value_words, wrap
from infra_policy.engine.policy.tally import STRENGTH
from infra_policy.engine.vocabulary import Vocabulary


@dataclass(frozen=True)
class StanceMove:
    subject: str
    name: str
    before: str | None  # None: not in A
    after: str | None  # None: not in B


@dataclass(frozen=True)
class FactChange:
    subject: str
    name: str  # the subject's display name
    property: str
    before: object  # None: not stated in A
    after: object  # None: not stated in B
    # whether the value was assumed (`--set`) rather than stated, in A and in B
    assumed_before: bool = False
    assumed_after: bool = False
    # the workload's value came from the organization (it stated none of its own), in A and in B
    inherited_before: bool = False
    inherited_after: bool = False


@dataclass(frozen=True)
class ReasonChange:
    workload: str
    name: str
    rule: str
    title: str
    favors: str
    weight: int | None
    change: str  # "appeared" | "disappeared"


@dataclass(frozen=True)
class DecisionDiff:
    stances: tuple[StanceMove, ...]
    facts: tuple[FactChange, ...]
    reasons: tuple[ReasonChange, ...]
    unchanged: tuple[StanceMove, ...] = field(default=())

    @property
    def same(self) -> bool:
        return not (self.stances or self.facts or self.reasons)

    def to_dict(self) -> dict:
        def value(v: object) -> object:
            return list(v) if isinstance(v, tuple) else v

        return {
            "format": "infra-policy/diff@1",
            "same": self.same,
            "stances": [
                {"subject": m.subject, "name": m.name, "before": m.before, "after": m.after} for m in self.stances
            ],
            "facts": [
                {
                    "subject": f.subject,
                    "name": f.name,
                    "property": f.property,
                    "before": value(f.before),
                    "after": value(f.after),
                    **({"assumed_before": True} if f.assumed_before else {}),
                    **({"assumed_after": True} if f.assumed_after else {}),
                    **({"inherited_before": True} if f.inherited_before else {}),
                    **({"inherited_after": True} if f.inherited_after else {}),
                }
                for f in self.facts
            ],
            "reasons": [
                {
                    "workload": r.workload,
                    "name": r.name,
                    "rule": r.rule,
                    "title": r.title,
                    "favors": r.favors,
                    "weight": r.weight,
                    "change": r.change,
                }
                for r in self.reasons
            ],
        }


def _compared(value: object) -> object:
    """A recorded value as two decisions are compared: a list of values in no particular order."""
    return tuple(sorted(value, key=str)) if isinstance(value, list) else value


def _stated(decision: dict) -> dict[tuple[str, str], tuple[str, object, bool]]:
    """(subject, property) → (subject's name, value, assumed), each fact once (inherited ones on the organization)."""
    org = decision["organization"]
    names = {org["id"]: org["name"], **{w["id"]: w["name"] for w in decision["workloads"]}}
    found: dict[tuple[str, str], tuple[str, object, bool]] = {}
    for w in decision["workloads"]:
        for fact in w.get("facts", []):
            if fact["property"] == "name":
                continue
            subject = fact["subject"]
            value = fact["value"]
            found[(subject, fact["property"])] = (
                names.get(subject, subject),
                _compared(value),
                fact.get("assumed") is True,
            )
            if "replaces" in fact:  # the organization still states its value, even if no workload takes it
                found.setdefault((org["id"], fact["property"]), (org["name"], _compared(fact["replaces"]), False))
    return found


def _inherited(decision: dict) -> dict[tuple[str, str], object]:
    """(workload, property) → the value a workload takes from the organization, for those stating none."""
    return {
        (w["id"], fact["property"]): _compared(fact["value"])
        for w in decision["workloads"]
        for fact in w.get("facts", [])
        if fact.get("inherited") and not w.get("implicit")
    }


def _counted(workload: dict) -> dict[str, dict]:
    found = {a["rule"]: a for a in workload.get("assessments", []) if a.get("counted", True)}
    found.update({c["rule"]: c for c in workload.get("constraints", [])})
    return found


def diff_decisions(a: dict, b: dict) -> DecisionDiff:
    """What differs between decision documents ``a`` and ``b``, what matters first."""
    moves, same = [], []
    org_a, org_b = a["organization"], b["organization"]
    org_pair = StanceMove(org_a["id"], org_b["name"], org_a["stance"], org_b["stance"])
    (moves if org_pair.before != org_pair.after else same).append(org_pair)
    by_id_b = {w["id"]: w for w in b["workloads"]}
    by_id_a = {w["id"]: w for w in a["workloads"]}
    for w in a["workloads"]:
        other = by_id_b.get(w["id"])
        pair = StanceMove(w["id"], w["name"], w["stance"], other["stance"] if other else None)
        if w.get("implicit") and (pair.subject, pair.before, pair.after) == (
            org_pair.subject,
            org_pair.before,
            org_pair.after,
        ):
            continue  # the organization evaluated as its own workload: its line already says it
        (moves if pair.before != pair.after else same).append(pair)
    for w in b["workloads"]:
        if w["id"] not in by_id_a:
            moves.append(StanceMove(w["id"], w["name"], None, w["stance"]))

    stated_a, stated_b = _stated(a), _stated(b)
    inherited_a, inherited_b = _inherited(a), _inherited(b)
    facts = []
    for key in sorted(set(stated_a) | set(stated_b)):
        before, after = stated_a.get(key), stated_b.get(key)
        if (before and before[1:]) != (after and after[1:]):
            name = (after or before)[0]
            # a workload's own value that appears or goes: what it replaces is the organization's value
            from_org_before = before is None and key in inherited_a
            from_org_after = after is None and key in inherited_b
            facts.append(
                FactChange(
                    key[0],
                    name,
                    key[1],
                    inherited_a[key] if from_org_before else before and before[1],
                    inherited_b[key] if from_org_after else after and after[1],
                    bool(before and before[2]),
                    bool(after and after[2]),
                    from_org_before,
                    from_org_after,
                )
            )

    reasons = []
    for w in a["workloads"]:
        other = by_id_b.get(w["id"])
        if other is None:
            continue
        ca, cb = _counted(w), _counted(other)
        for rule in sorted(set(ca) | set(cb)):
            if rule in ca and rule in cb:
                continue
            entry = cb.get(rule) or ca[rule]
            favors = entry.get("favors") or (f"rules out {entry['rules_out']}" if entry.get("rules_out") else "")
            change = "appeared" if rule in cb else "disappeared"
            reasons.append(ReasonChange(w["id"], w["name"], rule, entry["title"], favors, entry.get("weight"), change))
    return DecisionDiff(tuple(moves), tuple(facts), tuple(reasons), tuple(same))


def render_diff(d: DecisionDiff, vocabulary: Vocabulary, label_a: str = "A", label_b: str = "B") -> str:
    """The diff for people: stance changes, then fact changes, then reasons."""
    out = [f"Comparing {label_a} → {label_b}"]
    if d.same:
        out.append("The same decision on the same stated facts.")
        return "\n".join(out) + "\n"
    out.append("")
    if d.stances:
        out.append("Stances that changed:")
        for m in d.stances:
            before = m.before or "(not in A)"
            after = m.after or "(not in B)"
            out.append(f"  {m.name}: {before} → {after}")
    else:
        out.append("No stance changed.")
    if d.unchanged:
        out.extend(wrap("Unchanged: " + "; ".join(f"{m.name} {m.before}" for m in d.unchanged), "  ", "    "))
    if d.facts:
        out.append("")
        out.append("Facts that changed:")
        for f in d.facts:
            label = sentence_case(fact_words(f.property, vocabulary).removeprefix("the "))
            before = "not stated" if f.before is None else value_words(f.before, vocabulary)
            after = "not stated" if f.after is None else value_words(f.after, vocabulary)
            if f.inherited_before:
                before += " (the organization's)"
            if f.inherited_after:
                after += " (the organization's)"
            if f.assumed_before != f.assumed_after:  # the same value may have been assumed on one side only
                before += " (assumed)" if f.assumed_before else " (stated)"
                after += " (assumed)" if f.assumed_after else " (stated)"
            out.extend(wrap(f"{f.name}: {label} {before} → {after}", "  ", "    "))
    if d.reasons:
        out.append("")
        out.append("Reasons that appeared or disappeared:")
        for r in d.reasons:
            sign = "+" if r.change == "appeared" else "−"
            weight = f", {STRENGTH.get(r.weight, r.weight)}" if r.weight else ""
            out.extend(wrap(f"{sign} {r.name}: {r.title} ({r.favors}{weight}, {r.change})", "  ", "      "))
    return "\n".join(out) + "\n"
