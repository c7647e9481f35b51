"""Load rule files (YAML) into the rule AST, checking schema and vocabulary.

Every problem in every file is collected and reported together, each naming
the file, the rule id and the path inside the rule.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from infra_policy.engine.errors import RulesError
from infra_policy.engine.files import read_bounded
from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.paths import PACKAGED_RULES, rules_schema
from infra_policy.engine.policy import rulelimits
from infra_policy.engine.policy.overlay import AppliedOverlay
from infra_policy.engine.policy.rules_ast import (
    COMPARISONS,
    OPERATORS,
    All,
    Any,
    Assess,
    Concluded,
    Condition,
    Derive,
    Mitigation,
    Rule,
    RuleOut,
    Ruleset,
    SetPlan,
    SetStance,
    Test,
    iter_tests,
    other_side,
    predicate,
)
from infra_policy.engine.policy.tally import (
    ENUM_VALUES,
    ORGANIZATION_FIELDS,
    PLAN_FIELDS,
    REASON_FIELDS,
    TALLY_FIELDS,
    Weighed,
)
from infra_policy.engine.stages.cost import parameter_problems
from infra_policy.engine.stages.inputs import COMPARABLE_NUMBERS, comparable_number


@dataclass(frozen=True)
class Policy:
    """All rule sets, checked and ordered for evaluation."""

    rulesets: tuple[Ruleset, ...]
    strata: tuple[tuple[Rule, ...], ...]  # factor rules, by dependency layer
    stance_rules: tuple[Rule, ...]
    organization_rules: tuple[Rule, ...]
    plan_rules: tuple[Rule, ...] = ()
    parameters: dict[str, object] = field(default_factory=dict)  # the stance rule set's
    organization_parameters: dict[str, object] = field(default_factory=dict)
    # the facts the engine computes (kb: ip:ComputedProperty), which rules may read
    computed_facts: frozenset[str] = frozenset()
    # the parameters of the factor rule sets, merged (e.g. the cost model's defaults in cost.yaml)
    factor_parameters: dict[str, object] = field(default_factory=dict)
    # the policy overlays applied to the rule files, in order (docs/overlays.md)
    overlays: tuple[AppliedOverlay, ...] = ()

    @property
    def factor_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for layer in self.strata for rule in layer)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.factor_rules + self.stance_rules + self.plan_rules + self.organization_rules

    @cached_property
    def titles(self) -> dict[str, str]:
        """Rule id → title."""
        return {rule.id: rule.title for rule in self.rules}

    @cached_property
    def conditions(self) -> dict[str, Condition]:
        """Rule id → its condition (``when``)."""
        return {rule.id: rule.when for rule in self.rules}

    @cached_property
    def not_weighed(self) -> dict[tuple[str, str], str]:
        """(fact, value) → why the policy gives that stated value no weight."""
        return {(fact, value): reason for rs in self.rulesets for fact, value, reason in rs.not_weighed}

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def rule(self, rule_id: str) -> Rule:
        return self.by_id[rule_id]

    @cached_property
    def tests_by_fact(self) -> dict[str, tuple[Test, ...]]:
        """Every test the factor rules make, grouped by the fact it reads."""
        found: dict[str, list[Test]] = {}
        for rule in self.factor_rules:
            for test in iter_tests(rule.when):
                if isinstance(test, Test):
                    found.setdefault(test.fact, []).append(test)
        return {name: tuple(tests) for name, tests in sorted(found.items())}

    @cached_property
    def readers(self) -> dict[str, frozenset[str]]:
        """Fact or ``concluded:<name>`` → ids of the factor rules whose condition reads it."""
        found: dict[str, set[str]] = {}
        for rule in self.factor_rules:
            for test in iter_tests(rule.when):
                key = f"concluded:{test.name}" if isinstance(test, Concluded) else test.fact
                found.setdefault(key, set()).add(rule.id)
        return {key: frozenset(ids) for key, ids in found.items()}

    @cached_property
    def positive_readers(self) -> dict[str, tuple[Rule, ...]]:
        """Fact → the factor rules that test it outside any ``not`` (a value of it can make them hold)."""
        found: dict[str, list[Rule]] = {}
        for rule in self.factor_rules:
            for name in sorted(_positive_facts(rule.when)):
                found.setdefault(name, []).append(rule)
        return {name: tuple(rules) for name, rules in found.items()}

    @cached_property
    def weighing(self) -> dict[str, Weighed]:
        """Assessment rule id → what it adds to a tally (its weight rests on its first claim)."""
        return {
            r.id: Weighed(r.id, r.then.factor, r.then.favors, r.then.weight, r.primary_claim)
            for r in self.factor_rules
            if isinstance(r.then, Assess)
        }

    @cached_property
    def ruling_out(self) -> dict[str, str]:
        """Feasibility rule id → the side it rules out."""
        return {r.id: r.then.side for r in self.factor_rules if isinstance(r.then, RuleOut)}

    @cached_property
    def counting_rules(self) -> frozenset[str]:
        """The factor rules a tally counts: those that weigh and those that rule a side out."""
        return frozenset(self.weighing) | frozenset(self.ruling_out)

    @cached_property
    def reading_computed(self) -> tuple[str, ...]:
        """Ids of the factor rules that read a fact the engine computes (the cost rules)."""
        return tuple(sorted(r.id for r in self.factor_rules if set(r.when.facts()) & self.computed_facts))

    @cached_property
    def producers(self) -> dict[str, tuple[str, ...]]:
        """Intermediate conclusion → ids of the factor rules that derive it."""
        found: dict[str, list[str]] = {}
        for rule in self.factor_rules:
            if isinstance(rule.then, Derive):
                found.setdefault(rule.then.name, []).append(rule.id)
        return {name: tuple(ids) for name, ids in found.items()}

    @cached_property
    def _affected(self) -> dict[tuple[str, ...], tuple[tuple[Rule, ...], ...]]:
        return {}

    def affected_layers(self, facts: Iterable[str]) -> tuple[tuple[Rule, ...], ...]:
        """:meth:`affected_by` as rules, layer by layer (memoized: the same few fact sets recur)."""
        key = tuple(sorted(facts))
        found = self._affected.get(key)
        if found is None:
            ids = self.affected_by(key)
            found = tuple(tuple(r for r in layer if r.id in ids) for layer in self.strata)
            self._affected[key] = found
        return found

    @cached_property
    def _affected_predicates(self) -> dict[tuple[str, ...], tuple]:
        return {}

    @cached_property
    def tally_outcomes(self) -> dict:
        """Memo of engine.stages.decide: the tally and stance of a set of counting rules that fired."""
        return {}

    @cached_property
    def value_classes(self) -> dict:
        """Memo of engine.stages.changes: per fact, the classes of values its tests tell apart."""
        return {}

    def affected_predicates(self, changed: tuple[str, ...]) -> tuple:
        """:meth:`affected_layers` without empty layers, each rule as (compiled predicate, id, derived name or None)."""
        found = self._affected_predicates.get(changed)
        if found is None:
            compiled = self._compiled_rules  # each rule compiled once, whatever set of facts it is affected by
            for layer in self.affected_layers(changed):
                for r in layer:
                    if r.id not in compiled:
                        compiled[r.id] = (predicate(r.when), r.id, getattr(r.then, "name", None))
            found = tuple(tuple(compiled[r.id] for r in layer) for layer in self.affected_layers(changed) if layer)
            self._affected_predicates[changed] = found
        return found

    @cached_property
    def _compiled_rules(self) -> dict[str, tuple]:
        return {}

    def affected_by(self, facts: Iterable[str]) -> frozenset[str]:
        """The factor rules whose firing may change when ``facts`` change, through derived conclusions too."""
        affected: set[str] = set()
        pending = [rule_id for name in facts for rule_id in self.readers.get(name, ())]
        while pending:
            rule_id = pending.pop()
            if rule_id in affected:
                continue
            affected.add(rule_id)
            then = self.by_id[rule_id].then
            if isinstance(then, Derive):
                pending.extend(self.readers.get(f"concluded:{then.name}", ()))
        return frozenset(affected)

    def canonical(self) -> str:
        """A formatting-independent text of the policy (for its digest)."""
        payload = [
            {
                "ruleset": rs.name,
                "kind": rs.kind,
                "factor": rs.factor,
                "parameters": sorted(rs.parameters),
                **({"not_weighed": sorted(rs.not_weighed)} if rs.not_weighed else {}),
                "rules": sorted(_rule_repr(r) for r in rs.rules),
            }
            for rs in sorted(self.rulesets, key=lambda rs: rs.name)
        ]
        if self.overlays:  # which overlays made it, so the digest names them too (absent: unchanged digests)
            payload.append({"overlays": [o.digest for o in self.overlays]})
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _positive_facts(condition: Condition) -> set[str]:
    if isinstance(condition, Test):
        return {condition.fact}
    if isinstance(condition, (All, Any)):
        return set().union(*(_positive_facts(item) for item in condition.items))
    return set()  # a conclusion test, or a test under ``not``


def _rule_repr(rule: Rule) -> str:
    extra = (rule.assumes, rule.mitigation) if rule.assumes or rule.mitigation else ()
    return repr((rule.id, rule.title, rule.when, rule.then, rule.rationale, sorted(rule.claims), rule.priority, *extra))


# libyaml's loader when PyYAML was built with it (several times faster), same safe subset.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_schema_validator = None


def _validator():
    global _schema_validator
    if _schema_validator is None:
        import jsonschema

        schema = rules_schema()
        _schema_validator = jsonschema.Draft202012Validator(schema)
    return _schema_validator


def _where(data: dict, path: Iterable) -> tuple[str, str]:
    """(rule id or '-', dotted path) for a location inside a rule file."""
    parts = list(path)
    rule_id = "-"
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        try:
            rule_id = str(data["rules"][parts[1]].get("id", f"rules[{parts[1]}]"))
        except (AttributeError, IndexError, KeyError, TypeError):
            rule_id = f"rules[{parts[1]}]"
        parts = parts[2:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return rule_id, text or "(top level)"


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: Path, rule_id: str, path: str, message: str) -> None:
        who = f"rule {rule_id}" if rule_id != "-" else "the rule set"
        self.items.append(f"{file.name}: {who}, at {path}: {message}")


def _schema_problems(file: Path, data, problems: _Problems) -> bool:
    from jsonschema.exceptions import best_match

    if not isinstance(data, dict):
        problems.add(file, "-", "(top level)", "a rule file must be a mapping with ruleset, kind and rules.")
        return False
    errors = list(_validator().iter_errors(data))
    seen = set()
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        best = best_match([error])
        rule_id, where = _where(data, best.absolute_path)
        message = best.message
        instance = best.instance
        if best.validator in ("maxProperties", "minProperties") and isinstance(instance, dict) and "fact" in instance:
            ops = [k for k in instance if k != "fact"]
            message = (
                f"a test has 'fact' and exactly one operator ({', '.join(OPERATORS)}); found {', '.join(ops) or 'none'}"
            )
        elif best.validator == "maxItems" and isinstance(instance, list):
            # jsonschema would quote the whole (long) list
            message = (
                f"has {len(instance)} values; at most {best.validator_value} are allowed (maxItems in "
                "rules/schema.json: the rule engine takes minutes to compile a few hundred)"
            )
        elif best.validator == "additionalProperties":
            message += "; see rules/schema.json for the allowed keys"
        message = message if message.endswith(".") else message + "."
        key = (rule_id, where, message)
        if key not in seen:
            seen.add(key)
            problems.add(file, rule_id, where, message)
    return not errors


class _RulesetBuilder:
    """Turns one schema-valid mapping into AST, checking the vocabulary."""

    def __init__(self, file: Path, data: dict, kb: KnowledgeBase, problems: _Problems) -> None:
        self.file = file
        self.data = data
        self.kb = kb
        self.problems = problems
        self.kind = data["kind"]
        self.rule_id = "-"

    def fail(self, path: str, message: str) -> None:
        self.problems.add(self.file, self.rule_id, path, message)

    def build(self) -> Ruleset:
        data = self.data
        name = data["ruleset"]
        factor = data.get("factor")
        if factor is not None and factor not in self.kb.factors:
            self.fail("factor", f"unknown factor '{factor}'; known factors: {', '.join(self.kb.factors)}.")
        rules = []
        for _index, raw in enumerate(data["rules"]):
            self.rule_id = raw["id"]
            if not raw["id"].startswith(name + "."):
                self.fail("id", f"the id must start with the rule set name '{name}.'.")
            when = self._condition(raw["when"], "when")
            then = self._conclusion(raw["then"], factor)
            for claim in raw["claims"]:
                if claim not in self.kb.claims:
                    self.fail("claims", f"unknown claim '{claim}'; claims are defined in kb/claims.ttl.")
            if self.kind != "factor" and "priority" not in raw:
                self.fail("priority", f"{self.kind} rules need a priority (lower wins when several fire).")
            mitigation = self._mitigation(raw.get("mitigation"), then)
            rules.append(
                Rule(
                    id=raw["id"],
                    title=raw["title"].strip(),
                    when=when,
                    then=then,
                    rationale=" ".join(raw["rationale"].split()),
                    claims=tuple(raw["claims"]),
                    ruleset=name,
                    source=self.file.name,
                    priority=int(raw.get("priority", 0)),
                    assumes=tuple(" ".join(a.split()) for a in raw.get("assumes", ())),
                    mitigation=mitigation,
                )
            )
        self.rule_id = "-"
        params = data.get("parameters", {})
        return Ruleset(
            name=name,
            kind=self.kind,
            rules=tuple(rules),
            source=self.file.name,
            factor=factor,
            description=" ".join(str(data.get("description", "")).split()),
            parameters=tuple(sorted(params.items())),
            not_weighed=self._not_weighed(data.get("not_weighed", {})),
        )

    def _not_weighed(self, raw: dict) -> tuple[tuple[str, str, str], ...]:
        if raw and self.kind != "factor":
            self.fail("not_weighed", "only factor rule sets may list values that carry no weight.")
        found = []
        for fact, values in sorted(raw.items()):
            prop = self.kb.vocabulary.get(fact)
            if prop is None or prop.computed:
                self.fail(f"not_weighed.{fact}", f"unknown fact '{fact}'; facts are the properties of kb/ontology.ttl.")
                continue
            for value, reason in sorted(values.items()):
                if prop.kind in ("enum", "iri") and not prop.open_values and value not in prop.values:
                    self.fail(f"not_weighed.{fact}.{value}", f"'{value}' is not a value of '{fact}'.")
                found.append((fact, str(value), " ".join(reason.split())))
        return tuple(found)

    def _mitigation(self, raw: dict | None, then) -> Mitigation | None:
        if raw is None:
            return None
        if not isinstance(then, Assess):
            self.fail("mitigation", "only assessment rules have a mitigation (it answers their argument).")
        allowed = (
            self.kb.vocabulary.properties["cloudSafeguard"].values
            if "cloudSafeguard" in (self.kb.vocabulary.properties)
            else ()
        )
        for item in raw.get("safeguards", ()):
            if item not in allowed:
                self.fail("mitigation.safeguards", f"'{item}' is not a cloud safeguard; allowed: {', '.join(allowed)}.")
        return Mitigation(" ".join(raw["advice"].split()), tuple(raw.get("safeguards", ())))

    def _conclusion(self, raw: dict, default_factor: str | None):
        ((key, value),) = raw.items()
        allowed = {
            "factor": ("assess", "rule_out", "require", "derive"),
            "plan": ("plan",),
        }.get(self.kind, ("stance",))
        if key not in allowed:
            self.fail(f"then.{key}", f"a {self.kind} rule concludes with {' or '.join(allowed)}, not '{key}'.")
        if key == "assess":
            factor = value.get("factor", default_factor)
            if factor not in self.kb.factors:
                self.fail("then.assess.factor", f"unknown factor '{factor}'; known: {', '.join(self.kb.factors)}.")
            return Assess(factor=factor, favors=value["favors"], weight=int(value["weight"]))
        if key == "rule_out":
            return RuleOut(side=value)
        if key == "require":  # version 1: requiring a side rules the other out
            return RuleOut(side=other_side(value))
        if key == "plan":
            return SetPlan(in_house=tuple(value["in_house"]), cloud=tuple(value["cloud"]))
        if key == "derive":
            return Derive(name=value)
        return SetStance(stance=value)

    def _condition(self, raw: dict, path: str) -> Condition:
        if "all" in raw:
            return All(tuple(self._condition(c, f"{path}.all[{i}]") for i, c in enumerate(raw["all"])))
        if "any" in raw:
            return Any(tuple(self._condition(c, f"{path}.any[{i}]") for i, c in enumerate(raw["any"])))
        if "not" in raw:
            from infra_policy.engine.policy.rules_ast import Not

            return Not(self._condition(raw["not"], f"{path}.not"))
        if "concluded" in raw:
            if self.kind != "factor":
                self.fail(path, "only factor rules may test intermediate conclusions.")
            return Concluded(raw["concluded"])
        op = next(k for k in raw if k != "fact")
        test = Test(fact=raw["fact"], op=op, operand=_operand(raw[op], op))
        self._check_test(test, path)
        return test

    def _check_test(self, test: Test, path: str) -> None:
        if self.kind == "factor":
            self._check_fact_test(test, path)
        else:
            fields = {"stance": TALLY_FIELDS, "plan": PLAN_FIELDS}.get(self.kind, ORGANIZATION_FIELDS)
            self._check_computed_test(test, path, fields)

    def _check_fact_test(self, test: Test, path: str) -> None:
        vocab = self.kb.vocabulary
        prop = vocab.get(test.fact)
        if prop is None:
            hint = vocab.closest(test.fact)
            suggestion = f" Did you mean '{hint}'?" if hint else ""
            self.fail(
                f"{path}.fact", f"unknown fact '{test.fact}'.{suggestion} Facts are the properties of kb/ontology.ttl."
            )
            return
        self._check_operand(test, path, prop.kind, prop.values, prop.open_values, prop.single)

    def _check_computed_test(self, test: Test, path: str, fields: dict) -> None:
        if test.fact not in fields:
            self.fail(f"{path}.fact", f"unknown {self.kind} fact '{test.fact}'; allowed: {', '.join(fields)}.")
            return
        kind = fields[test.fact][0]
        if kind == "reasons":  # rule ids: checked once every rule file is read (plan_reason_problems)
            self._check_operand(test, path, "enum", (), True, False)
            return
        values = ENUM_VALUES.get(test.fact) or (tuple(self.kb.factors) if kind == "factors" else ())
        single = kind != "factors"
        self._check_operand(test, path, "enum" if kind == "factors" else kind, values, False, single)

    def _check_operand(self, test, path, kind, values, open_values, single) -> None:
        op, operand = test.op, test.operand
        where = f"{path}.{op}"
        if op in ("present", "absent"):
            return
        if op in COMPARISONS:
            if kind not in ("number", "integer"):
                self.fail(where, f"'{test.fact}' is not a number; '{op}' compares numbers only.")
            elif not comparable_number(operand):
                self.fail(where, f"{operand!r} cannot be compared by the rule engine: {COMPARABLE_NUMBERS}.")
            return
        operands = operand if op == "in" else (operand,)
        for item in operands:
            if kind in ("number", "integer"):
                ok = isinstance(item, (int, float)) and not isinstance(item, bool) and comparable_number(item)
                expected = f"a number ({COMPARABLE_NUMBERS})"
            elif kind == "boolean":
                ok = isinstance(item, bool)
                expected = "true or false"
            elif kind in ("enum", "iri"):
                ok = isinstance(item, str) and (open_values or item in values)
                expected = "one of " + ", ".join(values)
            else:
                ok = isinstance(item, str)
                expected = "a string"
            if not ok:
                self.fail(where, f"'{item}' is not a value of '{test.fact}'; expected {expected}.")


def _operand(value, op: str):
    if op == "in":
        return tuple(value)
    if op in ("present", "absent"):
        return None
    return value


def _stratify(rules: list[Rule], problems: _Problems) -> tuple[tuple[Rule, ...], ...]:
    """Layer factor rules so each only reads conclusions of earlier layers."""
    producers: dict[str, list[Rule]] = {}
    for rule in rules:
        if isinstance(rule.then, Derive):
            producers.setdefault(rule.then.name, []).append(rule)
    for rule in rules:
        for name in rule.concluded_names():
            if name not in producers:
                problems.items.append(
                    f"{rule.source}: rule {rule.id}: tests 'concluded: {name}', but no rule derives '{name}'."
                )

    def below(rule: Rule) -> list[Rule]:
        return [p for n in rule.concluded_names() for p in producers.get(n, ())]

    # Depth-first with an explicit stack: a chain of hundreds of derivations
    # (or a cycle through them) must not exhaust Python's.
    layer: dict[str, int] = {}
    for start in rules:
        if start.id in layer:
            continue
        chain = [start.id]
        stack = [(start, iter(below(start)))]
        while stack:
            rule, pending = stack[-1]
            producer = next(pending, None)
            if producer is None:
                stack.pop()
                chain.pop()
                layers = [layer[p.id] for p in below(rule) if p.id in layer]
                layer[rule.id] = 1 + max(layers) if layers else 0
            elif producer.id in chain:
                cycle = [*chain, producer.id]
                shown = cycle if len(cycle) <= 12 else [*cycle[:5], f"… {len(cycle) - 10} more …", *cycle[-5:]]
                where = f"{producer.source}: rule {producer.id}"
                problems.items.append(f"{where}: intermediate conclusions form a cycle: {' → '.join(shown)}.")
            elif producer.id not in layer:
                chain.append(producer.id)
                stack.append((producer, iter(below(producer))))
    allowed = rulelimits.limits()["derivation_layers"]
    deepest = max(rules, key=lambda r: (layer.get(r.id, 0), r.id), default=None)
    if deepest is not None and layer[deepest.id] + 1 > allowed:
        problems.items.append(
            f"{deepest.source}: rule {deepest.id}: rests on a chain of {layer[deepest.id]} derived conclusions, "
            f"each derived from the one before; at most {allowed} layers of factor rules are allowed "
            "(limits.derivation_layers in rules/schema.json). Derive from the facts more directly."
        )
        return ()
    count = 1 + max(layer.values(), default=0)
    return tuple(tuple(sorted((r for r in rules if layer[r.id] == k), key=lambda r: r.id)) for k in range(count))


# A rule file is a few kilobytes; this bound only stops a runaway or hostile file.
MAX_RULE_FILE_BYTES = 2_000_000


def _shares_nodes(data) -> bool:
    """Whether a loaded YAML document reuses a node (an alias ``*name``).

    Aliases let a small file expand into an exponentially large tree (the
    "billion laughs"), which the schema check would then walk.
    """
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                return True
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


def read_yaml_file(file: Path, what: str = "rule file") -> tuple[object, str | None]:
    """The parsed YAML of a rule file (or another YAML file of the policy: ``what`` names it),
    or a sentence saying why it cannot be used."""
    _, data, problem = read_yaml_text(file, what)
    return data, problem


def read_yaml_text(file: Path, what: str = "rule file") -> tuple[str, object, str | None]:
    """:func:`read_yaml_file` with the text it read (to find lines in it without reading the file again)."""
    try:
        raw = read_bounded(file, MAX_RULE_FILE_BYTES, RulesError, what, shown=file.name)
    except RulesError as exc:
        return "", None, str(exc)
    if b"\x00" in raw[:8192]:
        return "", None, f"{file.name}: looks like a binary file, not YAML text (it contains NUL bytes)."
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", None, f"{file.name}: is not valid UTF-8 (byte {exc.start}); {what}s must be UTF-8."
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = str(getattr(exc, "problem", None) or exc).strip().rstrip(".")
        return text, None, f"{file.name}{where}: not valid YAML — {why}."
    except RecursionError:
        return text, None, f"{file.name}: not valid YAML for a {what} — it is nested too deeply to read."
    if _shares_nodes(data):
        return (
            text,
            None,
            (
                f"{file.name}: uses YAML anchors and aliases (&name / *name), which {what}s may not; "
                "write each rule out in full."
            ),
        )
    return text, data, None


def _read_rule_file(file: Path) -> tuple[object, str | None]:
    """The parsed YAML of a rule file, or a sentence saying why it cannot be used."""
    return read_yaml_file(file, "rule file")


def stance_parameter_problem(name: str, value: object) -> str | None:
    """What is wrong with a parameter of the stance rule set (None when it is fine)."""
    meanings = {
        "strong_weight": (1, "≥ 1 (the weight from which an assessment counts as strong)"),
        "factor_cap": (0, "≥ 0 (the most one factor can weigh for one side; 0 means no cap)"),
    }
    if name not in meanings:
        return None
    least, meaning = meanings[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        return f"parameters.{name} is {value!r}; it must be a whole number {meaning}."
    return None


def _plan_reason_problems(rulesets, factor_rules) -> list[str]:
    """Plan tests on counted reasons must name assessment rules of the policy, favoring that side."""
    favoring = {
        side: sorted(r.id for r in factor_rules if isinstance(r.then, Assess) and r.then.favors == side)
        for side in ("cloud", "in-house")
    }
    found = []
    for rs in rulesets:
        if rs.kind != "plan":
            continue
        for rule in rs.rules:
            for test in iter_tests(rule.when):
                if not isinstance(test, Test) or test.fact not in REASON_FIELDS or test.op in ("present", "absent"):
                    continue
                side = REASON_FIELDS[test.fact]
                operands = test.operand if isinstance(test.operand, tuple) else (test.operand,)
                for operand in operands:
                    if operand not in favoring[side]:
                        hint = difflib.get_close_matches(str(operand), favoring[side], n=1)
                        suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
                        found.append(
                            f"{rs.source}: rule {rule.id}: {test.fact} names '{operand}', which is not an assessment "
                            f"rule favoring {side}.{suggestion} It takes the ids of the factor rules that assess "
                            f"for {side}."
                        )
    return found


def load_policy(
    kb: KnowledgeBase,
    directory: Path | None = None,
    overlays: Sequence[Path | str] = (),
    check_directions: bool = True,
) -> Policy:
    """Read every ``*.yaml`` rule file of ``directory`` (default: the packaged rules), then apply the
    policy ``overlays`` (files, in order; docs/overlays.md).

    With overlays, the merged policy is checked against the directions the knowledge base declares for
    the facts the overlays' changes can reach (``check_directions=False`` leaves that to the caller,
    as ``rules check`` does, which checks every fact).
    """
    directory = Path(directory) if directory is not None else PACKAGED_RULES
    if not directory.is_dir():
        raise RulesError(f"{directory}: the rules directory does not exist.")
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not files:
        raise RulesError(f"{directory}: no rule files (*.yaml) found.")
    problems = _Problems()
    rulesets: list[Ruleset] = []
    for file in files:
        data, problem = _read_rule_file(file)
        if problem is not None:
            problems.items.append(problem)
            continue
        if not rulelimits.check_depth(file, data, problems.add):
            continue  # the schema check would recurse as deep as the rule is nested
        if _schema_problems(file, data, problems) and rulelimits.check_size(file, data, problems.add):
            rulesets.append(_RulesetBuilder(file, data, kb, problems).build())

    seen: dict[str, str] = {}
    for ruleset in rulesets:
        for rule in ruleset.rules:
            if rule.id in seen:
                problems.items.append(f"{ruleset.source}: rule {rule.id}: duplicate id (also in {seen[rule.id]}).")
            seen[rule.id] = ruleset.source
    read = [_read_overlay(path) for path in overlays]
    change = None
    if read and not problems.items:
        from infra_policy.engine.policy.overlay import apply_overlays

        rulesets, change = apply_overlays(rulesets, read, kb)
    for kind in ("stance", "organization", "plan"):
        found = [rs.source for rs in rulesets if rs.kind == kind]
        if kind == "plan" and not found:
            continue  # optional: without plan rules a hybrid gets the engine's split-by-concern plan
        if len(found) != 1 and not problems.items:
            problems.items.append(
                f"{directory}: there must be exactly one rule set of kind '{kind}', found {len(found)}"
                + (f" ({', '.join(found)})" if found else "")
                + "."
            )
    if problems.items:
        raise _rules_error(directory, problems.items)

    factor_parameters: dict[str, object] = {}
    for rs in rulesets:
        if rs.kind != "factor":
            continue
        for name, value in rs.parameters:
            if name in factor_parameters:
                problems.items.append(f"{rs.source}: parameters.{name} is also set by another factor rule set.")
            factor_parameters[name] = value
        problems.items.extend(f"{rs.source}: {p}" for p in parameter_problems(dict(rs.parameters)))
    if problems.items:
        raise _rules_error(directory, problems.items)

    factor_rules = [r for rs in rulesets if rs.kind == "factor" for r in rs.rules]
    problems.items.extend(_plan_reason_problems(rulesets, factor_rules))
    strata = _stratify(factor_rules, problems)
    if problems.items:
        raise _rules_error(directory, problems.items)
    by_kind = {rs.kind: rs for rs in rulesets if rs.kind != "factor"}
    stance = by_kind["stance"]
    stance_parameters = {"strong_weight": 3, "factor_cap": 0, **dict(stance.parameters)}
    for name in ("strong_weight", "factor_cap"):
        problem = stance_parameter_problem(name, stance_parameters[name])
        if problem is not None:
            raise RulesError(f"{directory}/{stance.source}: {problem}")

    def ordered(rs: Ruleset) -> tuple[Rule, ...]:
        return tuple(sorted(rs.rules, key=lambda r: (r.priority, r.id)))

    policy = Policy(
        rulesets=tuple(sorted(rulesets, key=lambda rs: rs.name)),
        strata=strata,
        stance_rules=ordered(stance),
        organization_rules=ordered(by_kind["organization"]),
        plan_rules=ordered(by_kind["plan"]) if "plan" in by_kind else (),
        parameters=stance_parameters,
        organization_parameters=dict(by_kind["organization"].parameters),
        computed_facts=kb.vocabulary.computed,
        factor_parameters=dict(sorted(factor_parameters.items())),
        overlays=tuple(AppliedOverlay(o.name, o.file, o.digest, o.data) for o in read),
    )
    if change is not None and check_directions:
        from infra_policy.engine.policy.overlay import direction_error, direction_problems

        found = direction_problems(policy, change, kb.vocabulary)
        if found:
            raise direction_error(read, found)
    return policy


def _read_overlay(path: Path | str):
    from infra_policy.engine.policy.overlay import read_overlay

    return read_overlay(path)


def _rules_error(directory: Path, items: list[str]) -> RulesError:
    return RulesError.listing(directory, items)


__all__ = ["OPERATORS", "Policy", "load_policy"]
