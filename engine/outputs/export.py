"""Stage 7 — export: the decision as JSON (docs/decision.schema.json) and as text for people.

Both are deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from infra_policy.engine.errors import printable
from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.model import Assessment, Decision, Firing, HybridPlan, WorkloadDecision
from infra_policy.engine.outputs.cost_output import cost_json, cost_lines
from infra_policy.engine.outputs.jsonstream import Encoded, Lazy, SortedRuns, encoded_items, write_json
from infra_policy.engine.outputs.wording import fact_words, sentence_case, terms_in_words, value_words, wrap
from infra_policy.engine.pipeline import Evaluation
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import value_text
from infra_policy.engine.policy.tally import STRENGTH
from infra_policy.engine.stages.load import FactsDocument
from infra_policy.engine.stages.profile import StatedFact, display

FORMAT = "infra-policy/decision@1"


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _fact(doc: FactsDocument, fact: StatedFact, replaced: StatedFact | None = None) -> dict:
    lines = sorted({line for t in fact.triples if (line := doc.line_of(t)) is not None})
    entry = {
        "property": fact.property,
        "value": _plain(fact.value),
        "subject": fact.subject,
        "inherited": fact.inherited,
    }
    if replaced is not None:  # the workload's own value in place of the organization's
        entry["replaces"] = _plain(replaced.value)
    if lines:
        entry["lines"] = lines
    if any(doc.is_assumed(t) for t in fact.triples):
        entry["assumed"] = True  # `--set`: not stated in the facts file
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


def plan_json(plan: HybridPlan) -> dict:
    entry = {"id": plan.id, "title": plan.title, "in_house": list(plan.in_house), "cloud": list(plan.cloud)}
    if plan.rule:
        entry["rule"] = plan.rule
        entry["because"] = {"in_house": list(plan.in_house_because), "cloud": list(plan.cloud_because)}
    return entry


def _assessment_fields(w: WorkloadDecision, a: Assessment, policy: Policy) -> dict:
    fields: dict = {"factor": a.factor, "favors": a.favors, "weight": a.weight, "counted": w.counted(a)}
    instead = dict(w.tally.superseded).get(a.rule)
    if instead:
        fields["counted_instead"] = instead  # same claim, same side: only the heaviest counts
    rule = policy.by_id[a.rule]
    if rule.assumes:
        fields["assumes"] = list(rule.assumes)
    return fields


def _feasibility(w: WorkloadDecision) -> dict:
    ruled_out = w.ruled_out()
    return {
        side: {"feasible": side not in ruled_out, "ruled_out_by": [c.rule for c in ruled_out.get(side, ())]}
        for side in ("cloud", "in-house")
    }


def _workload(ev: Evaluation, w: WorkloadDecision, policy: Policy) -> dict:
    doc = ev.document
    rule = policy.by_id
    t = w.tally
    entry = {
        "id": w.id,
        "name": w.profile.name,
        "implicit": w.profile.implicit,
        "stance": w.stance,
        "stance_rule": {"id": w.stance_firing.rule, "title": rule[w.stance_firing.rule].title},
        "feasibility": _feasibility(w),
        "reasons": [a.rule for a in w.decisive()],
        "assessments": [
            _conclusion(doc, w, a.firing, rule[a.rule].title, a.claims, _assessment_fields(w, a, policy))
            for a in w.assessments
        ],
        "constraints": [
            _conclusion(
                doc, w, c.firing, rule[c.rule].title, c.claims, {"rules_out": c.rules_out, "requires": c.requires}
            )
            for c in w.constraints
        ],
        "derived": [{"rule": d.rule, "name": d.name, "facts": _firing_facts(doc, d.firing)} for d in w.derivations],
        "tally": {
            **t.facts(),
            "by_factor": [{"factor": f, "cloud": c, "in-house": i} for f, c, i in t.by_factor],
            "capped": [{"factor": f, "side": side, "before_cap": raw} for f, side, raw in t.capped],
        },
        "closeness": [
            {"to": c.to, "side": c.side, "points": c.points, "text": c.text} if c.to else {"text": c.text}
            for c in w.closeness
        ],
        "risks": [
            {
                "rule": r.rule,
                "title": rule[r.rule].title,
                "favors": r.side,
                "why": r.why,
                "advice": r.advice,
                "safeguards": list(r.safeguards),
                "stated_safeguards": list(r.stated),
            }
            for r in w.risks
        ],
        "not_weighed": [
            {"fact": u.property, "value": list(u.value) if isinstance(u.value, tuple) else u.value, "reason": u.reason}
            for u in w.unweighed
        ],
        "questions": [
            {
                "fact": q.property,
                "label": q.label,
                "values": list(q.values),
                "could_rule_out": list(q.rules_out),
                "most_weight": dict(q.weight),
                "text": q.text,
            }
            for q in w.questions
        ],
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
        **({} if w.changes_explored else {"changes_explored": False}),
        "cost": cost_json(w.cost),
        "facts": [_fact(doc, f, w.profile.replaced.get(f.property)) for f in w.profile.facts.values()],
    }
    if w.plan is not None:
        entry["hybrid_plan"] = plan_json(w.plan)
    return entry


def decision_dict(ev: Evaluation, policy: Policy) -> dict:
    """The decision document (decision@1) as one value."""
    data = _decision_document(ev, policy, ev.justification.to_dict())
    data["workloads"] = list(data["workloads"].items)
    return data


# Above this many workloads, the justification is written from parts of this many workloads each,
# sorted on disk (jsonstream.SortedRuns), instead of from one graph of the whole organization: the
# graph of 10,000 workloads took about 300 MB and its JSON as many again.
JUSTIFICATION_PART_WORKLOADS = 500


def _streamed_justification(ev: Evaluation, runs: tuple[SortedRuns, SortedRuns], per_part: int) -> dict:
    """The justification object, its nodes and edges made while written: the same text as ``to_dict()``'s."""
    nodes, edges = runs
    level = 3  # document → "justification" → "nodes" / "edges" → each entry

    def spill() -> Iterator[Encoded]:
        for part in ev.justification_parts(per_part):
            # a node without attributes belongs to another part
            owned = sorted((n, d) for n, d in part.graph.nodes(data=True) if "kind" in d)
            texts = encoded_items([{"id": n, **dict(sorted(d.items()))} for n, d in owned], level)
            nodes.add_run([(n, text) for (n, _), text in zip(owned, texts, strict=True)], presorted=True)
            links = sorted(part.graph.edges(data=True))
            texts = encoded_items([{"from": u, "to": v, "relation": d["relation"]} for u, v, d in links], level)
            edges.add_run([((u, v), text) for (u, v, _), text in zip(links, texts, strict=True)], presorted=True)
        yield from nodes.merged()

    return {"nodes": Lazy(spill()), "edges": Lazy(_later(edges.merged))}


