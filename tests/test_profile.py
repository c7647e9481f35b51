"""Stage 3: organization facts are inherited, workload facts override."""

from __future__ import annotations

import pytest

from infra_policy.engine.errors import FactsError
from infra_policy.engine.stages.load import load_facts
from infra_policy.engine.stages.profile import build_profile


def profile(kb, facts_file, body):
    return build_profile(load_facts(facts_file(body)), kb.vocabulary)


def test_workloads_inherit_organization_facts_and_may_override(kb, facts_file):
    org = profile(
        kb,
        facts_file,
        """\
        ex:acme a ip:Organization ; ip:name "Acme" ;
          ip:itStaffFTE 4 ; ip:dataSensitivity ip:Internal ; ip:hasWorkload ex:a, ex:b .
        ex:a a ip:Workload ; ip:name "A" ; ip:dataSensitivity ip:Restricted .
        ex:b a ip:Workload ; ip:name "B" ; ip:regulatedBy ip:GDPR, ip:HIPAA .
    """,
    )
    assert org.name == "Acme"
    a, b = org.workloads
    assert a.values() == {"itStaffFTE": 4, "dataSensitivity": "Restricted"}
    assert not a.facts["dataSensitivity"].inherited and a.facts["itStaffFTE"].inherited
    assert a.facts["itStaffFTE"].subject == "https://example.com/test/acme"
    assert b.values() == {"itStaffFTE": 4, "dataSensitivity": "Internal", "regulatedBy": ("GDPR", "HIPAA")}
    assert b.facts["dataSensitivity"].inherited


def test_an_organization_without_workloads_is_one_implicit_workload(kb, facts_file):
    org = profile(kb, facts_file, 'ex:solo a ip:Organization ; ip:name "Solo" ; ip:hasDataCenter false .\n')
    (only,) = org.workloads
    assert only.implicit and only.id == org.id and only.name == "Solo"
    assert only.values() == {"hasDataCenter": False}
    assert not only.facts["hasDataCenter"].inherited


def test_names_default_to_the_iri_tail(kb, facts_file):
    org = profile(kb, facts_file, "ex:acme a ip:Organization .\n")
    assert org.name == "acme"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('ex:w a ip:Workload ; ip:name "W" .\n', "no organization found"),
        (
            "ex:a a ip:Organization .\nex:b a ip:Organization .\n",
            "2 organizations found (ex:a on line 4, ex:b on line 5)",
        ),
        ("ex:a a ip:Organization .\nex:w a ip:Workload .\n", "workload ex:w is not linked to the organization ex:a"),
        (
            "ex:a a ip:Organization .\nex:x ip:dataSensitivity ip:Public .\n",
            "ex:x uses infra-policy properties but is neither an ip:Organization nor an ip:Workload",
        ),
    ],
)
def test_structural_problems_get_specific_messages(kb, facts_file, body, expected):
    with pytest.raises(FactsError) as err:
        profile(kb, facts_file, body)
    assert expected in str(err.value)
