"""`rules check` beyond monotonicity: rules that can never fire, shadowed rules, double counting.

Each finding is provoked by a small hostile rule folder (the packaged rules plus one file or one edit),
through the real command line; the satisfiability check itself is held to soundness by a property test.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.paths import PACKAGED_RULES
from infra_policy.engine.policy.lint import lint_policy
from infra_policy.engine.policy.ruleload import load_policy
from infra_policy.engine.policy.rules_ast import All, Any, Not, Test, evaluate
from infra_policy.engine.policy.satisfy import check, domains_for

_KB = load_knowledge_base()


def rules_with(tmp_path: Path, extra: str = "", edit: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of the packaged rules, with an extra latency rule set and/or text replaced in some files."""
    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    if extra:
        header = "ruleset: extra\nkind: factor\nfactor: latency\nrules:\n"
        (rules / "extra.yaml").write_text(header + textwrap.indent(textwrap.dedent(extra), "  "), encoding="utf-8")
    for name, (old, new) in (edit or {}).items():
        text = (rules / name).read_text(encoding="utf-8")
        assert old in text
        (rules / name).write_text(text.replace(old, new), encoding="utf-8")
    return rules


def rule(rule_id: str, when: str, then: str = "{assess: {favors: in-house, weight: 1}}", claims: str = "") -> str:
    return f"""\
- id: extra.{rule_id}
  title: A rule written for this test.
  when: {when}
  then: {then}
  rationale: Written to provoke one finding of rules check.
  claims: [{claims or "claim:inhouse-pro-low-latency"}]
"""


# ---------------------------------------------------------------------------
# the shipped policy


def findings_for(rules: Path) -> list:
    return lint_policy(load_policy(_KB, rules), _KB.vocabulary, _KB.factors)


def texts(findings, kind: str) -> list[str]:
    return [f.text for f in findings if f.kind == kind]


def test_the_shipped_policy_has_no_dead_or_shadowed_rule():
    """(`rules check` on the shipped policy runs through the command line in tests/test_monotone.py.)"""
    findings = lint_policy(load_policy(_KB), _KB.vocabulary, _KB.factors)
    assert [f.text for f in findings if f.failure] == []
    # what remains are warnings of double counting, each naming two assessments for one side
    assert {f.kind for f in findings} <= {"double-counting"}


# ---------------------------------------------------------------------------
# rules that can never fire

NEVER = {
    "contradictory-thresholds": (
        "{all: [{fact: itStaffFTE, greater_than: 5}, {fact: itStaffFTE, less_than: 3}]}",
        "extra.r can never fire: itStaffFTE > 5 and itStaffFTE < 3 cannot all hold (itStaffFTE is a number ≥ 0).",
    ),
    "beyond-the-declared-range": (
        "{fact: itStaffFTE, less_than: 0}",
        "extra.r can never fire: itStaffFTE < 0 cannot all hold (itStaffFTE is a number ≥ 0).",
    ),
    "no-integer-between": (
        "{all: [{fact: latencyBudgetMs, greater_than: 5}, {fact: latencyBudgetMs, less_than: 6}]}",
        "latencyBudgetMs > 5 and latencyBudgetMs < 6 cannot all hold (latencyBudgetMs is an integer > 0)",
    ),
    "two-values-of-one-fact": (
        "{all: [{fact: dataSensitivity, equals: Public}, {fact: dataSensitivity, in: [Confidential, Restricted]}]}",
        "dataSensitivity = Public and dataSensitivity in [Confidential, Restricted] cannot all hold",
    ),
    "a-value-and-its-absence": (
        "{all: [{fact: regulatedBy, equals: GDPR}, {not: {fact: regulatedBy, in: [GDPR, HIPAA]}}]}",
        "regulatedBy = GDPR and not regulatedBy in [GDPR, HIPAA] cannot all hold",
    ),
    "every-alternative": (
        "{any: [{fact: itStaffFTE, less_than: -1}, {all: [{fact: hasDataCenter, equals: true}, "
        "{fact: hasDataCenter, equals: false}]}]}",
        "none of its 2 alternatives can hold: itStaffFTE < -1 cannot all hold",
    ),
}


@pytest.mark.parametrize("kind", sorted(NEVER))
def test_a_rule_that_can_never_fire_is_found(tmp_path, kind):
    when, expected = NEVER[kind]
    (found,) = texts(findings_for(rules_with(tmp_path, rule("r", when))), "never-fires")
    assert expected in found


