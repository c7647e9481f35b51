"""Policy tests: cases of facts and what the policy must conclude for them (`infra-policy test`).

A test file is YAML, checked against ``rules/policy-test.schema.json``
(docs/policy-tests.md describes it). Each case names its facts — a file,
relative to the test file, or Turtle inline — optionally facts to assume in
their place (as ``what-if --set`` does), and its expectations: the stance and
plan of the organization and of named workloads, rules that must or must not
fire (for one workload, or anywhere), and stated facts the decision must
report as not weighed.

Problems with the test files themselves — bad YAML, a schema violation, an
unknown workload, rule, property or plan, facts that cannot be read — are
input errors (:class:`PolicyTestError`), each naming the file, the line and
the case; a case whose expectations do not hold is a failed case, with every
expected and actual value.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from infra_policy.engine.errors import InputError, problem_list
from infra_policy.engine.files import read_bounded
from infra_policy.engine.model import Decision, WorkloadDecision
from infra_policy.engine.paths import PACKAGED_RULES
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import value_text
from infra_policy.engine.stages.load import FactsDocument
from infra_policy.engine.vocabulary import Vocabulary

TEST_SCHEMA = PACKAGED_RULES / "policy-test.schema.json"
MAX_TEST_FILE_BYTES = 2_000_000
# The plans the engine names itself (engine/stages/decide.py); every other plan id is a plan rule's.
ENGINE_PLANS = ("split-by-workload", "split-by-concern")
ANYWHERE = "any workload"


class PolicyTestError(InputError):
    """A policy test file cannot be used (exit status 2)."""

    @classmethod
    def listing(cls, source: object, problems: list[str]) -> PolicyTestError:
        if len(problems) == 1:
            return cls(problems[0])
        return cls(problem_list(source, problems, "in the policy tests"), tuple(problems))


@cache
def test_schema() -> dict:
    return json.loads(TEST_SCHEMA.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class Expectations:
    stance: str | None = None
    plan: str | None = None
    fires: tuple[str, ...] = ()
    does_not_fire: tuple[str, ...] = ()
    not_weighed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    facts_path: Path | None  # a facts file (resolved against the test file)
    turtle: str | None  # or inline Turtle
    turtle_line: int  # the line of the test file where the inline Turtle's first line is (0 without it)
    assume: tuple[str, ...]
    organization: Expectations
    workloads: tuple[tuple[str, int, Expectations], ...]  # (name as written, line, expectations)
    anywhere: Expectations


@dataclass(frozen=True)
class TestFile:
    __test__ = False  # not a pytest class

    path: Path
    shown: str  # the path as the user named it (for reports)
    cases: tuple[Case, ...]


_CONTENT = "\x00content"  # key of the first line of a block scalar's text in the lines of a file


def _lines(node, path: tuple = (), found: dict | None = None) -> dict[tuple, int]:
    """The line (1-based) of every node of a composed YAML document, by its path of keys and indexes."""
    found = {} if found is None else found
    found[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        found[(*path, _CONTENT)] = node.start_mark.line + 2  # a block scalar's text starts below its indicator
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found[(*path, str(key.value))] = key.start_mark.line + 1
            _lines(value, (*path, str(key.value)), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), found)
    return found


def _line_of(lines: dict[tuple, int], path: Iterable) -> int:
    path = tuple(str(p) if not isinstance(p, int) else p for p in path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _closest(word: str, known: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.75)
    return f" Did you mean '{match[0]}'?" if match else ""


def _where(shown: str, line: int, case: str | None) -> str:
    return f"{shown}, line {line}" + (f", case '{case}'" if case else "")


def _parse(path: Path, shown: str) -> tuple[object, dict[tuple, int]]:
    raw = read_bounded(path, MAX_TEST_FILE_BYTES, PolicyTestError, "policy test file", shown=shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        why = f"is not valid UTF-8 (byte {exc.start}); policy test files must be UTF-8"
        raise PolicyTestError(f"{shown}: {why}.") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = str(getattr(exc, "problem", None) or exc).strip().rstrip(".")
        raise PolicyTestError(f"{shown}{where}: not valid YAML — {why}.") from None
    if node is None:
        raise PolicyTestError(
            f"{shown}: the file is empty; a policy test file has a list of cases (see docs/policy-tests.md)."
        )
    if "*" in text and any(isinstance(n, yaml.AliasEvent) for n in yaml.parse(text, Loader=loader)):
        raise PolicyTestError(
            f"{shown}: uses YAML aliases (*name), which policy test files may not; write each case out in full."
        )
    return data, _lines(node)


def read_test_file(path: Path, policy: Policy, vocabulary: Vocabulary, shown: str | None = None) -> TestFile:
    """Read and check one test file against the schema and the policy; raise :class:`PolicyTestError`."""
    import jsonschema
    from jsonschema.exceptions import best_match

    shown = shown or str(path)
    data, lines = _parse(path, shown)
    problems: list[str] = []
    validator = jsonschema.Draft202012Validator(test_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        best = best_match([error])
        where = list(best.absolute_path)
        case = _case_name(data, where)
        message = best.message
        if best.validator == "additionalProperties":
            message += "; the allowed keys are in docs/policy-tests.md"
        elif best.validator == "oneOf" and len(where) == 2:
            message = "a case names its facts once: either facts (a file) or turtle (inline), not both and not neither"
        location = ".".join(str(p) for p in where) or "(top level)"
        problems.append(f"{_where(shown, _line_of(lines, where), case)}: at {location}: {message.rstrip('.')}.")
    if problems:
        raise PolicyTestError.listing(shown, problems)
    cases = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["cases"]):
        name = raw["name"]
        line = _line_of(lines, ("cases", index))
        if name in seen:
            problems.append(f"{_where(shown, line, name)}: the case name is used twice (also on line {seen[name]}).")
        seen.setdefault(name, line)
        cases.append(_case(raw, index, line, path, shown, lines, policy, vocabulary, problems))
    if problems:
        raise PolicyTestError.listing(shown, problems)
    return TestFile(path, shown, tuple(cases))


def _case_name(data: object, where: list) -> str | None:
    if len(where) >= 2 and where[0] == "cases" and isinstance(where[1], int):
        try:
            name = data["cases"][where[1]].get("name")
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
        return name if isinstance(name, str) else None
    return None


def _case(raw, index, line, path, shown, lines, policy: Policy, vocabulary: Vocabulary, problems) -> Case:
    name = raw["name"]
    expect = raw.get("expect", {})
    facts_path = None
    if "facts" in raw:
        facts_path = (
            (path.parent / raw["facts"]).resolve() if not Path(raw["facts"]).is_absolute() else Path(raw["facts"])
        )
        if not facts_path.is_file():
            at = _line_of(lines, ("cases", index, "facts"))
            problems.append(
                f"{_where(shown, at, name)}: the facts file {raw['facts']!r} does not exist (a path is read relative "
                f"to the test file: {Path(shown).parent / raw['facts']})."
            )
    base = ("cases", index, "expect")

    def expectations(raw_expect: dict, at: tuple) -> Expectations:
        for key in ("fires", "does_not_fire"):
            for position, rule_id in enumerate(raw_expect.get(key, ())):
                if rule_id not in policy.by_id:
                    problems.append(
                        f"{_where(shown, _line_of(lines, (*at, key, position)), name)}: unknown rule id "
                        f"'{rule_id}' in {key}.{_closest(rule_id, policy.by_id)} `infra-policy rules list` shows the "
                        "rules of the policy in use."
                    )
        for position, item in enumerate(raw_expect.get("not_weighed", ())):
            fact, _, _ = item.partition("=")
            prop = vocabulary.get(fact.strip())
            if prop is None or prop.computed or fact.strip() == "name":
                known = [n for n, p in vocabulary.properties.items() if not p.computed and n != "name"]
                problems.append(
                    f"{_where(shown, _line_of(lines, (*at, 'not_weighed', position)), name)}: unknown property "
                    f"'{fact.strip()}' in not_weighed.{_closest(fact.strip(), known)} Write a property a facts "
                    "file may state, or property=value for one value of it."
                )
        plan = raw_expect.get("plan")
        if plan is not None:
            known_plans = list(
                dict.fromkeys([*(r.id.split(".", 1)[1] for r in policy.plan_rules), *ENGINE_PLANS, "none"])
            )
            if plan not in known_plans:
                problems.append(
                    f"{_where(shown, _line_of(lines, (*at, 'plan')), name)}: unknown plan '{plan}'."
                    f"{_closest(plan, known_plans)} The plans are: {', '.join(known_plans)}."
                )
        return Expectations(
            stance=raw_expect.get("stance"),
            plan=plan,
            fires=tuple(raw_expect.get("fires", ())),
            does_not_fire=tuple(raw_expect.get("does_not_fire", ())),
            not_weighed=tuple(raw_expect.get("not_weighed", ())),
        )

    organization = expectations(expect.get("organization", {}), (*base, "organization"))
    workloads = tuple(
        (str(key), _line_of(lines, (*base, "workloads", str(key))), expectations(value, (*base, "workloads", str(key))))
        for key, value in expect.get("workloads", {}).items()
    )
    anywhere = expectations({k: v for k, v in expect.items() if k in ("fires", "does_not_fire", "not_weighed")}, base)
    return Case(
        name=name,
        line=line,
        facts_path=facts_path,
        turtle=raw.get("turtle"),
        turtle_line=lines.get(("cases", index, "turtle", _CONTENT), 0),
        assume=tuple(raw.get("assume", ())),
        organization=organization,
        workloads=workloads,
        anywhere=anywhere,
    )


# ---------------------------------------------------------------------------
# running


@dataclass(frozen=True)
class Check:
    """One expectation of a case, with what was expected and what the policy concluded."""

    subject: str  # "organization", a workload's name, or ANYWHERE
    what: str  # "stance" | "plan" | "fires" | "does not fire" | "not weighed"
    expected: str
    actual: str
    passed: bool


@dataclass(frozen=True)
class CaseResult:
    name: str
    line: int
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class FileResult:
    shown: str
    cases: tuple[CaseResult, ...]


Decide = Callable[[FactsDocument], Decision]


def _workload(decision: Decision, name: str) -> WorkloadDecision | None:
    wanted = name.strip().casefold()
    for w in decision.workloads:
        local = w.id.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if wanted in (w.profile.name.casefold(), local.casefold()):
            return w
    return None


def _fired(w: WorkloadDecision) -> set[str]:
    found = {f.rule for f in w.firings} | {w.stance_firing.rule}
    if w.plan is not None and w.plan.rule:
        found.add(w.plan.rule)
    return found


def _plan_id(plan) -> str:
    return plan.id if plan is not None else "none"


def _stance_checks(subject: str, e: Expectations, stance: str, plan) -> list[Check]:
    found = []
    if e.stance is not None:
        found.append(Check(subject, "stance", e.stance, stance, e.stance == stance))
    if e.plan is not None:
        found.append(Check(subject, "plan", e.plan, _plan_id(plan), e.plan == _plan_id(plan)))
    return found


def _rule_checks(subject: str, e: Expectations, fired: set[str]) -> list[Check]:
    found = [Check(subject, "fires", r, "fired" if r in fired else "did not fire", r in fired) for r in e.fires]
    found += [
        Check(subject, "does not fire", r, "fired" if r in fired else "did not fire", r not in fired)
        for r in e.does_not_fire
    ]
    return found


def _weighing(item: str, workloads: Iterable[WorkloadDecision]) -> tuple[str, bool]:
    """What the decision says of a stated fact (or one value of it): (in words, reported as not weighed)."""
    fact, equals, value = (part.strip() for part in item.partition("="))
    stated = False
    for w in workloads:
        for u in w.unweighed:
            if u.property == fact and (not equals or value_text(u.value).casefold() == value.casefold()):
                return f"not weighed: {u.reason}", True
        if fact in w.profile.facts:
            given = w.profile.facts[fact].value
            values = given if isinstance(given, tuple) else (given,)
            stated = stated or not equals or any(value_text(v).casefold() == value.casefold() for v in values)
    return ("weighed" if stated else "not stated"), False


def _weighed_checks(subject: str, e: Expectations, workloads: list[WorkloadDecision]) -> list[Check]:
    found = []
    for item in e.not_weighed:
        actual, ok = _weighing(item, workloads)
        found.append(Check(subject, "not weighed", item, actual, ok))
    return found


def run_case(case: Case, shown: str, decide: Decide, load: Callable[[Case], FactsDocument]) -> CaseResult:
    """Decide the case's facts and compare with its expectations; raise :class:`PolicyTestError` for an
    unknown workload."""
    document = load(case)
    try:
        decision = decide(document)
    except InputError as exc:  # facts that do not validate
        raise facts_problem(case, shown, exc) from None
    checks = _stance_checks("organization", case.organization, decision.stance, decision.plan)
    org_fired = {decision.stance_firing.rule}
    checks += _rule_checks("organization", case.organization, org_fired)
    unknown = []
    for name, line, e in case.workloads:
        w = _workload(decision, name)
        if w is None:
            names = ", ".join(w.profile.name for w in decision.workloads)
            unknown.append(
                f"{_where(shown, line, case.name)}: there is no workload '{name}' in the facts; the workloads are: "
                f"{names} (named by ip:name or the IRI's last segment, in any case)."
            )
            continue
        checks += _stance_checks(w.profile.name, e, w.stance, w.plan)
        checks += _rule_checks(w.profile.name, e, _fired(w))
        checks += _weighed_checks(w.profile.name, e, [w])
    if unknown:
        raise PolicyTestError.listing(shown, unknown)
    everywhere = set(org_fired).union(*(_fired(w) for w in decision.workloads))
    checks += _rule_checks(ANYWHERE, case.anywhere, everywhere)
    checks += _weighed_checks(ANYWHERE, case.anywhere, list(decision.workloads))
    if not checks:
        checks.append(Check("organization", "stance", "(anything)", decision.stance, True))
    return CaseResult(case.name, case.line, tuple(checks))


def load_case(case: Case, shown: str, vocabulary: Vocabulary) -> FactsDocument:
    """The facts of a case, with its assumptions in place; a facts problem becomes a :class:`PolicyTestError`
    naming the test file, the case's line and the case."""
    from infra_policy.engine.analysis.whatif import changed_document, parse_changes
    from infra_policy.engine.stages.load import STRING, load_facts, parse_facts

    try:
        if case.turtle is not None:
            document = parse_facts(case.turtle, STRING, "turtle")
        else:
            assert case.facts_path is not None
            document = load_facts(case.facts_path)
        if case.assume:
            document = changed_document(document, parse_changes(document, case.assume, vocabulary), vocabulary)
        return document
    except InputError as exc:
        raise facts_problem(case, shown, exc) from None


