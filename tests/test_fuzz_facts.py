"""Fuzzing the facts path: load → validate → evaluate, through the real CLI.

Facts files are generated from the vocabulary as the knowledge base defines it
(properties, kinds, allowed values, bounds — nothing restated here), then
mutated: truncated, a value of the wrong type, an unknown or misspelt term, a
contradicting second value, a line deleted, random bytes spliced in, or
random bytes alone.  Every run must end with exit 0 and a grounded decision
(the justification graph has no problems), or exit 2 and a message — never a
traceback, an internal error or a hang.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conftest import Runner
from fuzzing import FUZZ_SETTINGS, check_cli_verdict, hang_guard
from hypothesis import given
from hypothesis import strategies as st

from infra_policy.cli.main import main
from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.policy.ruleload import load_policy
from infra_policy.engine.policy.tally import STANCES
from infra_policy.engine.stages.inputs import EXTENSIONS
from infra_policy.engine.vocabulary import Property

KB = load_knowledge_base()
EVALUATOR = Evaluator(KB, load_policy(KB))
PROPERTIES = [p for name, p in sorted(KB.vocabulary.properties.items()) if name != "name" and not p.computed]

PREFIXES = (
    "@prefix ip: <https://w3id.org/infra-policy#> .\n"
    "@prefix ex: <https://example.com/fuzz/> .\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)

# Turtle string literal: JSON's escaping is a subset Turtle reads the same way.
names = st.text(max_size=20).map(lambda text: json.dumps(text, ensure_ascii=False))


def valid_value(prop: Property) -> st.SearchStrategy[str]:
    if prop.kind in ("enum", "iri"):
        known = st.sampled_from(prop.values).map(lambda v: f"ip:{v}")
        return st.one_of(known, st.just("ex:SomeRegime")) if prop.open_values else known
    if prop.numeric:
        low = prop.minimum if prop.minimum is not None else -1000
        if prop.kind == "integer":
            start = int(low) + (1 if prop.minimum_exclusive else 0)
            return st.integers(start, start + 100_000).map(str)
        floor = low + (0.5 if prop.minimum_exclusive else 0)
        # the ends of what the rule engine compares (engine/stages/inputs.py), where computed
        # facts (products, quotients) leave that range
        extremes = st.sampled_from(["0.0001", "0.0003", "999999999999999", "123456789012.75", str(10**20)])
        return st.one_of(
            st.integers(int(floor + 0.5), 10**7).map(str),
            st.decimals(floor, 10**6, places=2, allow_nan=False).map(str),
            extremes.filter(lambda v: float(v) > floor or (float(v) == floor and not prop.minimum_exclusive)),
        )
    if prop.kind == "boolean":
        return st.sampled_from(["true", "false"])
    return names


WRONG_VALUES = st.sampled_from(
    [
        '"text"',
        '""',
        "42",
        "-3.5",
        "0",
        "true",
        "ip:Nope",
        "ex:thing",
        "ip:High",
        '"2020-13-45"^^xsd:date',
        '"abc"^^xsd:decimal',
        '"maybe"^^xsd:boolean',
        '"x"@en',
        '[ ip:name "nested" ]',
        "( ip:Low ip:High )",
        "1e400",
    ]
)


@dataclass
class Statement:
    subject: str
    predicate: str
    value: str


@st.composite
def statements_of(draw, subject: str) -> list[Statement]:
    chosen = draw(st.lists(st.sampled_from(PROPERTIES), max_size=8, unique_by=lambda p: p.name))
    found = [Statement(subject, "ip:name", draw(names))] if draw(st.booleans()) else []
    for prop in chosen:
        count = 1 if prop.single else draw(st.integers(1, 2))
        for _ in range(count):
            found.append(Statement(subject, f"ip:{prop.name}", draw(valid_value(prop))))
    return found


@st.composite
def valid_facts(draw) -> list[Statement]:
    workloads = [f"ex:w{i}" for i in range(draw(st.integers(0, 3)))]
    found = [Statement("ex:org", "a", "ip:Organization")]
    found += [Statement("ex:org", "ip:hasWorkload", w) for w in workloads]
    found += draw(statements_of("ex:org"))
    for workload in workloads:
        found.append(Statement(workload, "a", "ip:Workload"))
        found += draw(statements_of(workload))
    return found


def render(statements: list[Statement]) -> str:
    return PREFIXES + "".join(f"{s.subject} {s.predicate} {s.value} .\n" for s in statements)


def _misspell(term: str, index: int) -> str:
    name = term.removeprefix("ip:")
    if len(name) < 2:
        return term + "x"
    i = index % len(name)
    return "ip:" + name[:i] + name[i + 1 :]


@st.composite
def mutated_facts(draw) -> tuple[str, bytes]:
    """(file extension, content): a valid facts file, or one mutated."""
    statements = draw(valid_facts())
    kind = draw(
        st.sampled_from(
            ["valid", "truncate", "wrong-type", "unknown-term", "contradiction", "drop-line", "splice", "bytes"]
        )
    )
    index = draw(st.integers(0, max(len(statements) - 1, 0)))
    target = statements[index]
    if kind == "wrong-type":
        target.value = draw(WRONG_VALUES)
    elif kind == "unknown-term":
        choice = draw(st.sampled_from(["predicate", "value", "class", "new"]))
        if choice == "predicate" and target.predicate.startswith("ip:"):
            target.predicate = _misspell(target.predicate, draw(st.integers(0, 50)))
        elif choice == "value" and target.value.startswith("ip:"):
            target.value = _misspell(target.value, draw(st.integers(0, 50)))
        elif choice == "class":
            target.value = draw(st.sampled_from(["ip:Organisation", "ip:WorkLoad", "ip:Thing"]))
        else:
            local = draw(st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,15}", fullmatch=True))
            statements.append(Statement(target.subject, f"ip:{local}", draw(WRONG_VALUES)))
    elif kind == "contradiction":
        single = [p for p in PROPERTIES if p.single]
        prop = draw(st.sampled_from(single))
        statements.append(Statement(target.subject, f"ip:{prop.name}", draw(valid_value(prop))))
        statements.append(Statement(target.subject, f"ip:{prop.name}", draw(valid_value(prop))))
    elif kind == "drop-line":
        del statements[index]
    text = render(statements).encode("utf-8")
    if kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "splice":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=12)) + text[at:]
    elif kind == "bytes":
        text = draw(st.binary(max_size=300))
        return draw(st.sampled_from(sorted(EXTENSIONS))), text
    return ".ttl", text


WORKDIR = Path(tempfile.mkdtemp(prefix="infra-policy-fuzz-"))
RUNNER = Runner()


def evaluate_and_check(extension: str, content: bytes, command: str = "evaluate") -> int:
    path = WORKDIR / f"facts{extension}"
    path.write_bytes(content)
    with hang_guard(f"{command} on {content[:200]!r}"):
        result = RUNNER.invoke(
            main, [command, str(path), "--format", "json"] if command == "evaluate" else [command, str(path)]
        )
    context = f"{command} {extension} content={content[:2000]!r}"
    check_cli_verdict(result.exit_code, result.output, context)
    if result.exit_code == 0 and command == "evaluate":
        decision = json.loads(result.output)
        assert decision["organization"]["stance"] in STANCES, context
        with hang_guard(context):
            evaluation = EVALUATOR.evaluate_file(path)
        assert evaluation.justification.problems() == [], context
    return result.exit_code


@FUZZ_SETTINGS
@given(mutated_facts())
def test_any_facts_file_gets_a_grounded_decision_or_a_clear_error(case):
    extension, content = case
    evaluate_and_check(extension, content)


@FUZZ_SETTINGS
@given(valid_facts())
def test_valid_generated_facts_always_get_a_grounded_decision(statements):
    assert evaluate_and_check(".ttl", render(statements).encode("utf-8")) == 0


@FUZZ_SETTINGS
@given(mutated_facts())
def test_validate_agrees_with_evaluate_on_whether_the_facts_are_usable(case):
    extension, content = case
    validated = evaluate_and_check(extension, content, command="validate")
    assert validated == evaluate_and_check(extension, content)
