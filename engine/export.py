"""Stage 7 — export: the decision as JSON (docs/decision.schema.json) and as text for people.

Both are deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import json

from .cost_output import cost_json, cost_lines
from .errors import printable
from .knowledge import KnowledgeBase
from .load import FactsDocument
from .model import Assessment, Firing, WorkloadDecision
from .pipeline import Evaluation
from .profile import StatedFact, display
from .ruleload import Policy
from .rules_ast import value_text

FORMAT = "infra-policy/decision@1"


def _fact(doc: FactsDocument, fact: StatedFact) -> dict:
    lines = sorted({line for t in fact.triples if (line := doc.line_of(t)) is not None})
    entry = {
        "property": fact.property,
        "value": list(fact.value) if isinstance(fact.value, tuple) else fact.value,
        "subject": fact.subject,
        "inherited": fact.inherited,
    }
    if lines:
        entry["lines"] = lines
    return entry


def _firing_facts(doc: FactsDocument, firing: Firing) -> list[dict]:
    return [_fact(doc, f) for f in firing.facts]


def _conclusion(
    doc: FactsDocument, w: WorkloadDecision, firing: Firing, title: str, claims: tuple[str, ...], what: dict
) -> dict:
    return {
        "rule": firing.rule,
        "title": title,
        **what,
        "claims": list(claims),
        "facts": _firing_facts(doc, firing),
        "derived_from": list(firing.derived),
        **({"computed_from": [{"fact": n, "value": v} for n, v in firing.computed]} if firing.computed else {}),
        "grounds": [_fact(doc, f) for f in w.grounds(firing)],
    }


def _workload(ev: Evaluation, w: WorkloadDecision, policy: Policy) -> dict:
    doc = ev.document
    rule = policy.by_id
    t = w.tally
    return {
        "id": w.id,
        "name": w.profile.name,
        "implicit": w.profile.implicit,
        "stance": w.stance,
        "stance_rule": {"id": w.stance_firing.rule, "title": rule[w.stance_firing.rule].title},
        "reasons": [a.rule for a in w.decisive()],
        "assessments": [
            _conclusion(
                doc,
                w,
                a.firing,
                rule[a.rule].title,
                a.claims,
                {"factor": a.factor, "favors": a.favors, "weight": a.weight},
            )
            for a in w.assessments
        ],
        "constraints": [
            _conclusion(doc, w, c.firing, rule[c.rule].title, c.claims, {"requires": c.requires}) for c in w.constraints
        ],
        "derived": [{"rule": d.rule, "name": d.name, "facts": _firing_facts(doc, d.firing)} for d in w.derivations],
        "tally": {
            **t.facts(),
            "by_factor": [{"factor": f, "cloud": c, "in-house": i} for f, c, i in t.by_factor],
        },
        "missing_facts": [
            {
                "fact": m.property,
                "label": m.label,
                "could_lead_to": [{"stance": s, "example_value": v} for s, v in m.outcomes],
                "rules": list(m.rules),
                **({"needed_for": m.needed_for} if m.needed_for else {}),
            }
            for m in w.missing
        ],
        "cost": cost_json(w.cost),
        "facts": [_fact(doc, f) for f in w.profile.facts.values()],
    }


def decision_dict(ev: Evaluation, policy: Policy) -> dict:
    d = ev.decision
    org = d.organization
    return {
        "format": FORMAT,
        "organization": {
            "id": org.id,
            "name": org.name,
            "stance": d.stance,
            "stance_rule": {"id": d.stance_firing.rule, "title": policy.by_id[d.stance_firing.rule].title},
            "placement": [{"workload": w.id, "name": w.profile.name, "stance": w.stance} for w in d.workloads],
        },
        "workloads": [_workload(ev, w, policy) for w in d.workloads],
        "justification": ev.justification.to_dict(),
        "inputs": {"facts": d.inputs.facts, "kb": d.inputs.kb, "rules": d.inputs.rules},
    }


def render_json(ev: Evaluation, policy: Policy) -> str:
    return json.dumps(decision_dict(ev, policy), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# text

_STRENGTH = {1: "weak", 2: "moderate", 3: "strong"}


def _fact_text(doc: FactsDocument, fact: StatedFact) -> str:
    lines = sorted({line for t in fact.triples if (line := doc.line_of(t)) is not None})
    where = f", line {', '.join(map(str, lines))}" if lines else ""
    origin = "organization default, " if fact.inherited else ""
    subject = display(doc, fact.triples[0][0]) if fact.triples else fact.subject
    return f"{fact.property} = {value_text(fact.value)} ({origin}{subject}{where})"


def _reason_lines(
    ev: Evaluation, w: WorkloadDecision, a: Assessment, kb: KnowledgeBase, policy: Policy, indent: str
) -> list[str]:
    rule = policy.by_id[a.rule]
    factor = kb.factors[a.factor].label if a.factor in kb.factors else a.factor
    lines = [f"{indent}• {rule.title}", f"{indent}  {a.favors}, {_STRENGTH[a.weight]} · {factor} · {a.rule}"]
    given = "; ".join(_fact_text(ev.document, fact) for fact in w.grounds(a.firing))
    via = f" — via {', '.join(a.firing.derived)}" if a.firing.derived else ""
    via += "".join(f" — computed {n} = {value_text(v)}" for n, v in a.firing.computed)
    lines.append(f"{indent}  given: {given}{via}")
    sections = [kb.claims[c].section for c in a.claims if c in kb.claims and kb.claims[c].section]
    if sections:
        lines.append(f"{indent}  article: {'; '.join(dict.fromkeys(sections))}")
    return lines


def render_text(ev: Evaluation, kb: KnowledgeBase, policy: Policy, reasons_per_side: int = 5) -> str:
    d = ev.decision
    out: list[str] = []
    out.append(f"{d.organization.name}: {d.stance.upper()}")
    out.append(f"  {policy.by_id[d.stance_firing.rule].title}")
    if len(d.workloads) > 1 or not d.workloads[0].profile.implicit:
        out.append("")
        out.append("Placement")
        width = max(len(w.profile.name) for w in d.workloads)
        for w in d.workloads:
            out.append(f"  {w.profile.name.ljust(width)}  {w.stance}")
    for w in d.workloads:
        t = w.tally
        out.append("")
        out.append(f"── {w.profile.name}: {w.stance.upper()}")
        out.append(
            f"  Why: {policy.by_id[w.stance_firing.rule].title} (cloud {t.cloud_weight} · in-house {t.in_house_weight})"
        )
        for c in w.constraints:
            out.append(f"  Requirement: {policy.by_id[c.rule].title} → requires {c.requires} (rule {c.rule})")
            out.append("    given: " + "; ".join(_fact_text(ev.document, f) for f in w.grounds(c.firing)))
        decisive = w.decisive()
        if decisive:
            label = "Decisive reasons" if w.stance in ("cloud", "in-house") else "Reasons on both sides"
            out.append(f"  {label}:")
            for side in ("in-house", "cloud"):
                chosen = [a for a in decisive if a.favors == side][:reasons_per_side]
                for a in chosen:
                    out.extend(_reason_lines(ev, w, a, kb, policy, "    "))
                hidden = len([a for a in decisive if a.favors == side]) - len(chosen)
                if hidden > 0:
                    out.append(f"    … and {hidden} more favoring {side} (see --format json)")
        against = [a for a in w.assessments if a not in decisive]
        if against:
            out.append(
                "  Outweighed: "
                + "; ".join(f"{policy.by_id[a.rule].title} ({a.favors}, {_STRENGTH[a.weight]})" for a in against)
            )
        out.extend(cost_lines(w.cost))
        if w.missing:
            out.append("  Missing facts that could change this:")
            for m in w.missing:
                if m.needed_for and not m.outcomes:
                    out.append(f"    • ip:{m.property} ({m.label}): needed for {m.needed_for}")
                    continue
                options = ", ".join(f"{s} (e.g. {value_text(v)})" for s, v in m.outcomes)
                out.append(f"    • ip:{m.property} ({m.label}): could make it {options}")
        elif not w.assessments and not w.constraints:
            out.append("  No rule applied: state more facts about this workload.")
    out.append("")
    out.append(f"facts {d.inputs.facts[:19]}… · kb {d.inputs.kb[:19]}… · rules {d.inputs.rules[:19]}…")
    # names and values come from the user's file: never let them drive the terminal
    return printable("\n".join(out) + "\n")
