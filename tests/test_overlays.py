"""Policy overlays (--overlay FILE.yaml) through the real command line and the real engine.

Each test writes a small overlay, runs the real CLI (click's runner, and once as a real process) and
checks what moves: a changed weight or threshold moves the decision, a disabled rule stops firing, an
added rule fires, a bad overlay is refused with exit 2 and its documented message, a record made with an
overlay audits clean and a tampered overlay is caught.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

EU_BANK = EXAMPLES / "overlays" / "eu-bank.yaml"
LAW_FIRM = EXAMPLES / "law-firm-implicit-workload.ttl"  # cloud, balance -1/3: a 35 % lead needed moves it
ACME = EXAMPLES / "acme-mixed-workloads.ttl"


def overlay(tmp_path: Path, text: str, name: str = "overlay.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def decision(run, *args) -> dict:
    result = run("evaluate", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def workload(data: dict, name: str) -> dict:
    return next(w for w in data["workloads"] if w["name"] == name)


def test_eu_bank_overlay_moves_the_law_firm_from_cloud_to_hybrid(run):
    before = decision(run, LAW_FIRM)
    after = decision(run, LAW_FIRM, "--overlay", EU_BANK)
    assert before["organization"]["stance"] == "cloud"
    assert after["organization"]["stance"] == "hybrid"
    assert after["workloads"][0]["stance_rule"]["id"] == "stance.close-balance"
    assert after["inputs"]["overlays"] == [
        {"name": "eu-bank", "file": "eu-bank.yaml", "digest": after["inputs"]["overlays"][0]["digest"]}
    ]
    assert after["inputs"]["rules"] != before["inputs"]["rules"]
    assert "overlays" not in before["inputs"]


def test_a_weight_changes_the_assessment_and_the_tally(run, tmp_path):
    heavier = overlay(tmp_path, "overlay: heavier-gdpr\nweights:\n  privacy.gdpr-transfers: 3\n")
    before = workload(decision(run, ACME), "Claims triage")
    after = workload(decision(run, ACME, "--overlay", heavier), "Claims triage")
    weight = {a["rule"]: a["weight"] for a in after["assessments"]}
    assert {a["rule"]: a["weight"] for a in before["assessments"]}["privacy.gdpr-transfers"] == 1
    assert weight["privacy.gdpr-transfers"] == 3


def test_a_weight_moves_a_stance(run, tmp_path, facts_file):
    # two weak arguments for the cloud against one moderate for in-house: balance 0 → hybrid;
    # the in-house argument made strong tips it past the threshold
    facts = facts_file("""\
        ex:o a ip:Organization ; ip:name "Org" ; ip:hasWorkload ex:w .
        ex:w a ip:Workload ; ip:name "W" ; ip:customizationNeed ip:High ; ip:gpuHoursPerMonth 100 ;
            ip:usersLocation ip:Global .
    """)
    base = decision(run, facts)
    fired = {a["rule"]: a for a in base["workloads"][0]["assessments"]}
    assert fired["control.high-customization"]["weight"] == 2
    strong = overlay(tmp_path, "overlay: strong-control\nweights:\n  control.high-customization: 3\n")
    after = decision(run, facts, "--overlay", strong)
    assert after["workloads"][0]["tally"]["in_house_weight"] == base["workloads"][0]["tally"]["in_house_weight"] + 1
    assert after["workloads"][0]["stance"] != base["workloads"][0]["stance"]


def test_disable_removes_a_rule(run, tmp_path):
    off = overlay(tmp_path, "overlay: no-residency\ndisable: [privacy.data-residency]\n")
    after = workload(decision(run, ACME, "--overlay", off), "Claims triage")
    assert "privacy.data-residency" not in {a["rule"] for a in after["assessments"]}
    listed = run("rules", "list", "--format", "json", "--overlay", off)
    assert "privacy.data-residency" not in {r["id"] for r in json.loads(listed.stdout)}


def test_an_added_rule_fires_and_is_listed_from_the_overlay(run):
    data = decision(run, ACME, "--overlay", EU_BANK)
    claims = workload(data, "Claims triage")
    added = {a["rule"]: a for a in claims["assessments"]}["privacy.gdpr-without-customer-keys"]
    assert (added["factor"], added["favors"], added["weight"]) == ("control", "in-house", 1)
    listed = json.loads(run("rules", "list", "--format", "json", "--overlay", EU_BANK).stdout)
    entry = next(r for r in listed if r["id"] == "privacy.gdpr-without-customer-keys")
    assert entry["file"] == "eu-bank.yaml"


def test_overlays_apply_in_order(run, tmp_path):
    first = overlay(tmp_path, "overlay: first\nweights:\n  privacy.gdpr-transfers: 3\n", "first.yaml")
    second = overlay(tmp_path, "overlay: second\nweights:\n  privacy.gdpr-transfers: 2\n", "second.yaml")
    data = decision(run, ACME, "--overlay", first, "--overlay", second)
    weights = {a["rule"]: a["weight"] for a in workload(data, "Claims triage")["assessments"]}
    assert weights["privacy.gdpr-transfers"] == 2
    assert [o["name"] for o in data["inputs"]["overlays"]] == ["first", "second"]


def test_every_deciding_command_takes_the_overlay(run, tmp_path):
    flat = ("--overlay", str(EU_BANK))
    assert "hybrid" in run("evaluate", LAW_FIRM, *flat).stdout
    batch = run("evaluate", LAW_FIRM, ACME, "--format", "json", *flat)
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert lines[0]["decision"]["organization"]["stance"] == "hybrid"
    assert run("explain", LAW_FIRM, "--why-not", "cloud", *flat).exit_code == 0
    what_if = run("what-if", LAW_FIRM, "--set", "itStaffFTE=0.5", "--format", "json", *flat)
    assert json.loads(what_if.stdout)["after"]["inputs"]["overlays"][0]["name"] == "eu-bank"
    diff = run("diff", LAW_FIRM, LAW_FIRM, "--format", "json", *flat)
    assert diff.exit_code == 0
    site = run("site", LAW_FIRM, "-o", tmp_path / "site", *flat)
    assert site.exit_code == 0, site.output
    check = run("rules", "check", "--format", "json", *flat)
    assert check.exit_code == 0 and json.loads(check.stdout)["ok"]


def test_the_same_overlay_gives_the_same_bytes(run, tmp_path):
    copy = tmp_path / "eu-bank.yaml"
    # comments and layout do not count: the digest is of the parsed content
    copy.write_text("# reformatted\n" + EU_BANK.read_text(encoding="utf-8"), encoding="utf-8")
    one = run("evaluate", LAW_FIRM, "--overlay", EU_BANK, "--format", "json").stdout
    two = run("evaluate", LAW_FIRM, "--overlay", copy, "--format", "json").stdout
    assert one == two


# --- bad overlays: exit 2, the documented message ---------------------------------------------


BAD = {
    "not-yaml": ("overlay: [unclosed\n", ["not-yaml.yaml, line 2, column 1: not valid YAML"]),
    "aliases": (
        "overlay: a\nweights: &w\n  privacy.gdpr-transfers: 2\nparameters: {stance: *w}\n",
        ["uses YAML anchors and aliases (&name / *name), which policy overlays may not"],
    ),
    "schema": (
        "overlay: Bad Name\nweight:\n  privacy.gdpr-transfers: 2\n",
        ["line 2: weight: Additional properties are not allowed", "line 1: overlay: 'Bad Name' does not match"],
    ),
    "unknown-id": (
        "overlay: typo\nweights:\n  privacy.gdpr-transfer: 2\n",
        ["line 3: weights.privacy.gdpr-transfer: no rule has the id", "Did you mean 'privacy.gdpr-transfers'?"],
    ),
    "not-an-assessment": (
        "overlay: stance-weight\nweights:\n  stance.clear-cloud: 2\n",
        ["rule stance.clear-cloud does not assess"],
    ),
    "no-such-test": (
        "overlay: t\nthresholds:\n  stance.clear-cloud: {balance: {at_least: 0.3}}\n",
        ["rule stance.clear-cloud has no test 'balance at_least'; its numeric tests: balance at_most -0.2"],
    ),
    "parameter": (
        "overlay: p\nparameters:\n  stance: {factor_cap: -1, nope: 2}\n",
        [
            "parameters.stance.factor_cap: is -1; it must be a whole number ≥ 0",
            "rule set stance has no parameter 'nope'",
        ],
    ),
    "vocabulary": (
        """\
        overlay: v
        add:
          - id: privacy.typo
            title: A rule with a typo in its fact.
            when: {fact: dataSensitivty, equals: Restricted}
            then: {assess: {favors: in-house, weight: 1}}
            rationale: A rule whose fact is misspelled on purpose.
            claims: [claim:inhouse-pro-data-privacy]
        """,
        ["line 3: add[0] (rule privacy.typo), at when.fact: unknown fact 'dataSensitivty'", "'dataSensitivity'"],
    ),
    "non-monotone": (
        """\
        overlay: backwards
        add:
          - id: privacy.gdpr-favors-cloud
            title: Personal data favors the cloud (backwards on purpose).
            when: {fact: regulatedBy, equals: GDPR}
            then: {assess: {favors: cloud, weight: 2}}
            rationale: Wrong on purpose, to be refused by the direction check.
            claims: [claim:cloud-pro-scalability]
        """,
        [
            "breaks a direction the knowledge base declares",
            "raising regulatedBy from none to GDPR",
            "privacy.gdpr-favors-cloud",
        ],
    ),
    "stance-gap": (
        "overlay: gap\nthresholds:\n  stance.clear-cloud: {balance: {at_most: -0.5}}\n",
        ["no stance rule fires for cloud weight"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_overlay_is_refused_with_exit_2(run, tmp_path, case):
    text, expected = BAD[case]
    bad = overlay(tmp_path, text, f"{case}.yaml")
    result = run("evaluate", LAW_FIRM, "--overlay", bad)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{case}.yaml" in result.output
    for fragment in expected:
        assert fragment in result.output


def test_a_missing_overlay_is_named(run, tmp_path):
    result = run("rules", "list", "--overlay", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "no such policy overlay" in result.output


def test_rules_check_reports_a_non_monotone_overlay_with_exit_1(run, tmp_path):
    text, _ = BAD["non-monotone"]
    bad = overlay(tmp_path, text)
    result = run("rules", "check", "--overlay", bad)
    assert result.exit_code == 1
    assert "FAIL direction · regulatedBy" in result.output


# --- records and audit -------------------------------------------------------------------------


def _record(run, tmp_path: Path, overlay_file: Path) -> Path:
    records = tmp_path / "records"
    result = run("evaluate", LAW_FIRM, "--overlay", overlay_file, "--record", records)
    assert result.exit_code == 0, result.output
    (found,) = records.glob("*.json")
    return found


def test_a_record_made_with_an_overlay_audits_clean_and_holds_it(run, tmp_path):
    local = tmp_path / "eu-bank.yaml"
    shutil.copy(EU_BANK, local)
    record = _record(run, tmp_path, local)
    data = json.loads(record.read_text())
    assert data["overlays"][0]["content"]["weights"] == {"privacy.data-residency": 2, "privacy.gdpr-transfers": 2}
    result = run("audit", record, "--facts", LAW_FIRM, "--overlay", local)
    assert result.exit_code == 0, result.output
    assert "PASS  overlays: the overlays in use are those of the record: eu-bank.yaml" in result.output


def test_a_tampered_overlay_is_detected_by_audit(run, tmp_path):
    local = tmp_path / "eu-bank.yaml"
    shutil.copy(EU_BANK, local)
    record = _record(run, tmp_path, local)
    local.write_text(local.read_text().replace("privacy.gdpr-transfers: 2", "privacy.gdpr-transfers: 3"))
    result = run("audit", record, "--facts", LAW_FIRM, "--overlay", local, "--format", "json")
    assert result.exit_code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert not checks["overlays"]["ok"]
    assert "it was changed after the record was made" in checks["overlays"]["detail"]
    assert "weights.privacy.gdpr-transfers: 2 → 3" in checks["overlays"]["detail"]
    assert not checks["rules digest"]["ok"]


def test_audit_without_the_overlay_says_which_to_give(run, tmp_path):
    record = _record(run, tmp_path, EU_BANK)
    result = run("audit", record, "--facts", LAW_FIRM)
    assert result.exit_code == 1
    assert "the record was made with overlay eu-bank.yaml (eu-bank" in result.output
    assert "give it with --overlay" in result.output


def test_the_decision_log_carries_the_overlay(run, tmp_path):
    log = tmp_path / "decisions.log"
    assert run("evaluate", LAW_FIRM, "--overlay", EU_BANK, "--log", log).exit_code == 0
    entry = json.loads(log.read_text().splitlines()[0])
    assert entry["inputs"]["overlays"][0]["name"] == "eu-bank"


# --- as a real program -------------------------------------------------------------------------


def test_overlay_as_a_real_process(tmp_path):
    program = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert program
    result = subprocess.run(
        [program, "evaluate", str(LAW_FIRM), "--overlay", str(EU_BANK.relative_to(REPO)), "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["organization"]["stance"] == "hybrid"
    bad = tmp_path / "bad.yaml"
    bad.write_text("overlay: bad\nweights:\n  privacy.nope: 2\n")
    refused = subprocess.run([program, "rules", "list", "--overlay", str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "bad.yaml, line 3: weights.privacy.nope: no rule has the id 'privacy.nope'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_decisions_and_records_with_an_overlay_follow_their_schemas(run, tmp_path):
    import jsonschema
    from referencing import Registry, Resource

    decision_schema = json.loads((REPO / "docs" / "decision.schema.json").read_text())
    record_schema = json.loads((REPO / "docs" / "record.schema.json").read_text())
    registry = Registry().with_resources(
        [
            ("decision.schema.json", Resource.from_contents(decision_schema)),
            (decision_schema["$id"], Resource.from_contents(decision_schema)),
        ]
    )
    jsonschema.validate(decision(run, LAW_FIRM, "--overlay", EU_BANK), decision_schema)
    record = json.loads(_record(run, tmp_path, EU_BANK).read_text())
    jsonschema.Draft202012Validator(record_schema, registry=registry).validate(record)
    overlay_schema = json.loads((REPO / "rules" / "overlay.schema.json").read_text())
    assert record["overlays"][0]["content"]["overlay"] == "eu-bank" and overlay_schema["required"] == ["overlay"]


DECIDING_COMMANDS = [
    ("evaluate",),
    ("what-if",),
    ("explain",),
    ("diff",),
    ("audit",),
    ("site",),
    ("rules", "list"),
    ("rules", "check"),
    ("impact",),
]


@pytest.mark.parametrize("command", DECIDING_COMMANDS, ids=" ".join)
def test_every_command_that_decides_offers_the_shared_policy_options(run, command):
    text = run(*command, "--help").output
    for option in ("--rules PATH", "--kb PATH", "--overlay FILE.yaml"):
        assert option in text, f"{' '.join(command)} lacks {option}"


def test_audit_with_an_overlay_the_record_was_made_without(run, tmp_path):
    records = tmp_path / "records"
    assert run("evaluate", LAW_FIRM, "--record", records).exit_code == 0
    (record,) = records.glob("*.json")
    result = run("audit", record, "--facts", LAW_FIRM, "--overlay", EU_BANK)
    assert result.exit_code == 1
    assert "overlay eu-bank.yaml was given, but the record was made without it" in result.output
    assert "PASS  overlays" not in run("audit", record, "--facts", LAW_FIRM).output  # no overlays: no such check
