"""Bounds on the shape of a rule, checked before anything is compiled.

The rule engine (durable-rules) fails on some rule shapes with a bare error
code, and on others takes minutes or exhausts the stack.  The bounds are data,
the ``limits`` of rules/schema.json (and ``maxItems`` of ``in``, which the
schema check itself enforces); each is far above what the packaged rules use
and far below where the engine breaks (see docs/errors.md).  A rule beyond one
is refused with the file, the rule and the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infra_policy.engine.paths import rules_schema

_CONNECTIVES = ("all", "any", "not")


def limits() -> dict[str, int]:
    """The ``limits`` object of rules/schema.json (without its description)."""
    return {k: v for k, v in rules_schema()["limits"].items() if isinstance(v, int)}


Report = Callable[[Path, str, str, str], None]


def _rules(data: object) -> list[tuple[str, object]]:
    """(rule id or position, condition) of every rule of a loaded file that has one."""
    rules = data.get("rules") if isinstance(data, dict) else None
    found = []
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if isinstance(rule, dict) and "when" in rule:
            rule_id = rule.get("id") if isinstance(rule.get("id"), str) else f"rules[{index}]"
            found.append((rule_id, rule["when"]))
    return found


def condition_depth(condition: object) -> int:
    """How many all/any/not are nested in a condition, counted without recursion (the input may be hostile)."""
    deepest = 0
    stack = [(condition, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if not isinstance(node, dict):
            continue
        for key in _CONNECTIVES:
            value = node.get(key)
            children = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            stack.extend((child, depth + 1) for child in children)
    return deepest


def check_depth(file: Path, data: object, report: Report) -> bool:
    """Report rules nested deeper than allowed; False if any is (the schema check would recurse that deep)."""
    allowed = limits()["condition_depth"]
    ok = True
    for rule_id, condition in _rules(data):
        depth = condition_depth(condition)
        if depth > allowed:
            ok = False
            report(
                file,
                rule_id,
                "when",
                f"the condition nests all/any/not {depth} levels deep; at most {allowed} are allowed "
                "(limits.condition_depth in rules/schema.json). Split it into rules that derive intermediate "
                "conclusions (then: {derive: name}) and test them with 'concluded'.",
            )
    return ok


def alternatives(condition: dict, negated: bool = False) -> int:
    """How many alternatives the condition has once written as an or of ands, as the rule engine expands it.

    ``not`` is pushed down to the tests; a negated test becomes "absent, or
    the opposite comparison" (2), an ``in`` one alternative per value.  Only
    called on schema-valid conditions no deeper than ``condition_depth``.
    """
    for key in ("all", "any"):
        if key in condition:
            counts = [alternatives(item, negated) for item in condition[key]]
            if (key == "all") != negated:
                product = 1
                for count in counts:
                    product *= count
                return product
            return sum(counts)
    if "not" in condition:
        return alternatives(condition["not"], not negated)
    if "concluded" in condition or "present" in condition or "absent" in condition:
        return 1
    if "in" in condition and not negated:
        return len(condition["in"])
    return 2 if negated else 1


def check_size(file: Path, data: dict, report: Report) -> bool:
    """Report rules whose expanded condition is larger than allowed (call after the schema check)."""
    allowed = limits()["condition_alternatives"]
    ok = True
    for rule_id, condition in _rules(data):
        count = alternatives(condition)
        if count > allowed:
            ok = False
            report(
                file,
                rule_id,
                "when",
                f"the condition expands to {count:,} alternatives (an or of ands, with 'not' pushed down to the "
                f"tests and one alternative per value of 'in'); at most {allowed:,} are allowed "
                "(limits.condition_alternatives in rules/schema.json). Split the rule into several rules, or "
                "derive parts of it as intermediate conclusions.",
            )
    return ok