def _later(make: Callable[[], Iterator[Encoded]]) -> Iterator[Encoded]:
    yield from make()  # the edges are merged only once the nodes' pass has written every run


def _decision_document(ev: Evaluation, policy: Policy, justification: dict) -> dict:
    """The decision document with its workloads as a :class:`Lazy` list, made one at a time while written."""
    d = ev.decision
    org = d.organization
    return {
        "format": FORMAT,
        # facts assumed on top of the facts file (`--set`); absent when every fact was stated
        **({"assumed": [a.to_dict() for a in ev.document.assumptions]} if ev.document.assumptions else {}),
        "organization": {
            "id": org.id,
            "name": org.name,
            "stance": d.stance,
            "stance_rule": {"id": d.stance_firing.rule, "title": policy.by_id[d.stance_firing.rule].title},
            "placement": [{"workload": w.id, "name": w.profile.name, "stance": w.stance} for w in d.workloads],
            **({"hybrid_plan": plan_json(d.plan)} if d.plan is not None else {}),
        },
        **({"left_out": left_out} if (left_out := left_out_json(d)) else {}),
        "workloads": Lazy(_workload(ev, w, policy) for w in d.workloads),
        "justification": justification,
        "inputs": d.inputs.to_dict(),
    }


EXPLORE_CHANGES_OPTION = "--explore-changes"


