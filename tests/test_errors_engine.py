"""A failure inside a durable-rules action is an error naming the rule, never a missing conclusion.

durable-rules catches whatever an action raises and carries on; these tests
make the action of a real rule raise, through the real durable engine, and
check that evaluation stops with an :class:`EngineError` that names the rule.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from infra_policy.cli.main import handle_errors
from infra_policy.engine.errors import EngineError
from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.policy.compile import CompiledPolicy
from infra_policy.engine.policy.ruleload import load_policy
from infra_policy.engine.stages.infer import policy_stages
from infra_policy.engine.stages.load import load_facts

# A rule the hospital example fires (it holds restricted health data).
FAILING_RULE = "privacy.derive-highly-sensitive-data"
FACTS = EXAMPLES / "hospital-in-house.ttl"


class FailingActionPolicy(CompiledPolicy):
    """The real compiled policy, except that one rule's action raises (test only)."""

    def __init__(self, *args, failing_rule: str, **kwargs) -> None:
        self.failing_rule = failing_rule
        super().__init__(*args, **kwargs)

    def _conclude(self, rule_id: str) -> Callable:
        if rule_id != self.failing_rule:
            return super()._conclude(rule_id)

        def explode(c) -> None:
            raise RuntimeError("the action could not record its conclusion")

        return explode


def _evaluator_with_failing_rule(failing_rule: str = FAILING_RULE) -> Evaluator:
    kb = load_knowledge_base()
    evaluator = Evaluator(kb, load_policy(kb))
    multi_valued = frozenset(name for name, prop in kb.vocabulary.properties.items() if not prop.single)
    evaluator.backend = FailingActionPolicy(policy_stages(evaluator.policy), multi_valued, failing_rule=failing_rule)
    return evaluator


def action_failure_output() -> tuple[int, str]:
    """(exit status, output) of the CLI's own error handling for a failing action (for the catalogue)."""

    @click.command()
    @handle_errors
    def evaluate_with_failing_rule() -> None:
        _evaluator_with_failing_rule().evaluate_document(load_facts(FACTS))

    result = CliRunner().invoke(evaluate_with_failing_rule, [])
    return result.exit_code, result.output


def test_the_cli_reports_a_failing_action_as_bad_policy_without_a_traceback():
    status, output = action_failure_output()
    assert status == 2
    assert output.startswith(f"error: the policy could not be evaluated: rule {FAILING_RULE} raised an error")
    assert "Traceback" not in output


def test_the_rule_really_fires_on_the_example(evaluator):
    evaluation = evaluator.evaluate_file(FACTS)
    fired = {f.rule for w in evaluation.decision.workloads for f in w.firings}
    assert FAILING_RULE in fired


def test_a_failing_action_stops_evaluation_with_an_error_naming_the_rule():
    evaluator = _evaluator_with_failing_rule()
    with pytest.raises(EngineError) as err:
        evaluator.evaluate_document(load_facts(FACTS))
    assert err.value.rule == FAILING_RULE
    assert f"rule {FAILING_RULE} raised an error inside the rule engine" in str(err.value)
    assert "RuntimeError: the action could not record its conclusion" in str(err.value)


def test_a_rule_that_does_not_fire_does_not_fail(evaluator):
    # The same failing action on a rule the example never fires changes nothing.
    quiet_rule = "constraints.air-gapped-site"
    evaluation = evaluator.evaluate_file(FACTS)
    assert quiet_rule not in {f.rule for w in evaluation.decision.workloads for f in w.firings}
    decision = _evaluator_with_failing_rule(quiet_rule).evaluate_document(load_facts(FACTS)).decision
    assert decision.stance == evaluation.decision.stance


def test_the_session_state_check_catches_an_action_that_bypasses_the_guard():
    # An action installed without the guard (overriding _action itself) still
    # fails loudly: durable records the exception in the session state.
    class UnguardedPolicy(CompiledPolicy):
        def _action(self, rule_id: str) -> Callable:
            record = super()._conclude(rule_id)

            def action(c) -> None:
                record(c)
                raise ValueError("unguarded")

            return action

    kb = load_knowledge_base()
    policy = load_policy(kb)
    multi_valued = frozenset(name for name, prop in kb.vocabulary.properties.items() if not prop.single)
    compiled = UnguardedPolicy(policy_stages(policy), multi_valued)
    with pytest.raises(EngineError, match=r"rule constraints\.hosted-only-model raised an error"):
        compiled.fire("factors-0", {"modelAvailability": "HostedOnly"})
