"""Namespace near-misses: a term that looks like ours but is not is reported, with "did you mean"."""

from __future__ import annotations

import pytest
from conftest import example_files

from infra_policy.engine.stages.load import load_facts, load_facts_from
from infra_policy.engine.stages.nearmiss import edit_distance, near_misses

EX = "@prefix ex: <https://example.com/t/> .\n"
IP = "@prefix ip: <https://w3id.org/infra-policy#> .\n"
ORG = 'ex:o a ip:Organization ; ip:name "O" ; ip:hasWorkload ex:w .\nex:w a ip:Workload ; ip:name "W" ;\n'


def _warnings(kb, text: str) -> tuple[str, ...]:
    return near_misses(load_facts_from(text), kb.vocabulary)


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_the_examples_have_no_near_misses(kb, path):
    assert near_misses(load_facts(path), kb.vocabulary) == ()


def test_a_property_in_another_namespace(kb, evaluator):
    text = IP + EX + ORG + "  ex:dataSensitivity ip:Confidential .\n"
    (warning,) = _warnings(kb, text)
    assert warning.startswith("line 5: ex:w: ex:dataSensitivity is not an infra-policy property")
    assert warning.endswith("Did you mean ip:dataSensitivity?")
    # and it is why the stance would silently differ: the fact is not seen
    assert "dataSensitivity" not in evaluator.evaluate_document(load_facts_from(text)).decision.workloads[0].values()


def test_case_of_the_local_name_does_not_hide_it(kb):
    (warning,) = _warnings(kb, IP + EX + ORG + "  ex:DataSensitivity ip:Confidential .\n")
    assert "Did you mean ip:dataSensitivity?" in warning


def test_a_class_in_another_namespace(kb):
    warnings = _warnings(kb, IP + EX + 'ex:o a ex:Organization ; ip:name "O" .\n')
    assert any("ex:Organization is not an infra-policy class" in w and "ip:Organization?" in w for w in warnings)


def test_a_value_of_an_open_property_in_another_namespace(kb):
    (warning,) = _warnings(kb, IP + EX + ORG + "  ip:regulatedBy ex:HIPAA .\n")
    assert "ex:HIPAA is not an infra-policy value" in warning and "no rule recognises it" in warning
    assert warning.endswith("Did you mean ip:HIPAA?")


@pytest.mark.parametrize(
    "namespace",
    ["https://w3id.org/infra-policy/", "http://w3id.org/infra-policy#", "https://w3id.org/infra-polcy#"],
)
def test_a_prefix_one_edit_away(kb, namespace):
    text = f"@prefix ip: <{namespace}> .\n" + EX + 'ex:o a ip:Organization ; ip:name "O" .\n'
    (warning,) = _warnings(kb, text)
    assert f"the prefix ip: is bound to <{namespace}>, one character away" in warning
    assert warning.startswith("line 3: ") and warning.endswith("Did you mean <https://w3id.org/infra-policy#>?")


def test_well_known_vocabularies_and_unrelated_terms_pass(kb):
    text = (
        IP
        + EX
        + "@prefix schema: <https://schema.org/> .\n@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        + ORG
        + '  schema:name "W" ; foaf:name "W" ; ex:owner "ops team" ; ip:dataSensitivity ip:Internal .\n'
    )
    assert _warnings(kb, text) == ()


def test_edit_distance():
    assert edit_distance("infra-policy#", "infra-policy/", 1) == 1
    assert edit_distance("abc", "abc", 1) == 0
    assert edit_distance("abcd", "abxy", 1) == 2  # "more than the limit"
    assert edit_distance("kitten", "sitting", 5) == 3


def test_a_value_in_another_namespace_for_a_closed_list_is_an_error_with_did_you_mean(kb, evaluator):
    from infra_policy.engine.errors import FactsError

    text = IP + EX + ORG + "  ip:dataSensitivity ex:Confidential .\n"
    with pytest.raises(FactsError) as caught:
        evaluator.evaluate_document(load_facts_from(text))
    assert "ip:dataSensitivity has the value ex:Confidential, which is not allowed. Did you mean ip:Confidential?" in (
        str(caught.value)
    )