def test_a_conclusion_no_rule_can_derive_makes_its_readers_dead(tmp_path):
    extra = rule("derive-never", "{fact: itStaffFTE, less_than: 0}", "{derive: impossible}") + rule(
        "reader", "{concluded: impossible}"
    )
    dead = [f.rules[0] for f in findings_for(rules_with(tmp_path, extra)) if f.kind == "never-fires"]
    assert dead == ["extra.derive-never", "extra.reader"]


def test_dead_and_shadowed_rules_fail_rules_check_in_a_real_process(tmp_path):
    rules = rules_with(tmp_path, rule("r", "{fact: itStaffFTE, less_than: 0}"))
    with (rules / "stance.yaml").open("a", encoding="utf-8") as f:
        f.write(STRONG_IN_HOUSE)
    script = Path(sys.executable).with_name("infra-policy")
    result = subprocess.run([str(script), "rules", "check", "--rules", str(rules)], capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "FAIL never-fires: extra.r can never fire: itStaffFTE < 0 cannot all hold (itStaffFTE is a number ≥ 0)." in (
        lines
    )
    assert any(line.startswith("FAIL shadowed: stance.strong-in-house never decides") for line in lines)
    assert lines[-1].startswith("rules check failed: 2 violation(s)")


def test_satisfiable_conditions_are_not_flagged(tmp_path):
    extra = "".join(
        rule(name, when)
        for name, when in {
            "two-regimes": "{all: [{fact: regulatedBy, equals: GDPR}, {fact: regulatedBy, equals: HIPAA}]}",
            "a-band": "{all: [{fact: latencyBudgetMs, greater_than: 5}, {fact: latencyBudgetMs, less_than: 7}]}",
            "unstated": "{not: {fact: itStaffFTE, present: true}}",
            "open-value": "{fact: regulatedBy, equals: MyRegulator}",
        }.items()
    )
    policy = load_policy(_KB, rules_with(tmp_path, extra))
    assert [f for f in lint_policy(policy, _KB.vocabulary, _KB.factors) if f.kind == "never-fires"] == []


# ---------------------------------------------------------------------------
# shadowed stance rules

STRONG_IN_HOUSE = """
  - id: stance.strong-in-house
    title: A strong in-house balance runs the workload in-house.
    priority: 50
    when:
      all:
        - {fact: balance, at_least: 0.5}
        - {fact: margin, at_least: 2}
    then: {stance: in-house}
    rationale: Written to be shadowed by stance.clear-in-house.
    claims: [claim:conclusion-no-single-answer]
"""

CATCH_ALL = """
  - id: stance.catch-all
    title: Anything else is undetermined.
    priority: 90
    when: {fact: total_weight, at_least: 0}
    then: {stance: undetermined}
    rationale: Written to be shadowed by every rule before it together.
    claims: [claim:conclusion-no-single-answer]
"""


def _with_stance_rule(tmp_path: Path, text: str) -> Path:
    rules = rules_with(tmp_path)
    with (rules / "stance.yaml").open("a", encoding="utf-8") as f:
        f.write(text)
    return rules


def test_a_stance_rule_implied_by_an_earlier_one_is_shadowed(tmp_path):
    assert texts(findings_for(_with_stance_rule(tmp_path, STRONG_IN_HOUSE)), "shadowed") == [
        "stance.strong-in-house never decides: whenever it fires, stance.clear-in-house fires too "
        "and comes first (it has a lower priority number, or the same and a lower id)."
    ]


def test_a_stance_rule_covered_by_all_earlier_ones_together_is_shadowed(tmp_path):
    (line,) = texts(findings_for(_with_stance_rule(tmp_path, CATCH_ALL)), "shadowed")
    assert "stance.catch-all never decides: whenever it fires, stance.no-feasible-side" in line
    assert "stance.close-balance fires too" in line and "(one of them has a lower priority" in line


def test_a_stance_rule_that_decides_before_the_others_is_not_shadowed(tmp_path):
    rules = _with_stance_rule(tmp_path, STRONG_IN_HOUSE.replace("priority: 50", "priority: 25"))
    policy = load_policy(_KB, rules)
    assert [f for f in lint_policy(policy, _KB.vocabulary, _KB.factors) if f.failure] == []


# ---------------------------------------------------------------------------
# double counting (a warning)

SAME_CLAIMS = "claim:inhouse-pro-low-latency, claim:inhouse-pro-full-control"
REVERSED = "claim:inhouse-pro-full-control, claim:inhouse-pro-low-latency"


def test_two_assessments_on_the_same_claims_counted_separately_are_a_warning(run, tmp_path):
    extra = rule("first", "{fact: latencyBudgetMs, less_than: 30}", claims=SAME_CLAIMS) + rule(
        "second", "{fact: itStaffFTE, at_least: 9}", claims=REVERSED
    )
    result = run("rules", "check", "--rules", rules_with(tmp_path, extra), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    ours = [w for w in report["warnings"] if "extra.first" in w["rules"]]
    assert [(w["kind"], w["rules"]) for w in ours] == [("double-counting", ["extra.first", "extra.second"])]
    assert "so the tally counts both" in ours[0]["text"]


@pytest.mark.parametrize(
    ("second_when", "second_claims"),
    [
        ("{fact: latencyBudgetMs, at_least: 30}", REVERSED),  # they never fire together
        ("{fact: itStaffFTE, at_least: 9}", SAME_CLAIMS),  # the same first claim: the tally counts it once
        ("{fact: itStaffFTE, at_least: 9}", "claim:inhouse-pro-full-control"),  # one cites the other's, not back
    ],
)
def test_no_double_counting_warning_when_the_tally_cannot_count_twice(tmp_path, second_when, second_claims):
    extra = rule("first", "{fact: latencyBudgetMs, less_than: 30}", claims=SAME_CLAIMS) + rule(
        "second", second_when, claims=second_claims
    )
    findings = lint_policy(load_policy(_KB, rules_with(tmp_path, extra)), _KB.vocabulary, _KB.factors)
    assert [f for f in findings if "extra.first" in f.rules] == []


# ---------------------------------------------------------------------------
# soundness: what the check calls impossible never holds

_FACTS = ("itStaffFTE", "latencyBudgetMs", "dataSensitivity", "regulatedBy")
_OPERANDS = {
    "itStaffFTE": [0, 0.5, 1, 2, 3],
    "latencyBudgetMs": [1, 5, 6, 50],
    "dataSensitivity": ["Public", "Internal", "Confidential", "Restricted"],
    "regulatedBy": ["GDPR", "HIPAA", "SOX"],
}
_SAMPLES = {
    "itStaffFTE": [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4],
    "latencyBudgetMs": [1, 2, 5, 6, 7, 49, 50, 51],
    "dataSensitivity": ["Public", "Internal", "Confidential", "Restricted"],
    "regulatedBy": [(v,) for v in _OPERANDS["regulatedBy"]] + [("GDPR", "HIPAA"), ("GDPR", "HIPAA", "SOX")],
}


@st.composite
def _tests(draw):
    fact = draw(st.sampled_from(_FACTS))
    numeric = fact in ("itStaffFTE", "latencyBudgetMs")
    ops = ["equals", "not_equals", "in", "present", "absent"] + (
        ["less_than", "at_most", "greater_than", "at_least"] if numeric else []
    )
    op = draw(st.sampled_from(ops))
    if op in ("present", "absent"):
        return Test(fact, op, None)
    if op == "in":
        return Test(
            fact, op, tuple(draw(st.lists(st.sampled_from(_OPERANDS[fact]), min_size=1, max_size=3, unique=True)))
        )
    return Test(fact, op, draw(st.sampled_from(_OPERANDS[fact])))


_conditions = st.recursive(
    _tests(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda items: All(tuple(items))),
        st.lists(inner, min_size=1, max_size=3).map(lambda items: Any(tuple(items))),
        inner.map(Not),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(_conditions)
def test_a_condition_called_unsatisfiable_holds_for_no_facts(condition):
    verdict = check(condition, domains_for("factor", _KB.vocabulary, _KB.factors))
    if verdict.satisfiable is not False:
        return
    names = sorted({t.fact for t in _leaves(condition)})
    for combo in itertools.product(*([None, *_SAMPLES[n]] for n in names)):
        facts = {n: v for n, v in zip(names, combo, strict=True) if v is not None}
        assert not evaluate(condition, facts), (condition, facts, verdict.reason)


def _leaves(condition):
    if isinstance(condition, Test):
        yield condition
    elif isinstance(condition, Not):
        yield from _leaves(condition.item)
    else:
        for item in condition.items:
            yield from _leaves(item)