def _changes_left_out(why: str) -> dict:
    return {
        "what": "what would change each stance: the missing facts that could change it and the questions to ask "
        '(for the workloads marked "changes_explored": false; their missing_facts lists only the inputs the cost '
        "model needs)",
        "fields": ["missing_facts", "questions"],
        "why": why,
        "how_to_include": f"infra-policy evaluate {EXPLORE_CHANGES_OPTION}, or infra_policy.evaluate(facts, "
        "explore_changes=True)",
    }


def left_out_json(d: Decision) -> list[dict] | None:
    """The decision's "left_out" entries (None when nothing was left out)."""
    return [_changes_left_out(d.changes_left_out)] if d.changes_left_out else None


def changes_left_out_text(why: str) -> str:
    """The sentence the text output ends with when the search for what would change the stances was skipped."""
    return (
        f"Not searched: the missing facts and questions that could change each stance ({why}); "
        f"{EXPLORE_CHANGES_OPTION} searches them."
    )


def write_decision_json(
    ev: Evaluation, policy: Policy, write: Callable[[str], object], per_part: int = JUSTIFICATION_PART_WORKLOADS
) -> None:
    """Stream the decision document through ``write``: the same bytes as :func:`render_json`, built piece by piece
    (the justification of more than ``per_part`` workloads in parts, sorted on disk)."""
    if len(ev.decision.workloads) <= per_part or "justification" in ev.__dict__:
        write_json(_decision_document(ev, policy, ev.justification.to_dict()), write)
        return
    runs = (SortedRuns(), SortedRuns())
    try:
        write_json(_decision_document(ev, policy, _streamed_justification(ev, runs, per_part)), write)
    finally:
        for run in runs:
            run.close()


def render_json(ev: Evaluation, policy: Policy) -> str:
    pieces: list[str] = []
    write_decision_json(ev, policy, pieces.append)
    return "".join(pieces)


# ---------------------------------------------------------------------------
# text


def _fact_text(doc: FactsDocument, fact: StatedFact, vocabulary=None) -> str:
    lines = sorted({line for t in fact.triples if (line := doc.line_of(t)) is not None})
    where = f", line {', '.join(map(str, lines))}" if lines else ""
    origin = "organization default, " if fact.inherited else ""
    if any(doc.is_assumed(t) for t in fact.triples):
        origin = "assumed, " + origin
    subject = display(doc, fact.triples[0][0]) if fact.triples else fact.subject
    if vocabulary is None:
        return f"{fact.property} = {value_text(fact.value)} ({origin}{subject}{where})"
    label = fact_words(fact.property, vocabulary).removeprefix("the ")
    return f"{label}: {value_words(fact.value, vocabulary)} ({origin}{subject}{where})"


def _reason_lines(
    ev: Evaluation,
    w: WorkloadDecision,
    a: Assessment,
    kb: KnowledgeBase,
    policy: Policy,
    indent: str,
    verbose: bool = False,
) -> list[str]:
    rule = policy.by_id[a.rule]
    factor = kb.factors[a.factor].label if a.factor in kb.factors else a.factor
    rule_id = f" · {a.rule}" if verbose else ""  # ids stay in the JSON, and behind --verbose
    lines = [f"{indent}• {rule.title}", f"{indent}  {a.favors}, {STRENGTH[a.weight]} · {factor}{rule_id}"]
    given = "; ".join(_fact_text(ev.document, fact, kb.vocabulary) for fact in w.grounds(a.firing))
    via = "".join(
        f" — worked out: {fact_words(n, kb.vocabulary).removeprefix('the ')} {value_words(v, kb.vocabulary)}"
        for n, v in a.firing.computed
    )
    lines.extend(wrap(f"given: {given}{via}", f"{indent}  ", f"{indent}    "))
    if rule.assumes:
        lines.extend(wrap(f"assumes: {'; '.join(rule.assumes)}", f"{indent}  ", f"{indent}    "))
    sections = [kb.claims[c].section for c in a.claims if c in kb.claims and kb.claims[c].section]
    if sections:
        lines.append(f"{indent}  article: {'; '.join(dict.fromkeys(sections))}")
    return lines


