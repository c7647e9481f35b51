"""`infra-policy impact` through the real command line: text and JSON, --fail-on-change, --records,
--rules against --base-rules, --base-overlay, --keep-going, and a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
from conftest import EXAMPLES, REPO

EU_BANK = EXAMPLES / "overlays" / "eu-bank.yaml"
LAW_FIRM = EXAMPLES / "law-firm-implicit-workload.ttl"
ACME = EXAMPLES / "acme-mixed-workloads.ttl"
STARTUP = EXAMPLES / "startup-cloud.ttl"
SCHEMA = json.loads((REPO / "docs" / "impact.schema.json").read_text())


def impact_json(run, *args) -> tuple[int, dict]:
    result = run("impact", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    return result.exit_code, data


def test_overlay_impact_names_the_changed_decision_and_the_rule(run):
    status, data = impact_json(run, LAW_FIRM, ACME, STARTUP, "--overlay", EU_BANK)
    assert status == 0
    summary = data["summary"]
    assert (summary["decisions"], summary["decisions_changed"], summary["workload_stances_changed"]) == (3, 1, 1)
    assert summary["transitions"] == [{"from": "cloud", "to": "hybrid", "workloads": 1}]
    assert summary["workloads_reweighed"] == 1  # Acme's claims triage: heavier GDPR, still in-house
    (changed,) = data["decisions"]
    assert changed["source"] == str(LAW_FIRM)
    org, work = changed["changes"]
    assert (org["kind"], org["before"]["stance"], org["after"]["stance"]) == ("organization", "cloud", "hybrid")
    assert work["rules"][0]["rule"] == "stance.close-balance"
    assert "redefined by the new policy" in work["rules"][0]["detail"]
    assert data["new"]["overlays"][0]["name"] == "eu-bank" and data["base"]["overlays"] == []


def test_text_report(run):
    result = run("impact", LAW_FIRM, STARTUP, "--overlay", EU_BANK)
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("Impact of the policy change on 2 decisions (2 workloads)\n")
    assert "  new:  packaged rules + overlay eu-bank (eu-bank.yaml)" in text
    assert "Changed: 1 of 2 decisions — 1 organization stance, 1 workload stance" in text
    assert "  cloud → hybrid: 1 workload" in text
    assert "stance.close-balance: gives hybrid now (was stance.clear-cloud, cloud)" in text


def test_fail_on_change_exits_1_only_when_something_changes(run):
    assert run("impact", LAW_FIRM, "--overlay", EU_BANK, "--fail-on-change").exit_code == 1
    assert run("impact", STARTUP, "--overlay", EU_BANK, "--fail-on-change").exit_code == 0


def test_base_overlay_against_the_same_overlay_changes_nothing(run):
    status, data = impact_json(run, LAW_FIRM, "--overlay", EU_BANK, "--base-overlay", EU_BANK)
    assert status == 0 and data["summary"]["decisions_changed"] == 0 and data["decisions"] == []


def test_rules_against_base_rules(run, tmp_path):
    new_rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", new_rules, ignore=shutil.ignore_patterns("*.json"))
    stance = new_rules / "stance.yaml"
    text = stance.read_text()
    stance.write_text(
        text.replace("at_most: -0.2", "at_most: -0.5").replace("greater_than: -0.2", "greater_than: -0.5")
    )
    _status, data = impact_json(run, LAW_FIRM, "--rules", new_rules, "--base-rules", REPO / "rules")
    assert data["summary"]["workload_stances_changed"] == 1
    assert data["new"]["rules"] == str(new_rules) and data["base"]["rules"] == str(REPO / "rules")


def test_records_are_decided_again_from_their_stated_facts(run, tmp_path):
    records = tmp_path / "records"
    for facts in (LAW_FIRM, ACME):
        assert run("evaluate", facts, "--record", records).exit_code == 0
    _status, from_records = impact_json(run, "--records", records, "--overlay", EU_BANK)
    _, from_facts = impact_json(run, LAW_FIRM, ACME, "--overlay", EU_BANK)
    assert from_records["summary"] == from_facts["summary"]
    assert [d["organization"] for d in from_records["decisions"]] == ["Harper & Vale LLP"]


def test_usage_errors(run, tmp_path):
    assert run("impact", LAW_FIRM).exit_code == 2  # nothing to compare
    assert run("impact", "--overlay", EU_BANK).exit_code == 2  # nothing to decide
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("impact", "--records", empty, "--overlay", EU_BANK)
    assert result.exit_code == 2 and "no decision records" in result.output


def test_keep_going_reports_the_failed_file_and_exits_1(run, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ip: <https://w3id.org/infra-policy#> .\nip:x ip:y .\n")
    assert run("impact", LAW_FIRM, bad, "--overlay", EU_BANK).exit_code == 2
    result = run("impact", LAW_FIRM, bad, "--overlay", EU_BANK, "--keep-going", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"]["decisions"] == 1 and data["errors"][0]["source"] == str(bad)


def test_output_is_deterministic_and_independent_of_jobs(run, tmp_path):
    one = run("impact", EXAMPLES, "--overlay", EU_BANK, "--format", "json").stdout
    two = run("impact", EXAMPLES, "--overlay", EU_BANK, "--format", "json", "--jobs", "2").stdout
    assert one == two


def test_impact_as_a_real_process(tmp_path: Path):
    program = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert program
    out = tmp_path / "impact.json"
    result = subprocess.run(
        [
            program,
            "impact",
            "examples/",
            "--overlay",
            "examples/overlays/eu-bank.yaml",
            "--fail-on-change",
            "--format",
            "json",
            "-o",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr  # the EU bank's overlay moves the law firm
    assert json.loads(out.read_text())["summary"]["decisions_changed"] >= 1


def test_the_readme_shows_the_real_impact_of_the_eu_bank_overlay(run, monkeypatch):
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "infra-policy impact examples/ --overlay examples/overlays/eu-bank.yaml"
    shown = re.search(re.escape(f"$ {command}") + r"\n(.*?)```", readme, flags=re.S).group(1)
    monkeypatch.chdir(REPO)  # the README's paths are relative to the repository
    assert run(*command.split()[1:]).stdout == shown
