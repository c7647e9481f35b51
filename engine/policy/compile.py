"""Stage 4a — compile: the rule AST into durable-rules rulesets.

Only the shapes that ``docs/durable-rules.md`` records as safe are emitted:
one single-pattern condition per rule (``$and``/``$or`` and comparisons), no
joins, no cross-references.  Each stage of the evaluation (every layer of the
factor rules, then the stance rules, then the organization rules) is its own
ruleset, and every ruleset has a catch-all rule so that no asserted fact is
left unhandled.  Negation is pushed down to the tests, since durable has no
``$not``.

Facts are encoded so that no user text becomes a field name: a multi-valued
property gets one flag field per value the rules mention, and intermediate
conclusions get numbered flag fields.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from collections.abc import Callable, Mapping, Sequence

import durable.engine

from infra_policy.engine.errors import EngineError
from infra_policy.engine.policy.rules_ast import All, Any, Concluded, Condition, Not, Rule, Test, Value, iter_tests
from infra_policy.engine.stages.inputs import COMPARABLE_NUMBERS, comparable_number

# durable-rules reports error 303 with more than about 480 rules in a ruleset.
MAX_RULES_PER_RULESET = 400
_CATCH_ALL = "_catch_all"
_NEGATED = {"less_than": "$gte", "at_most": "$gt", "greater_than": "$lte", "at_least": "$lt"}
_POSITIVE = {"less_than": "$lt", "at_most": "$lte", "greater_than": "$gt", "at_least": "$gte"}


class PrivateHost(durable.engine.Host):
    """A durable host without the background dispatch threads.

    The stock host polls its rulesets from timer threads, which could run an
    action outside our synchronous ``assert_fact`` call; we never use timers
    or queued events, so evaluation stays on the calling thread.
    """

    def _run(self) -> None:
        return None


class FactEncoder:
    """Maps plain facts to the flat record durable matches on."""

    def __init__(self, rules: Sequence[Rule], multi_valued: frozenset[str]) -> None:
        self.multi_valued = multi_valued
        self.slots: dict[tuple[str, object], str] = {}
        self.derived: dict[str, str] = {}
        for rule in rules:
            for test in iter_tests(rule.when):
                if isinstance(test, Concluded):
                    self.derived.setdefault(test.name, f"derived__{len(self.derived)}")
                elif test.fact in multi_valued and test.operand is not None:
                    for value in test.operand if test.op == "in" else (test.operand,):
                        self.slot(test.fact, value)

    def slot(self, fact: str, value: object) -> str:
        key = (fact, _key(value))
        if key not in self.slots:
            self.slots[key] = f"{fact}__{len(self.slots)}"
        return self.slots[key]

    def encode(self, facts: Mapping[str, Value], derived: frozenset[str] = frozenset()) -> dict:
        record: dict[str, object] = {}
        for name, value in facts.items():
            if name in self.multi_valued:
                values = value if isinstance(value, tuple) else (value,)
                record[name] = len(values)
                for item in values:
                    slot = self.slots.get((name, _key(item)))
                    if slot is not None:
                        record[slot] = True
            else:
                if not comparable_number(value):
                    # facts files are checked for this; a computed fact must not reach durable either,
                    # which would fail with a bare error code
                    raise EngineError(
                        f"the fact {name} = {value!r} cannot be compared by the rule engine: {COMPARABLE_NUMBERS}."
                    )
                record[name] = value
        for name in derived:
            if name in self.derived:
                record[self.derived[name]] = True
        return record


def _key(value: object) -> tuple[str, object]:
    # Keep True and 1 apart: they hash alike in Python.
    return (type(value).__name__ if isinstance(value, bool) else "value", value)


def _joined(operator: str, parts: list[dict]) -> dict:
    # An $or inside an $or (an $and inside an $and) is lifted into its parent:
    # durable-rules refuses a ruleset with a few levels of such nesting (error
    # code 113), which negation pushed down to the tests creates easily.
    flat: list[dict] = []
    for part in parts:
        flat.extend(part[operator] if len(part) == 1 and operator in part else (part,))
    return flat[0] if len(flat) == 1 else {operator: flat}


def _or(parts: list[dict]) -> dict:
    return _joined("$or", parts)


def _and(parts: list[dict]) -> dict:
    return _joined("$and", parts)


class ConditionCompiler:
    def __init__(self, encoder: FactEncoder) -> None:
        self.encoder = encoder

    def compile(self, condition: Condition, negated: bool = False) -> dict:
        if isinstance(condition, Not):
            return self.compile(condition.item, not negated)
        if isinstance(condition, (All, Any)):
            parts = [self.compile(item, negated) for item in condition.items]
            conjunctive = isinstance(condition, All) != negated
            return _and(parts) if conjunctive else _or(parts)
        if isinstance(condition, Concluded):
            field = self.encoder.derived[condition.name]
            return {"$nex" if negated else "$ex": {field: 1}}
        present, absent = {"$ex": {condition.fact: 1}}, {"$nex": {condition.fact: 1}}
        if condition.op == "present":
            return absent if negated else present
        if condition.op == "absent":
            return present if negated else absent
        if condition.fact in self.encoder.multi_valued:
            return self._multi(condition, negated, present, absent)
        return self._single(condition, negated, present, absent)

    def _single(self, test: Test, negated: bool, present: dict, absent: dict) -> dict:
        f, op, v = test.fact, test.op, test.operand
        if op == "equals":
            return _or([absent, {"$neq": {f: v}}]) if negated else {f: v}
        if op == "not_equals":
            return _or([absent, {f: v}]) if negated else _and([present, {"$neq": {f: v}}])
        if op == "in":
            if negated:
                return _or([absent, _and([{"$neq": {f: item}} for item in v])])
            return _or([{f: item} for item in v])
        if negated:
            return _or([absent, {_NEGATED[op]: {f: v}}])
        return {_POSITIVE[op]: {f: v}}

    def _multi(self, test: Test, negated: bool, present: dict, absent: dict) -> dict:
        f, op, v = test.fact, test.op, test.operand
        if op in ("equals", "not_equals", "in"):
            items = v if op == "in" else (v,)
            has = [{"$ex": {self.encoder.slot(f, item): 1}} for item in items]
            lacks = [{"$nex": {self.encoder.slot(f, item): 1}} for item in items]
            if op == "not_equals":
                return _or([absent, *has]) if negated else _and([present, *lacks])
            return _and(lacks) if negated else _or(has)
        raise EngineError(f"cannot compare the multi-valued fact '{f}' with '{op}'.")


class CompiledPolicy:
    """Named stages of rules, compiled onto one private durable host.

    ``fire(stage, facts, derived)`` asserts one fact in a fresh session and
    returns the ids of the rules that fired, in rule-id order.  Not
    thread-safe: use one instance per thread (or process).
    """

    def __init__(self, stages: Mapping[str, Sequence[Rule]], multi_valued: frozenset[str]) -> None:
        all_rules = [rule for rules in stages.values() for rule in rules]
        self.encoder = FactEncoder(all_rules, multi_valued)
        compiler = ConditionCompiler(self.encoder)
        self._fired: list[str] = []
        self._failures: list[tuple[str, str]] = []
        self._sessions = itertools.count()
        definitions: dict[str, dict] = {}
        for stage, rules in stages.items():
            if len(rules) > MAX_RULES_PER_RULESET:
                raise EngineError(
                    f"stage '{stage}' has {len(rules)} rules; durable-rules is reliable only up to "
                    f"{MAX_RULES_PER_RULESET} per ruleset. Split the rules or raise the limit after testing."
                )
            ruleset: dict[str, dict] = {}
            for rule in rules:
                condition = _and([{"stage": stage}, compiler.compile(rule.when)])
                ruleset[rule.id] = {"all": [{"m": condition}], "run": self._action(rule.id)}
            ruleset[_CATCH_ALL] = {"all": [{"m": {"stage": stage}}], "run": _ignore}
            definitions[stage] = ruleset
        self.definitions = definitions
        try:
            self.host = PrivateHost(definitions)
        except Exception as exc:  # durable reports only an error code
            raise EngineError(f"the rule engine could not compile the rules ({exc}).") from exc
        # durable keeps every ruleset in its C library until it is deleted by handle;
        # without this each loaded policy would stay in memory for the life of the process
        handles = [ruleset._handle for ruleset in self.host._ruleset_list]
        self._release = weakref.finalize(self, _delete_rulesets, handles)

    def _conclude(self, rule_id: str) -> Callable:
        """What the action of ``rule_id`` does when the rule fires."""
        fired = self._fired
        return lambda c: fired.append(rule_id)

    def _action(self, rule_id: str) -> Callable:
        conclude, failures = self._conclude(rule_id), self._failures

        def action(c) -> None:
            try:
                conclude(c)
            except BaseException as exc:  # durable would swallow it
                failures.append((rule_id, f"{type(exc).__name__}: {exc}"))
                raise

        return action

    def fire(self, stage: str, facts: Mapping[str, Value], derived: frozenset[str] = frozenset()) -> list[str]:
        sid = f"s{next(self._sessions)}"
        record = self.encoder.encode(facts, derived)
        record.update({"sid": sid, "stage": stage})
        self._fired.clear()
        self._failures.clear()
        try:
            self.host.assert_fact(stage, record)
            state = self.host.get_state(stage, sid)
        except Exception as exc:
            raise EngineError(f"the rule engine failed in stage '{stage}': {exc}") from exc
        finally:
            with contextlib.suppress(Exception):  # nothing was stored for this session
                self.host.delete_state(stage, sid)
        if self._failures or "exception" in state:
            rule_id, error = (
                self._failures[0]
                if self._failures
                else (self._fired[-1] if self._fired else "?", state.get("exception"))
            )
            error = str(error).split(", traceback", 1)[0]  # durable appends its own stack
            raise EngineError(f"rule {rule_id} raised an error inside the rule engine: {error}", rule=rule_id)
        return sorted(set(self._fired))


def _delete_rulesets(handles: list[int]) -> None:
    import durable_rules_engine

    for handle in handles:
        with contextlib.suppress(Exception):
            durable_rules_engine.delete_ruleset(handle)


def _ignore(c) -> None:
    return None


def compile_stages(stages: Mapping[str, Sequence[Rule]], multi_valued: frozenset[str]) -> CompiledPolicy:
    return CompiledPolicy(stages, multi_valued)