def _plan_lines(plan: HybridPlan, indent: str) -> list[str]:
    lines = [f"{indent}Plan: {plan.title}"]
    lines += [f"{indent}  in-house: {part}" for part in plan.in_house]
    lines += [f"{indent}  cloud:    {part}" for part in plan.cloud]
    return lines


_SIDE_PLACE = {"cloud": "in the cloud", "in-house": "in-house"}


def _workload_text(
    ev: Evaluation,
    w: WorkloadDecision,
    kb: KnowledgeBase,
    policy: Policy,
    per_side: int | None,
    verbose: bool = False,
) -> list[str]:
    t = w.tally
    out = ["", f"── {w.profile.name}: {w.stance.upper()}"]
    out.append(
        f"  Why: {policy.by_id[w.stance_firing.rule].title} "
        f"(cloud {t.cloud_weight} · in-house {t.in_house_weight} · balance {t.balance:+.2f})"
    )
    for c in w.constraints:
        rule_id = f" (rule {c.rule})" if verbose else ""
        out.append(f"  Ruled out: {c.rules_out} — {policy.by_id[c.rule].title}{rule_id}")
        given = "; ".join(_fact_text(ev.document, f, kb.vocabulary) for f in w.grounds(c.firing))
        out.extend(wrap(f"given: {given}", "    ", "      "))
    for c in w.closeness:
        out.extend(wrap(f"How close: {c.text}", "  ", "    "))
    if w.plan is not None:
        out.extend(_plan_lines(w.plan, "  "))
    if w.stance == "undetermined":
        out.append("  Not enough facts to advise a placement. Questions that would decide it, most decisive first:")
        shown = w.questions if per_side is None else w.questions[:8]
        for q in shown:
            out.extend(wrap(f"• {q.text}", "    ", "      "))
        if len(shown) < len(w.questions):
            out.append(f"    … and {len(w.questions) - len(shown)} more (all of them: --detail full)")
    decisive = w.decisive()
    if decisive and w.stance != "undetermined":
        label = "Decisive reasons" if w.stance in ("cloud", "in-house") else "Reasons on both sides"
        out.append(f"  {label}:")
        for side in ("in-house", "cloud"):
            chosen = [a for a in decisive if a.favors == side][:per_side]  # None: all of them
            for a in chosen:
                out.extend(_reason_lines(ev, w, a, kb, policy, "    ", verbose))
            hidden = len([a for a in decisive if a.favors == side]) - len(chosen)
            if hidden > 0:
                out.append(f"    … and {hidden} more favoring {side} (all of them: --detail full)")
    if w.risks:
        out.append(f"  Risks to mitigate {_SIDE_PLACE.get(w.stance, '')}:")
        for r in w.risks:
            because = "ruled out" if r.why == "ruled-out" else "outweighed"
            out.append(f"    • {policy.by_id[r.rule].title} ({r.side} argument, {because})")
            out.append(f"      → {r.advice}")
            if r.safeguards:
                stated = f"; stated: {value_words(r.stated, kb.vocabulary)}" if r.stated else "; none stated yet"
                out.extend(
                    wrap(f"safeguards: {value_words(r.safeguards, kb.vocabulary)}{stated}", "      ", "        ")
                )
    instead = dict(t.superseded)
    for a in w.assessments:
        if a.rule in instead:
            through = f"“{policy.by_id[instead[a.rule]].title}”" + (f" [{instead[a.rule]}]" if verbose else "")
            out.extend(
                wrap(
                    f"Counted once: {policy.by_id[a.rule].title} — its point is already counted through {through}",
                    "  ",
                    "    ",
                )
            )
    for factor, side, raw in t.capped:
        name = kb.factors[factor].label if factor in kb.factors else factor
        cap = policy.parameters["factor_cap"]
        out.append(f"  Capped: {name} adds {cap} for {side}, not {raw} (one factor counts at most {cap})")
    against = [
        a for a in w.assessments if a not in decisive and w.counted(a) and a.rule not in {r.rule for r in w.risks}
    ]
    if against and w.stance != "undetermined":
        out.append("  Outweighed:")
        shown_against = against if per_side is None else against[: per_side or None]
        for a in shown_against:
            out.extend(wrap(f"• {policy.by_id[a.rule].title} ({a.favors}, {STRENGTH[a.weight]})", "    ", "      "))
        if len(shown_against) < len(against):
            out.append(f"    … and {len(against) - len(shown_against)} more (all of them: --detail full)")
    out.extend(cost_lines(w.cost, kb.vocabulary, verbose))
    if w.profile.replaced:
        out.append("  Stated for this workload in place of the organization's value (it replaces, not adds):")
        for name, org_fact in w.profile.replaced.items():
            label = sentence_case(fact_words(name, kb.vocabulary).removeprefix("the "))
            own = value_words(w.profile.facts[name].value, kb.vocabulary)
            theirs = value_words(org_fact.value, kb.vocabulary)
            out.extend(wrap(f"• {label}: {own}, not the organization's {theirs}", "    ", "      "))
    if w.unweighed:
        out.append("  Given but not weighed:")
        for u in w.unweighed:
            label = sentence_case(fact_words(u.property, kb.vocabulary).removeprefix("the "))
            out.extend(wrap(f"• {label} {value_words(u.value, kb.vocabulary)}: {u.reason}", "    ", "      "))
    if w.missing and w.stance != "undetermined":  # an undetermined stance lists its questions instead
        out.append("  Missing facts that could change this:")
        for m in w.missing:
            label = sentence_case(m.label)
            if m.needed_for and not m.outcomes:
                needed = terms_in_words(m.needed_for, kb.vocabulary)
                out.extend(wrap(f"• {label}: needed for {needed}", "    ", "      "))
                continue
            options = ", ".join(f"{s} (for example {value_words(v, kb.vocabulary)})" for s, v in m.outcomes)
            out.extend(wrap(f"• {label}, not stated: could make it {options}", "    ", "      "))
    elif not w.assessments and not w.constraints and w.stance != "undetermined":
        out.append("  No rule applied: state more facts about this workload.")
    return out


