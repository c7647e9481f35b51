"""Policy overlays: a risk team's changes to the policy in ``rules/``, without copying it (docs/overlays.md).

An overlay is a YAML file (schema: ``rules/overlay.schema.json``) that disables
rules, changes parameters of rule sets, weights of assessment rules and numeric
thresholds of rule conditions, and adds rules written as in a rule file. It
modifies the *loaded* policy (the rule AST), so no weight or threshold is ever
restated in code, and the merged policy goes through every check a rule
directory does: schema, vocabulary, rule limits, and the directions the
knowledge base declares (for the facts the overlay's changes can reach).

Addressing is by rule id (``infra-policy rules list``) and, for a threshold, by
the fact the rule tests and the comparison: ``thresholds: {stance.clear-cloud:
{balance: {at_most: -0.25}}}`` rewrites the rule's test ``{fact: balance,
at_most: -0.2}``. Each problem is reported with the overlay's file name and line.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml

from infra_policy.engine.errors import RulesError, problem_list
from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.paths import PACKAGED_RULES, rules_schema
from infra_policy.engine.policy import rulelimits
from infra_policy.engine.policy.rules_ast import (
    COMPARISONS,
    All,
    Any,
    Assess,
    Concluded,
    Condition,
    Not,
    Rule,
    Ruleset,
    Test,
    iter_tests,
)
from infra_policy.engine.records.digest import text_digest
from infra_policy.engine.stages.inputs import COMPARABLE_NUMBERS, comparable_number

OVERLAY_SCHEMA = PACKAGED_RULES / "overlay.schema.json"
# The order in which the parts of one overlay apply (also the order of the schema's description).
PARTS = ("disable", "parameters", "weights", "thresholds", "add")


@cache
def overlay_schema() -> dict:
    return json.loads(OVERLAY_SCHEMA.read_text(encoding="utf-8"))


@cache
def _validator():
    import jsonschema
    from referencing import Registry, Resource

    rule_schema = rules_schema()
    registry = Registry().with_resource(rule_schema["$id"], Resource.from_contents(rule_schema))
    return jsonschema.Draft202012Validator(overlay_schema(), registry=registry)


def _allowed_weights() -> tuple[int, ...]:
    """The weights an assessment may have, as rules/schema.json says."""
    conclusion = rules_schema()["$defs"]["conclusion"]
    return tuple(conclusion["properties"]["assess"]["properties"]["weight"]["enum"])


@dataclass(frozen=True)
class Overlay:
    """One overlay file, read and checked against its schema."""

    path: Path
    data: dict
    lines: dict[tuple, int]  # path inside the document → 1-based line

    @property
    def name(self) -> str:
        return self.data["overlay"]

    @property
    def file(self) -> str:
        return self.path.name

    @cached_property
    def content(self) -> str:
        """The overlay's canonical text: formatting and comments do not count."""
        return json.dumps(self.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @cached_property
    def digest(self) -> str:
        return text_digest(self.content)

    def line(self, *path: object) -> int | None:
        """The line of ``path`` in the file (of its nearest enclosing part when it has none of its own)."""
        parts = tuple(path)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return None

    def where(self, *path: object) -> str:
        line = self.line(*path)
        return f"{self.file}, line {line}" if line else self.file

    def summary(self) -> dict[str, str]:
        """What decisions and records name the overlay by: its name, file name and content digest."""
        return {"name": self.name, "file": self.file, "digest": self.digest}


@dataclass(frozen=True)
class AppliedOverlay:
    """An overlay as the policy remembers it (for digests, records and audit)."""

    name: str
    file: str
    digest: str
    data: dict

    def summary(self) -> dict[str, str]:
        return {"name": self.name, "file": self.file, "digest": self.digest}


def _node_lines(node: yaml.Node) -> dict[tuple, int]:
    """Path → line of every mapping key and sequence item of a composed YAML document."""
    found: dict[tuple, int] = {}
    stack: list[tuple[tuple, yaml.Node]] = [((), node)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                child = (*path, key.value)
                found[child] = key.start_mark.line + 1
                stack.append((child, value))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                child = (*path, index)
                found[child] = item.start_mark.line + 1
                stack.append((child, item))
    return found


def read_overlay(path: Path | str) -> Overlay:
    """Read and schema-check one overlay file; a :class:`RulesError` lists every problem with its line."""
    from infra_policy.engine.policy.ruleload import _YAML_LOADER, read_yaml_text

    path = Path(path)
    if not path.exists() and not path.is_symlink():  # a broken link gets the reader's own message
        raise RulesError(f"{path}: no such policy overlay (a YAML file given with --overlay).")
    text, data, problem = read_yaml_text(path, "policy overlay")
    if problem is not None:
        raise RulesError(problem)
    if not isinstance(data, dict):
        raise RulesError(
            f"{path.name}: a policy overlay must be a mapping with 'overlay: NAME' and at least one of "
            f"{', '.join(PARTS)} (rules/overlay.schema.json)."
        )
    overlay = Overlay(path, data, _node_lines(yaml.compose(text, Loader=_YAML_LOADER)))
    problems = _schema_problems(overlay)
    if problems:
        raise overlay_error(overlay, problems)
    return overlay


def overlay_error(overlay: Overlay, problems: Sequence[str]) -> RulesError:
    return RulesError(problem_list(overlay.path, problems, "in the policy overlay"), tuple(problems))


def _dotted(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _schema_problems(overlay: Overlay) -> list[str]:
    from jsonschema.exceptions import best_match

    from infra_policy.engine.policy.rules_ast import OPERATORS

    data = overlay.data
    found: list[str] = []
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        best = best_match([error])
        path = list(best.absolute_path)
        message = best.message
        instance = best.instance
        if best.validator == "additionalProperties" and not path:
            message += f"; an overlay has: overlay, description, {', '.join(PARTS)} (rules/overlay.schema.json)"
        elif best.validator == "additionalProperties" and len(path) == 3 and path[0] == "thresholds":
            message += f"; a threshold is changed by one of: {', '.join(COMPARISONS)}"
        elif best.validator in ("maxProperties", "minProperties") and isinstance(instance, dict) and "fact" in instance:
            ops = [k for k in instance if k != "fact"]
            message = (
                f"a test has 'fact' and exactly one operator ({', '.join(OPERATORS)}); found {', '.join(ops) or 'none'}"
            )
        elif best.validator == "minProperties" and not path:
            message = f"the overlay changes nothing: give at least one of {', '.join(PARTS)}"
        elif best.validator == "additionalProperties":
            message += "; see rules/schema.json for the allowed keys of a rule"
        if best.validator == "additionalProperties" and isinstance(instance, dict):
            allowed = best.schema.get("properties", {})
            extra = [k for k in instance if k not in allowed]
            if extra:
                path = [*path, extra[0]]
        where = _dotted(path) or "(top level)"
        if len(path) >= 2 and path[0] == "add" and isinstance(path[1], int):
            rule = data["add"][path[1]]
            rule_id = rule.get("id") if isinstance(rule, dict) and isinstance(rule.get("id"), str) else None
            inside = _dotted(path[2:]) or "(the rule)"
            where = f"add[{path[1]}]" + (f" (rule {rule_id})" if rule_id else "") + f", at {inside}"
        text = f"{overlay.where(*path)}: {where}: {message.rstrip('.')}."
        if text not in found:
            found.append(text)
    return found


# ---------------------------------------------------------------------------
# applying overlays to the loaded rule sets


def _replace(condition: Condition, old: Test, new: Test) -> Condition:
    if isinstance(condition, Test):
        return new if condition == old else condition
    if isinstance(condition, (All, Any)):
        return type(condition)(tuple(_replace(item, old, new) for item in condition.items))
    if isinstance(condition, Not):
        return Not(_replace(condition.item, old, new))
    return condition


def _number_text(value: object) -> str:
    return json.dumps(value)


@dataclass
class Change:
    """What overlays changed, for the checks after merging: rules touched, facts of removed rules."""

    rules: set[str] = dataclasses.field(default_factory=set)
    removed_facts: set[str] = dataclasses.field(default_factory=set)
    parameters: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (rule set, parameter)


class _Applier:
    def __init__(self, rulesets: list[Ruleset], kb: KnowledgeBase) -> None:
        self.rulesets = {rs.name: rs for rs in rulesets}
        self.kb = kb
        self.change = Change()
        self.disabled: dict[str, str] = {}  # rule id → overlay file that disabled it

    def _find(self, rule_id: str) -> tuple[Ruleset, Rule] | None:
        ruleset = self.rulesets.get(rule_id.split(".", 1)[0])
        if ruleset is not None:
            for rule in ruleset.rules:
                if rule.id == rule_id:
                    return ruleset, rule
        # a rule set whose name is not its rules' prefix would be refused at loading; look everywhere anyway
        for ruleset in self.rulesets.values():
            for rule in ruleset.rules:
                if rule.id == rule_id:
                    return ruleset, rule
        return None

    def _unknown_rule(self, rule_id: str) -> str:
        if rule_id in self.disabled:
            return f"rule {rule_id} is disabled (by {self.disabled[rule_id]}), so it cannot be changed."
        ids = [r.id for rs in self.rulesets.values() for r in rs.rules]
        close = difflib.get_close_matches(rule_id, ids, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"no rule has the id '{rule_id}'.{hint} The ids are listed by `infra-policy rules list`."

    def _put(self, ruleset: Ruleset, old: Rule, new: Rule) -> None:
        rules = tuple(new if r.id == old.id else r for r in ruleset.rules)
        self.rulesets[ruleset.name] = dataclasses.replace(ruleset, rules=rules)

    def apply(self, overlay: Overlay) -> list[str]:
        problems: list[str] = []
        data = overlay.data

        def fail(path: tuple, message: str) -> None:
            problems.append(f"{overlay.where(*path)}: {_dotted(path)}: {message}")

        for index, rule_id in enumerate(data.get("disable", ())):
            found = self._find(rule_id)
            if found is None:
                fail(("disable", index), self._unknown_rule(rule_id))
                continue
            ruleset, rule = found
            self.change.removed_facts.update(rule.when.facts())
            self.change.rules.update(self._readers_of(rule))
            self.rulesets[ruleset.name] = dataclasses.replace(
                ruleset, rules=tuple(r for r in ruleset.rules if r.id != rule_id)
            )
            self.disabled[rule_id] = overlay.file
        for name, values in data.get("parameters", {}).items():
            self._parameters(overlay, name, values, fail)
        allowed = _allowed_weights()
        for rule_id, weight in data.get("weights", {}).items():
            found = self._find(rule_id)
            if found is None:
                fail(("weights", rule_id), self._unknown_rule(rule_id))
                continue
            ruleset, rule = found
            if not isinstance(rule.then, Assess):
                fail(
                    ("weights", rule_id),
                    f"rule {rule_id} does not assess (it has no weight); only rules whose "
                    "conclusion is 'assess' have one (see `infra-policy rules list`).",
                )
                continue
            if weight not in allowed:
                fail(
                    ("weights", rule_id),
                    f"{weight} is not a weight; allowed: "
                    f"{', '.join(map(str, allowed))} (1 weak, 2 moderate, 3 strong).",
                )
                continue
            self._put(ruleset, rule, dataclasses.replace(rule, then=dataclasses.replace(rule.then, weight=weight)))
            self.change.rules.add(rule_id)
        for rule_id, tests in data.get("thresholds", {}).items():
            self._thresholds(rule_id, tests, fail)
        if "add" in data:
            problems.extend(self._add(overlay))
        return problems

    def _readers_of(self, rule: Rule) -> set[str]:
        """A removed rule's id, and the rules that read what it derives (they may stop firing)."""
        name = getattr(rule.then, "name", None)
        found = {rule.id}
        if name is not None:
            found |= {
                r.id
                for rs in self.rulesets.values()
                for r in rs.rules
                if any(isinstance(t, Concluded) and t.name == name for t in iter_tests(r.when))
            }
        return found

    def _parameters(self, overlay: Overlay, name: str, values: dict, fail) -> None:
        ruleset = self.rulesets.get(name)
        if ruleset is None:
            fail(("parameters", name), f"no rule set is named '{name}'; rule sets: {', '.join(sorted(self.rulesets))}.")
            return
        current = dict(ruleset.parameters)
        for key, value in values.items():
            path = ("parameters", name, key)
            if key not in current:
                known = ", ".join(current) or "none"
                fail(path, f"rule set {name} has no parameter '{key}'; its parameters: {known}.")
                continue
            kind = _kind(current[key])
            if _kind(value) != kind:
                fail(
                    path,
                    f"{value!r} is not a {kind}; parameter {key} of rule set {name} is a {kind} "
                    f"({_number_text(current[key])} now).",
                )
                continue
            problem = _parameter_problem(ruleset.kind, key, value)
            if problem:
                fail(path, problem)
                continue
            current[key] = value
            self.change.parameters.add((name, key))
        self.rulesets[name] = dataclasses.replace(ruleset, parameters=tuple(sorted(current.items())))

    def _thresholds(self, rule_id: str, tests: dict, fail) -> None:
        found = self._find(rule_id)
        if found is None:
            fail(("thresholds", rule_id), self._unknown_rule(rule_id))
            return
        ruleset, rule = found
        numeric = [t for t in iter_tests(rule.when) if isinstance(t, Test) and t.op in COMPARISONS]
        when = rule.when
        for fact, changes in tests.items():
            for op, value in changes.items():
                path = ("thresholds", rule_id, fact, op)
                matching = [t for t in numeric if t.fact == fact and t.op == op]
                if not matching:
                    have = "; ".join(f"{t.fact} {t.op} {_number_text(t.operand)}" for t in numeric)
                    fail(
                        path,
                        f"rule {rule_id} has no test '{fact} {op}'; "
                        + (f"its numeric tests: {have}." if have else "it compares no number."),
                    )
                    continue
                if len(matching) > 1:
                    fail(
                        path,
                        f"rule {rule_id} tests '{fact} {op}' {len(matching)} times, so an overlay cannot "
                        "tell which to change; disable the rule and add a new version of it instead.",
                    )
                    continue
                if not comparable_number(value):
                    fail(path, f"{value!r} cannot be compared by the rule engine: {COMPARABLE_NUMBERS}.")
                    continue
                old = matching[0]
                when = _replace(when, old, Test(fact, op, value))
        if when != rule.when:
            self._put(ruleset, rule, dataclasses.replace(rule, when=when))
            self.change.rules.add(rule_id)

    def _add(self, overlay: Overlay) -> list[str]:
        from infra_policy.engine.policy.ruleload import _RulesetBuilder

        problems = _LinedProblems(overlay)
        added = overlay.data["add"]
        if not rulelimits.check_depth(overlay.path, {"rules": added}, problems.add):
            return problems.items
        if not rulelimits.check_size(overlay.path, {"rules": added}, problems.add):
            return problems.items
        existing = {r.id: rs.source for rs in self.rulesets.values() for r in rs.rules}
        by_ruleset: dict[str, list[dict]] = {}
        for index, raw in enumerate(added):
            rule_id = raw["id"]
            prefix = rule_id.split(".", 1)[0]
            where = f"{overlay.where('add', index)}: add[{index}] (rule {rule_id})"
            if prefix not in self.rulesets:
                problems.items.append(
                    f"{where}: an added rule joins the rule set its id starts with, and no rule set is named "
                    f"'{prefix}'; rule sets: {', '.join(sorted(self.rulesets))}."
                )
            elif rule_id in existing:
                problems.items.append(
                    f"{where}: the id is already a rule of {existing[rule_id]}; change it with weights or "
                    "thresholds, or disable it and add the new version."
                )
            else:
                existing[rule_id] = overlay.file
                by_ruleset.setdefault(prefix, []).append(raw)
        for name, raws in by_ruleset.items():
            ruleset = self.rulesets[name]
            data = {"ruleset": name, "kind": ruleset.kind, "rules": raws}
            if ruleset.factor is not None:
                data["factor"] = ruleset.factor
            built = _RulesetBuilder(overlay.path, data, self.kb, problems).build()
            self.rulesets[name] = dataclasses.replace(ruleset, rules=ruleset.rules + built.rules)
            self.change.rules.update(r.id for r in built.rules)
        return problems.items


class _LinedProblems:
    """The rule loader's problem collector, naming the overlay's line of the added rule."""

    def __init__(self, overlay: Overlay) -> None:
        self.overlay = overlay
        self.items: list[str] = []
        self.index = {raw.get("id"): i for i, raw in enumerate(overlay.data.get("add", ())) if isinstance(raw, dict)}

    def add(self, file: Path, rule_id: str, path: str, message: str) -> None:
        index = self.index.get(rule_id)
        where = self.overlay.where("add", index) if index is not None else self.overlay.file
        who = f"add[{index}] (rule {rule_id})" if index is not None else "the added rules"
        self.items.append(f"{where}: {who}, at {path}: {message}")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def _parameter_problem(kind: str, key: str, value: object) -> str | None:
    """The loader's own checks of a parameter's value, so an overlay's value gets the same verdict."""
    from infra_policy.engine.policy.ruleload import stance_parameter_problem
    from infra_policy.engine.stages.cost import parameter_problems

    found = None
    if kind == "stance":
        found = stance_parameter_problem(key, value)
    elif kind == "factor":
        found = next(iter(parameter_problems({key: value})), None)
    # the loader's sentences name the parameter; the overlay's path already does
    return found.removeprefix(f"parameters.{key} ") if found else None


def _line_of(problem: str) -> int:
    """The line a problem names (``file, line N: …``), for listing problems in file order."""
    head = problem.split(":", 1)[0]
    number = head.rsplit("line ", 1)[-1]
    return int(number) if number.isdigit() else 0


def apply_overlays(
    rulesets: list[Ruleset], overlays: Sequence[Overlay], kb: KnowledgeBase
) -> tuple[list[Ruleset], Change]:
    """The rule sets with every overlay applied in order; a :class:`RulesError` names the first bad overlay."""
    applier = _Applier(rulesets, kb)
    for overlay in overlays:
        problems = applier.apply(overlay)
        if problems:
            raise overlay_error(overlay, sorted(problems, key=_line_of))
    return sorted(applier.rulesets.values(), key=lambda rs: rs.name), applier.change


# ---------------------------------------------------------------------------
# directions: the merged policy must still respect what the knowledge base declares


def _upstream_facts(policy, rule_ids: Iterable[str]) -> set[str]:
    """The facts whose change can change whether these rules fire (through derived conclusions too)."""
    facts: set[str] = set()
    seen: set[str] = set()
    pending = [r for r in rule_ids if r in policy.by_id]
    while pending:
        rule_id = pending.pop()
        if rule_id in seen:
            continue
        seen.add(rule_id)
        for test in iter_tests(policy.by_id[rule_id].when):
            if isinstance(test, Test):
                facts.add(test.fact)
            else:
                pending.extend(policy.producers.get(test.name, ()))
    return facts


def direction_problems(policy, change: Change, vocabulary) -> list[str]:
    """Violations of the declared directions (and cliffs) that the overlays' changes can cause, as sentences.

    Only the facts that reach a changed rule are walked (``rules check --overlay`` walks them all);
    the stance rules are checked on their own: more weight for a side never moves the stance away from it.
    """
    from infra_policy.engine.policy.monotone import _cost_inputs, check_computed_cliffs, check_fact

    factor_ids = {r.id for r in policy.factor_rules}
    touched = {r for r in change.rules if r in factor_ids}
    if any(kind_name in _factor_parameter_sets(policy) for kind_name, _ in change.parameters):
        touched |= set(policy.reading_computed)  # the cost model's defaults change what it computes
    facts = _upstream_facts(policy, touched) | (change.removed_facts & set(vocabulary.properties))
    computed = sorted(f for f in facts if f in vocabulary.computed)
    if computed:
        facts |= _cost_inputs(vocabulary, policy)
    declared = sorted(
        f for f in facts - vocabulary.computed if f in vocabulary.properties and vocabulary.properties[f].pushes
    )
    violations = [v for name in declared for v in check_fact(name, policy, vocabulary, limit=1)]
    violations += [v for name in computed for v in check_computed_cliffs(name, policy, vocabulary, limit=1)]
    problems = [
        f"the policy it makes breaks a direction the knowledge base declares ({v.kind}): {v.text}. Run "
        "`infra-policy rules check --overlay …` for every violation; change the overlay so that a step toward a "
        "side never weighs against it."
        for v in violations
    ]
    # the stance rules read only the tally, so any change of them (or of the factor cap) is checked here
    problems += [
        f"the stance rules it makes do not hold together: {text} Change the thresholds of the stance rules "
        "together (stance.clear-cloud with stance.close-balance, stance.clear-in-house with stance.close-balance)."
        for text in stance_order_problems(policy)
    ]
    return problems


def _factor_parameter_sets(policy) -> set[str]:
    return {rs.name for rs in policy.rulesets if rs.kind == "factor" and rs.parameters}


# How far the stance rules are probed: side weights 0..MOST_WEIGHT, 1..MOST_FACTORS factors counted.
MOST_WEIGHT = 16
MOST_FACTORS = 6


def stance_order_problems(policy) -> list[str]:
    """Whether more weight for one side can move a stance away from it, or leave a tally with no stance.

    The stance rules read the tally; both sides feasible, every tally of up to ``MOST_WEIGHT`` points a
    side is tried, and each one-point step for a side must not move the stance against it along
    cloud < hybrid < in-house.
    """
    from infra_policy.engine.policy.monotone import stance_moves_against
    from infra_policy.engine.policy.rules_ast import predicate
    from infra_policy.engine.policy.tally import Tally

    def stance(cloud: int, in_house: int, factors: int) -> str | None:
        facts = Tally(cloud, in_house, factors, True, True, 0, 0, ()).facts()
        for rule in policy.stance_rules:
            if predicate(rule.when)(facts, frozenset()):
                return rule.then.stance
        return None

    problems: list[str] = []
    for factors in range(1, MOST_FACTORS + 1):
        for cloud in range(MOST_WEIGHT + 1):
            for in_house in range(MOST_WEIGHT + 1):
                now = stance(cloud, in_house, factors)
                if now is None:
                    problems.append(
                        f"no stance rule fires for cloud weight {cloud}, in-house weight {in_house}, {factors} "
                        "factors counted: the stance rules must give a stance for every tally."
                    )
                    return problems
                for side, more in (("in-house", (cloud, in_house + 1)), ("cloud", (cloud + 1, in_house))):
                    if max(more) > MOST_WEIGHT:
                        continue
                    after = stance(*more, factors)
                    if after is not None and stance_moves_against(now, after, side):
                        problems.append(
                            f"stance: one more point for {side} (cloud {cloud}, in-house {in_house} → cloud "
                            f"{more[0]}, in-house {more[1]}, {factors} factors) moves the stance from {now} to "
                            f"{after}, away from {side}."
                        )
                        return problems
    return problems


def direction_error(overlays: Sequence[Overlay], problems: Sequence[str]) -> RulesError:
    names = ", ".join(o.file for o in overlays)
    head = overlays[-1].path if len(overlays) == 1 else names
    shown = [f"with the overlay{'s' if len(overlays) > 1 else ''} {names}, {p}" for p in problems]
    return RulesError(problem_list(head, shown, "in the policy overlay"), tuple(shown))


__all__ = [
    "AppliedOverlay",
    "Change",
    "Overlay",
    "apply_overlays",
    "direction_error",
    "direction_problems",
    "overlay_schema",
    "read_overlay",
    "stance_order_problems",
]