def facts_problem(case: Case, shown: str, exc: InputError) -> PolicyTestError:
    """A problem with a case's facts (reading, validating, assuming) as an error naming the test file and case;
    the lines of inline Turtle become lines of the test file."""
    from infra_policy.engine.stages.load import STRING

    if isinstance(exc, PolicyTestError):
        return exc
    what = "its inline Turtle" if case.turtle is not None else "its facts"
    message = str(exc)
    if case.turtle_line:

        def line(number: str) -> int:
            return case.turtle_line + int(number) - 1

        message = re.sub(rf"{re.escape(str(STRING))}, line (\d+)", lambda m: f"{shown}, line {line(m[1])}", message)
        message = re.sub(r"^(\s*- )line (\d+):", lambda m: f"{m[1]}line {line(m[2])}:", message, flags=re.M)
        message = message.replace(f"{STRING}: ", "", 1)
    return PolicyTestError(f"{_where(shown, case.line, case.name)}: {what} cannot be used: {message}")


def run_file(test_file: TestFile, decide: Decide, load: Callable[[Case], FactsDocument]) -> FileResult:
    return FileResult(test_file.shown, tuple(run_case(c, test_file.shown, decide, load) for c in test_file.cases))


# ---------------------------------------------------------------------------
# reports


@dataclass(frozen=True)
class Summary:
    files: int
    passed: int
    failed: int

    @property
    def cases(self) -> int:
        return self.passed + self.failed

    def text(self) -> str:
        parts = [f"{self.passed} passed"] + ([f"{self.failed} failed"] if self.failed else [])
        cases = f"{self.cases} case{'s' * (self.cases != 1)}"
        return f"{', '.join(parts)} ({cases} in {self.files} file{'s' * (self.files != 1)})"


