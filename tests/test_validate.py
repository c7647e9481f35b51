"""Stage 2: every SHACL violation becomes one sentence a person can act on."""

from __future__ import annotations

import pytest

from infra_policy.engine.errors import FactsError
from infra_policy.engine.stages.load import load_facts
from infra_policy.engine.stages.validate import find_violations, validate_facts

ORG = """\
ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:w .
ex:w a ip:Workload ; ip:name "W" ;
"""


def problems(kb, facts_file, body: str) -> list[str]:
    return [v.message for v in find_violations(load_facts(facts_file(body)), kb)]


def test_valid_facts_have_no_violations(kb, facts_file):
    assert (
        problems(
            kb,
            facts_file,
            ORG + "  ip:dataSensitivity ip:Public ; ip:itStaffFTE 4 ; "
            "ip:capitalBudgetUSD 1.5e5 ; ip:regulatedBy ip:GDPR, ex:LocalLaw .\n",
        )
        == []
    )


def test_value_outside_the_allowed_list_names_them_and_suggests(kb, facts_file):
    (message,) = problems(kb, facts_file, ORG + "  ip:dataSensitivity ip:Confidental .\n")
    assert message.startswith('line 6: ex:w ("W"): ip:dataSensitivity has the value ip:Confidental')
    assert "Did you mean ip:Confidential?" in message
    assert "ip:Public, ip:Internal, ip:Confidential, ip:Restricted" in message


def test_unknown_property_suggests_the_closest_known_one(kb, facts_file):
    (message,) = problems(kb, facts_file, ORG + "  ip:dataSensitivty ip:Public .\n")
    assert "ip:dataSensitivty is not a facts property of the infra-policy vocabulary" in message
    assert "Did you mean ip:dataSensitivity?" in message


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("ip:latencyBudgetMs 0", "ip:latencyBudgetMs has the value 0, which is not allowed; expected an integer > 0"),
        ("ip:itStaffFTE -1", "ip:itStaffFTE has the value -1, which is not allowed; expected a number ≥ 0"),
        ('ip:hasDataCenter "yes"', "expected true or false"),
        ('ip:regulatedBy "GDPR"', 'has the literal "GDPR", but it takes an IRI'),
        (
            "ip:connectivity ip:Reliable, ip:AirGapped",
            "is stated 2 times with different values (ip:AirGapped on line 6, ip:Reliable on line 6), "
            "but it takes a single value",
        ),
        (
            "ip:itStaffFTE 4, 4.0, 4.00",
            "is stated 3 times with the same value written in different ways (4 on line 6, 4.0 on line 6, "
            "4.00 on line 6)",
        ),
        ('ip:name "W", "W"@en', 'ip:name is stated 2 times with different values ("W" on line 5, "W"@en on line 6)'),
    ],
)
def test_wrong_datatype_range_or_cardinality(kb, facts_file, statement, expected):
    found = problems(kb, facts_file, ORG + f"  {statement} .\n")
    assert found, statement
    assert any(expected in m for m in found), found


def test_a_wrong_type_is_one_problem_not_two(kb, facts_file):
    found = problems(kb, facts_file, ORG + '  ip:latencyBudgetMs "fast" .\n')
    assert len(found) == 1, found
    assert "expected an integer > 0" in found[0]


def test_all_problems_of_a_file_are_reported_in_file_order(kb, facts_file):
    path = facts_file(ORG + "  ip:dataSensitivity ip:Secret ;\n  ip:latencyBudgetMs -5 ;\n  ip:fooBar 1 .\n")
    with pytest.raises(FactsError) as err:
        validate_facts(load_facts(path), kb)
    message = str(err.value)
    assert message.startswith(f"{path}: 3 problems in the facts:")
    assert len(err.value.problems) == 3
    lines = [int(p.split(":")[0].removeprefix("line ")) for p in err.value.problems]
    assert lines == sorted(lines) == [6, 7, 8]


def test_workload_link_to_an_undeclared_node(kb, facts_file):
    found = problems(kb, facts_file, "ex:acme a ip:Organization ; ip:hasWorkload ex:ghost .\n")
    assert any("points to ex:ghost, which is not declared as an ip:Workload" in m for m in found)


def test_annotations_in_other_vocabularies_pass(kb, facts_file):
    body = ORG.replace('ip:name "W" ;', 'ip:name "W" ; rdfs:comment "our own note" ;')
    body = "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n" + body
    assert problems(kb, facts_file, body + "  ip:dataSensitivity ip:Public .\n") == []


def test_a_workload_cannot_have_workloads(kb, facts_file):
    found = problems(kb, facts_file, ORG + "  ip:hasWorkload ex:w .\n")
    assert any("only the organization may have workloads" in m for m in found), found
