"""`infra-policy coverage`: how often each rule fired over a corpus, and which parts of its condition did not."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from conftest import EXAMPLES, PREFIXES, example_files

from infra_policy.engine.paths import PACKAGED_RULES


def _fired_in_decision_json(run) -> Counter:
    """Per rule, the subjects it fired for, counted from what `evaluate --format json` reports."""
    counts: Counter = Counter()
    for path in example_files():
        decision = json.loads(run("evaluate", path, "--format", "json").stdout)
        for w in decision["workloads"]:
            fired = {a["rule"] for a in w["assessments"]} | {c["rule"] for c in w["constraints"]}
            fired |= {d["rule"] for d in w["derived"]} | {w["stance_rule"]["id"]}
            counts.update(fired)
    return counts


def test_coverage_of_the_examples_counts_what_evaluate_reports(run):
    result = run("coverage", EXAMPLES, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "infra-policy/coverage@1"
    assert report["decisions"] == len(example_files())
    by_rule = {r["rule"]: r for r in report["by_rule"]}
    expected = _fired_in_decision_json(run)
    for rule_id, entry in by_rule.items():
        if entry["stage"] in ("factor", "stance"):
            assert entry["fired"] == expected.get(rule_id, 0), rule_id
    assert report["never_fired"] == sorted(r for r, e in by_rule.items() if e["fired"] == 0)
    assert report["can_never_fire"] == []
    covered = sum(e["fired"] > 0 for e in by_rule.values()) + sum(
        (p["held"] > 0) + (p["failed"] > 0) for e in by_rule.values() for p in e["parts"]
    )
    total = sum(1 + 2 * len(e["parts"]) for e in by_rule.values())
    assert report["percent"] == round(100 * covered / total, 1)


def test_coverage_text_report(run):
    result = run("coverage", EXAMPLES)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Rule coverage over {len(example_files())} decisions (29 workloads)"
    assert lines[2].split() == ["rule", "fired", "parts", "exercised"]
    assert lines[-1].startswith("Coverage: ") and "(rules fired " in lines[-1]
    assert "Rules that can never fire: none" in lines
    assert result.stdout == run("coverage", EXAMPLES).stdout  # deterministic


def test_a_part_never_exercised_is_named(run, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules)
    (rules / "extra.yaml").write_text(
        textwrap.dedent(
            """\
            ruleset: extra
            kind: factor
            factor: latency
            rules:
              - id: extra.restricted-or-tiny-team
                title: Restricted data or a tiny team.
                when:
                  any:
                    - {fact: dataSensitivity, equals: Restricted}
                    - {fact: itStaffFTE, less_than: 0.5}
                then: {assess: {favors: in-house, weight: 1}}
                rationale: Written to leave one alternative unexercised.
                claims: [claim:inhouse-pro-low-latency]
              - id: extra.impossible
                title: A team smaller than nobody.
                when: {fact: itStaffFTE, less_than: 0}
                then: {assess: {favors: in-house, weight: 1}}
                rationale: Written so that it can never fire.
                claims: [claim:inhouse-pro-low-latency]
            """
        )
    )
    facts = tmp_path / "corpus"
    facts.mkdir()
    for name, sensitivity in (("a", "Restricted"), ("b", "Public")):
        (facts / f"{name}.ttl").write_text(
            PREFIXES + f'ex:o a ip:Organization ; ip:name "{name}" ; ip:itStaffFTE 3 ; '
            f"ip:dataSensitivity ip:{sensitivity} .\n"
        )
    result = run("coverage", facts, "--rules", rules)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("extra.restricted-or-tiny-team"))
    assert lines[at].split()[1:] == ["1", "1/2"]
    assert lines[at + 1].strip() == "when.any[1] (itStaffFTE < 0.5): never held"
    assert "Rules that can never fire (1, whatever the facts):" in lines
    assert "  extra.impossible: itStaffFTE < 0 cannot all hold (itStaffFTE is a number ≥ 0)" in lines


def test_fail_under(run):
    percent = json.loads(run("coverage", EXAMPLES, "--format", "json").stdout)["percent"]
    below = run("coverage", EXAMPLES, "--fail-under", percent + 0.1)
    assert below.exit_code == 1
    assert f"coverage {percent:.1f}% is below --fail-under" in below.stderr
    assert run("coverage", EXAMPLES, "--fail-under", percent).exit_code == 0


def test_recorded_decisions_are_covered_like_their_facts(run, tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    chosen = [EXAMPLES / n for n in ("acme-mixed-workloads.ttl", "hybrid-plans.ttl", "northwind-cost-model.ttl")]
    for path in chosen:
        assert run("evaluate", path, "--record", records, "-o", tmp_path / "out.txt").exit_code == 0
    json_decision = tmp_path / "json"
    json_decision.mkdir()
    (json_decision / "startup.json").write_text(
        run("evaluate", EXAMPLES / "startup-cloud.ttl", "--format", "json").stdout
    )
    from_records = json.loads(run("coverage", "--records", records, "--format", "json").stdout)
    from_facts = json.loads(run("coverage", *chosen, "--format", "json").stdout)
    assert from_records["by_rule"] == from_facts["by_rule"]
    assert from_records["decisions"] == 3
    both = json.loads(
        run("coverage", EXAMPLES / "startup-cloud.ttl", "--records", json_decision, "--format", "json").stdout
    )
    assert both["decisions"] == 2
    # the same facts twice, once from the file and once from its recorded decision: every count doubles
    single = json.loads(run("coverage", EXAMPLES / "startup-cloud.ttl", "--format", "json").stdout)
    assert [r["fired"] for r in both["by_rule"]] == [2 * r["fired"] for r in single["by_rule"]]


def test_coverage_needs_a_corpus_and_a_readable_records_folder(run, tmp_path):
    result = run("coverage")
    assert result.exit_code == 2 and "give at least one FACTS file or --records DIR" in result.output
    result = run("coverage", "--records", tmp_path / "none")
    assert result.exit_code == 2
    assert "--records must name a directory" in result.output


def test_coverage_in_a_real_process_with_a_glob(tmp_path):
    script = Path(sys.executable).with_name("infra-policy")
    output = tmp_path / "coverage.json"
    result = subprocess.run(
        [str(script), "coverage", str(EXAMPLES / "*.ttl"), "--format", "json", "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(output.read_text())["decisions"] == len(example_files())