def render_text(
    ev: Evaluation, kb: KnowledgeBase, policy: Policy, reasons_per_side: int | None = 5, verbose: bool = False
) -> str:
    """The decision for people; ``reasons_per_side=None`` shows every reason, question and argument;
    ``verbose`` adds the rules' ids."""
    d = ev.decision
    out: list[str] = []
    if ev.document.assumptions:
        from infra_policy.engine.analysis.whatif import assumed_lines

        out.append("Assumed (not stated in the facts):")
        out.extend(f"  • {line}" for line in assumed_lines(ev.document.assumptions, kb.vocabulary))
        out.append("")
    out.append(f"{d.organization.name}: {d.stance.upper()}")
    out.append(f"  {policy.by_id[d.stance_firing.rule].title}")
    if d.plan is not None and (len(d.workloads) > 1 or d.plan.id == "split-by-workload"):
        out.extend(_plan_lines(d.plan, "  "))
    if len(d.workloads) > 1 or not d.workloads[0].profile.implicit:
        out.append("")
        out.append("Placement")
        width = max(len(w.profile.name) for w in d.workloads)
        for w in d.workloads:
            out.append(f"  {w.profile.name.ljust(width)}  {w.stance}")
    for w in d.workloads:
        out.extend(_workload_text(ev, w, kb, policy, reasons_per_side, verbose))
    if d.changes_left_out:
        out.append("")
        out.extend(wrap(changes_left_out_text(d.changes_left_out), "", ""))
    out.append("")
    # "Missing facts" above tries one fact at a time (cheap enough for every run); the smallest sets of
    # changes and the facts that decide it are searches of their own, run on request
    out.extend(
        wrap(
            "More: `infra-policy explain FACTS --flip STANCE` finds the smallest sets of changes that would give "
            "STANCE (the missing facts above are tried one at a time), and `--sufficient` the stated facts that "
            "decide each stance.",
            "",
            "",
        )
    )
    out.append("")
    overlays = "".join(f" + overlay {o['name']} ({o['file']})" for o in d.inputs.overlays)
    out.append(f"facts {d.inputs.facts[:19]}… · kb {d.inputs.kb[:19]}… · rules {d.inputs.rules[:19]}…{overlays}")
    # names and values come from the user's file: never let them drive the terminal
    return printable("\n".join(out) + "\n")
