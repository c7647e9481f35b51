"""The cost model's results as the JSON and text outputs show them (used by export.py)."""

from __future__ import annotations

from infra_policy.engine.outputs.wording import terms_in_words, wrap
from infra_policy.engine.stages.cost import CostAnalysis, number_text
from infra_policy.engine.vocabulary import Vocabulary


def cost_json(cost: CostAnalysis | None) -> dict:
    """The cost model's results: a summary keyed by computed fact, and how each was computed."""
    cost = cost or CostAnalysis(status="not-given")
    summary: dict[str, object] = {v.name: v.value for v in cost.values}
    if summary.get("breakEvenNever") is True:
        summary["breakEvenMonths"] = "never"
        summary.setdefault("breakEvenHours", "never")
    return {
        "status": cost.status,
        "summary": dict(sorted(summary.items())),
        "computed": [
            {
                "fact": v.name,
                "value": v.value,
                "formula": v.formula,
                "inputs": list(v.inputs),
                "computed_from": list(v.computed_from),
                "parameters": [{"name": n, "value": x} for n, x in v.parameters],
            }
            for v in cost.values
        ],
        "missing": [{"fact": m.fact, "needed_for": m.needed_for} for m in cost.missing],
        "assumptions": list(cost.assumptions),
    }


def cost_lines(cost: CostAnalysis | None, vocabulary: Vocabulary | None = None, verbose: bool = False) -> list[str]:
    """The cost summary of one workload for the text output (empty without cost inputs).

    With the ``vocabulary``, the formulas and notes name the facts by their labels (their terms with
    ``verbose``, as the JSON has them).
    """
    if cost is None or cost.status == "not-given":
        return []

    def words(text: str) -> str:
        return text if vocabulary is None or verbose else terms_in_words(text, vocabulary)

    facts = cost.facts()
    lines = [f"  Cost model ({cost.status}):"]
    if facts.get("breakEvenNever") is True:
        lines.append("    break-even: never (running in-house costs at least as much per month as the cloud)")
    elif "breakEvenMonths" in facts:
        hours = f", {number_text(facts['breakEvenHours'], 0)} utilized hours" if "breakEvenHours" in facts else ""
        lines.append(f"    break-even: after {number_text(facts['breakEvenMonths'], 1)} months{hours}")
    elif "breakEvenHours" in facts:
        lines.append(f"    break-even: after {number_text(facts['breakEvenHours'], 0)} utilized hours")
    for v in cost.values:
        if v.name != "breakEvenNever":
            lines.extend(wrap(words(v.formula), "    ", "        "))
    for note in cost.assumptions:
        lines.extend(wrap(f"note: {words(note)}", "    ", "      "))
    return lines
