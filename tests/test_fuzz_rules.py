"""Fuzzing the rule files: mutated YAML through load_policy and the real CLI.

Each example takes the packaged rule files, mutates one of them — a key
deleted, a value replaced by one of another type, a fact, operator or value
misspelt, a rule duplicated, the text truncated, random bytes — and loads the
directory.  Loading must give a policy or a :class:`RulesError` with a
message; a policy that loads must then evaluate an example through the CLI
with exit 0 or exit 2 and a message — never a traceback, an internal error or
a hang.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import yaml
from conftest import EXAMPLES, Runner
from fuzzing import FUZZ_SETTINGS, check_cli_verdict, hang_guard
from hypothesis import given
from hypothesis import strategies as st

from infra_policy.cli.main import main
from infra_policy.engine.errors import RulesError
from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.paths import PACKAGED_RULES
from infra_policy.engine.policy.ruleload import OPERATORS, load_policy

KB = load_knowledge_base()
RULE_FILES = sorted(PACKAGED_RULES.glob("*.yaml"))
PARSED = {file.name: yaml.safe_load(file.read_text(encoding="utf-8")) for file in RULE_FILES}
FACTS = EXAMPLES / "acme-mixed-workloads.ttl"

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e20, 1e-7, -0.0, 2**70, 0.5]),
    st.text(max_size=15),
    st.sampled_from(sorted(KB.vocabulary.properties)),
    st.sampled_from(sorted(KB.vocabulary.individuals)),
    st.sampled_from(list(OPERATORS)),
    st.sampled_from(["all", "any", "not", "concluded", "fact", "assess", "require", "derive", "stance"]),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _children(node) -> list:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


def _tests(node):
    """Every test (a mapping with 'fact') inside a parsed rule file."""
    if isinstance(node, dict):
        if "fact" in node and len(node) == 2:
            yield node
        for value in node.values():
            yield from _tests(value)
    elif isinstance(node, list):
        for item in node:
            yield from _tests(item)


@st.composite
def mutated_rules(draw) -> tuple[str, bytes]:
    """(file name, new content) for one packaged rule file."""
    name = draw(st.sampled_from(sorted(PARSED)))
    data = copy.deepcopy(PARSED[name])
    kind = draw(
        st.sampled_from(["delete", "replace", "rename-key", "duplicate", "operand", "truncate", "bytes", "valid"])
    )
    if kind == "operand":
        tests = list(_tests(data))
        if tests:
            test = draw(st.sampled_from(tests))
            op = next(k for k in test if k != "fact")
            test[draw(st.sampled_from([op, *OPERATORS]))] = draw(values)
            if draw(st.booleans()):
                del test[op]
    if kind in ("delete", "replace", "rename-key", "duplicate"):
        parent, key = None, None
        node = data
        # Walk down a random path; stop at a random depth.
        while _children(node) and (parent is None or draw(st.integers(0, 3)) > 0):
            parent, key = node, draw(st.sampled_from(_children(node)))
            node = node[key]
        if parent is not None:
            if kind == "delete":
                del parent[key]
            elif kind == "replace":
                parent[key] = draw(values)
            elif kind == "rename-key" and isinstance(parent, dict):
                parent[draw(leaves.map(str))] = parent.pop(key)
            elif kind == "duplicate" and isinstance(parent, list):
                parent.append(copy.deepcopy(node))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")
    if kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=16)) + text[at:]
    return name, text


WORKDIR = Path(tempfile.mkdtemp(prefix="infra-policy-fuzz-rules-"))
RUNNER = Runner()


def _rules_dir(name: str, content: bytes) -> Path:
    directory = WORKDIR / "rules"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    for file in RULE_FILES:
        (directory / file.name).write_bytes(content if file.name == name else file.read_bytes())
    return directory


@FUZZ_SETTINGS
@given(mutated_rules())
def test_any_rule_file_loads_or_gets_a_clear_error(case):
    name, content = case
    directory = _rules_dir(name, content)
    context = f"{name}: {content[:3000]!r}"
    with hang_guard(context):
        try:
            load_policy(KB, directory)
        except RulesError as exc:
            message = str(exc)
            assert message.startswith(str(directory)) or message.startswith(name), context
            assert exc.problems, context
            return
    # The mutation left a policy that loads: it must evaluate, or refuse clearly.
    with hang_guard(context):
        result = RUNNER.invoke(main, ["evaluate", str(FACTS), "--rules", str(directory), "--format", "json"])
    check_cli_verdict(result.exit_code, result.output, context)


@FUZZ_SETTINGS
@given(mutated_rules())
def test_rules_list_never_crashes_on_a_mutated_rule_file(case):
    name, content = case
    directory = _rules_dir(name, content)
    with hang_guard(name):
        result = RUNNER.invoke(main, ["rules", "list", "--rules", str(directory)])
    check_cli_verdict(result.exit_code, result.output, f"{name}: {content[:3000]!r}")
