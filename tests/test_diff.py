"""diff A B and audit --facts: what matters first, through the real CLI."""

import json
from pathlib import Path

from click.testing import CliRunner

from infra_policy.cli.main import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def changed_facts(tmp_path: Path, *pairs: tuple[str, str]) -> Path:
    text = MIXED.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "after.ttl"
    path.write_text(text, encoding="utf-8")
    return path


def test_diff_of_two_facts_files_puts_stance_changes_first(tmp_path):
    after = changed_facts(
        tmp_path,
        ("ip:itStaffFTE 4", "ip:itStaffFTE 0.5"),
        ("ip:capitalBudgetUSD 400000", "ip:capitalBudgetUSD 10000"),
        ("ip:hasDataCenter true", "ip:hasDataCenter false"),
    )
    result = run("diff", MIXED, after)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("Stances that changed:") < out.index("Facts that changed:") < out.index("Reasons that")
    assert "Claims triage: in-house → cloud" in out
    assert "Acme Insurance: hybrid → cloud" in out
    assert "Acme Insurance: IT staff (FTE) 4 → 0.5" in out
    assert "Acme Insurance: Capital budget (USD) 400,000 → 10,000" in out
    assert "urn:" not in out and "ip:" not in out
    data = json.loads(run("diff", MIXED, after, "--format", "json").output)
    assert data["format"] == "infra-policy/diff@1" and not data["same"]
    assert {"name": "Acme Insurance", "property": "itStaffFTE", "before": 4, "after": 0.5}.items() <= next(
        f for f in data["facts"] if f["property"] == "itStaffFTE"
    ).items()


def test_diff_of_a_record_and_a_decision_json(tmp_path):
    assert run("evaluate", MIXED, "--record", tmp_path / "records").exit_code == 0
    (record,) = (tmp_path / "records").glob("*.json")
    decision = tmp_path / "decision.json"
    decision.write_text(run("evaluate", MIXED, "--format", "json").output, encoding="utf-8")
    same = run("diff", record, decision)
    assert same.exit_code == 0 and "The same decision on the same stated facts." in same.output
    after = changed_facts(tmp_path, ("ip:usersLocation ip:Global", "ip:usersLocation ip:OnPremises"))
    moved = run("diff", record, after)
    assert "Campaign copy: Users location global → on premises" in moved.output
    assert "Users spread over several continents slightly favor the cloud." in moved.output


def test_diff_refuses_a_json_that_is_no_decision(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"format": "something/else"}', encoding="utf-8")
    result = run("diff", other, MIXED)
    assert result.exit_code == 2 and "is neither a decision" in result.output and "Traceback" not in result.output


def test_audit_with_new_facts_says_what_changed_first_and_the_edges_only_verbose(tmp_path):
    assert run("evaluate", MIXED, "--record", tmp_path / "records").exit_code == 0
    (record,) = (tmp_path / "records").glob("*.json")
    after = changed_facts(tmp_path, ("ip:itStaffFTE 4", "ip:itStaffFTE 0.5"))
    short = run("audit", record, "--facts", after)
    assert short.exit_code == 1
    assert "Acme Insurance: IT staff (FTE) 4 → 0.5" in short.output
    assert "urn:" not in short.output and "--verbose lists them" in short.output
    verbose = run("audit", record, "--facts", after, "--verbose")
    assert "        changed: " in verbose.output
    assert verbose.output.index("IT staff (FTE) 4 → 0.5") < verbose.output.index("        changed: ")


def test_an_organization_evaluated_as_its_own_workload_is_named_once(tmp_path):
    # the law firm states no workloads: it is decided as one implicit workload with its own id and name
    law_firm = EXAMPLES / "law-firm-implicit-workload.ttl"
    text = law_firm.read_text(encoding="utf-8")
    assert "ip:itStaffFTE 1.5" in text
    after = tmp_path / "after.ttl"
    after.write_text(text.replace("ip:itStaffFTE 1.5", "ip:itStaffFTE 1.5 ; ip:dataMustStayOnPremises true"))
    diffed = run("diff", law_firm, after)
    assert diffed.exit_code == 0, diffed.output
    assert diffed.output.count("Harper & Vale LLP: cloud → in-house") == 1, diffed.output
    what_if = run("what-if", law_firm, "--set", "dataMustStayOnPremises=true")
    assert what_if.exit_code == 0, what_if.output
    assert what_if.output.count("Harper & Vale LLP: cloud → in-house") == 1, what_if.output
    unchanged = run("what-if", law_firm, "--set", "itStaffFTE=1")
    assert unchanged.output.count("Harper & Vale LLP stays cloud") == 1, unchanged.output


OVERRIDE = """\
@prefix ip: <https://w3id.org/infra-policy#> .
@prefix ex: <https://example.com/city/> .
ex:city a ip:Organization ; ip:name "City" ; ip:capitalBudgetUSD 200000 ; ip:itStaffFTE 3 ;
  ip:hasDataCenter true ; ip:cloudSafeguard ip:InRegionProcessing, ip:CustomerManagedKeys ;
  ip:hasWorkload ex:chat .
ex:chat a ip:Workload ; ip:name "Citizen chat" ; ip:dataSensitivity ip:Confidential ;
  ip:regulatedBy ip:GDPR ; ip:dataResidencyRequired true{own} .
"""


def test_a_workload_value_that_replaces_the_organizations_is_said_in_evaluate_and_diff(tmp_path):
    # a workload's own list of safeguards replaces the organization's list (the facts contract);
    # both evaluate and diff must say so rather than show it as a safeguard merely added
    before, after = tmp_path / "before.ttl", tmp_path / "after.ttl"
    before.write_text(OVERRIDE.format(own=""))
    after.write_text(OVERRIDE.format(own=" ; ip:cloudSafeguard ip:ZeroDataRetention"))
    shown = run("evaluate", after)
    assert shown.exit_code == 0, shown.output
    assert "in place of the organization's value" in shown.output
    assert "zero data retention, not the organization's customer-managed keys, in-region processing" in " ".join(
        shown.output.split()
    )
    data = json.loads(run("evaluate", after, "--format", "json").output)
    (fact,) = [f for f in data["workloads"][0]["facts"] if f["property"] == "cloudSafeguard"]
    assert fact["value"] == ["ZeroDataRetention"] and sorted(fact["replaces"]) == [
        "CustomerManagedKeys",
        "InRegionProcessing",
    ]
    diffed = run("diff", before, after)
    text = " ".join(diffed.output.split())
    assert "Cloud safeguard customer-managed keys, in-region processing (the organization's) → zero data" in text
    changes = json.loads(run("diff", before, after, "--format", "json").output)["facts"]
    (change,) = [c for c in changes if c["property"] == "cloudSafeguard"]
    assert change["inherited_before"] is True and change["before"] == ["CustomerManagedKeys", "InRegionProcessing"]
