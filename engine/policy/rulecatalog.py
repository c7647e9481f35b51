"""A plain listing of the policy's rules (for `rules list` and the site)."""

from __future__ import annotations

from infra_policy.engine.errors import printable
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import Assess, Derive, Rule, RuleOut, SetPlan, SetStance


def conclusion_text(rule: Rule) -> str:
    then = rule.then
    if isinstance(then, Assess):
        return f"{then.factor}: favors {then.favors} (weight {then.weight})"
    if isinstance(then, RuleOut):
        return f"rules out {then.side}"
    if isinstance(then, SetPlan):
        return f"hybrid plan (priority {rule.priority})"
    if isinstance(then, Derive):
        return f"derives {then.name}"
    assert isinstance(then, SetStance)
    return f"stance {then.stance} (priority {rule.priority})"


def catalogue(policy: Policy) -> list[dict]:
    entries = []
    for ruleset in policy.rulesets:
        for rule in sorted(ruleset.rules, key=lambda r: (r.priority, r.id)):
            entries.append(
                {
                    "id": rule.id,
                    "ruleset": ruleset.name,
                    "kind": ruleset.kind,
                    "file": rule.source,
                    "title": rule.title,
                    "concludes": conclusion_text(rule),
                    "rationale": rule.rationale,
                    "claims": list(rule.claims),
                }
            )
    return entries


def render_catalogue(entries: list[dict]) -> str:
    lines = []
    current = None
    for entry in entries:
        if entry["ruleset"] != current:
            current = entry["ruleset"]
            if lines:
                lines.append("")
            lines.append(f"{current} ({entry['kind']}, {entry['file']})")
        lines.append(f"  {entry['id']}")
        lines.append(f"      {entry['title']}")
        lines.append(f"      → {entry['concludes']}")
    # a title comes from a rule file: escape control characters, or a hostile file could
    # move the cursor or retitle the terminal of whoever lists the rules
    return printable("\n".join(lines)) + "\n"