def summarize(results: Iterable[FileResult]) -> Summary:
    results = list(results)
    passed = sum(c.passed for r in results for c in r.cases)
    total = sum(len(r.cases) for r in results)
    return Summary(len(results), passed, total - passed)


def _table(rows: list[tuple[str, str, str]], indent: str) -> list[str]:
    header = ("check", "expected", "actual")
    widths = [min(max(len(r[i]) for r in (header, *rows)), 48) for i in range(2)]
    return [(indent + f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}").rstrip() for r in (header, *rows)]


def render_text(results: list[FileResult]) -> str:
    lines: list[str] = []
    for result in results:
        lines.append(result.shown)
        for case in result.cases:
            lines.append(f"  {'PASS' if case.passed else 'FAIL'}  {case.name}")
            if not case.passed:
                rows = [(f"{c.subject}: {c.what}", c.expected, c.actual) for c in case.checks if not c.passed]
                lines += _table(rows, "        ")
    lines.append(summarize(results).text())
    return "\n".join(lines) + "\n"


REPORT_FORMAT = "infra-policy/policy-test-report@1"


def report_dict(results: list[FileResult]) -> dict:
    summary = summarize(results)
    return {
        "format": REPORT_FORMAT,
        "passed": summary.failed == 0,
        "summary": {"files": summary.files, "cases": summary.cases, "passed": summary.passed, "failed": summary.failed},
        "files": [
            {
                "file": r.shown,
                "cases": [
                    {
                        "name": c.name,
                        "line": c.line,
                        "passed": c.passed,
                        "checks": [
                            {
                                "subject": k.subject,
                                "check": k.what,
                                "expected": k.expected,
                                "actual": k.actual,
                                "passed": k.passed,
                            }
                            for k in c.checks
                        ],
                    }
                    for c in r.cases
                ],
            }
            for r in results
        ],
    }


def render_junit(results: list[FileResult]) -> str:
    """JUnit XML (the Jenkins/Ant schema CI systems read): a test suite per file, a test case per case."""
    from xml.etree import ElementTree as ET

    summary = summarize(results)
    root = ET.Element(
        "testsuites",
        {"name": "infra-policy test", "tests": str(summary.cases), "failures": str(summary.failed), "errors": "0"},
    )
    for index, r in enumerate(results):
        failures = sum(not c.passed for c in r.cases)
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": r.shown,
                "tests": str(len(r.cases)),
                "failures": str(failures),
                "errors": "0",
                "skipped": "0",
                "id": str(index),
                "package": "infra-policy",
            },
        )
        for c in r.cases:
            case = ET.SubElement(suite, "testcase", {"name": c.name, "classname": r.shown})
            if not c.passed:
                failed = [k for k in c.checks if not k.passed]
                first = failed[0]
                message = f"{first.subject}: {first.what}: expected {first.expected}, got {first.actual}"
                if len(failed) > 1:
                    message += f" (and {len(failed) - 1} more)"
                failure = ET.SubElement(case, "failure", {"message": message, "type": "PolicyTestFailure"})
                failure.text = "\n".join(
                    f"{k.subject}: {k.what}: expected {k.expected}; actual {k.actual}" for k in failed
                )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = [
    "PolicyTestError",
    "TestFile",
    "read_test_file",
    "render_junit",
    "render_text",
    "report_dict",
    "run_file",
    "summarize",
]
