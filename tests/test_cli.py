"""The command line, through click's runner and as a real installed program."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import EXAMPLES, example_files

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


def test_evaluate_text_is_what_a_cto_would_forward(run):
    result = run("evaluate", MIXED)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Acme Insurance: HYBRID")
    assert "Placement" in out and "Claims triage" in out and "Campaign copy" in out
    assert "Decisive reasons" in out and "given: " in out and "article: " in out
    assert "line " in out  # facts point into the file


def test_evaluate_json_is_deterministic_and_parses(run):
    first = run("evaluate", MIXED, "--format", "json")
    second = run("evaluate", MIXED, "--format", "json")
    assert first.exit_code == 0
    assert first.output == second.output
    data = json.loads(first.output)
    assert data["organization"]["stance"] == "hybrid"


def test_output_file_is_written_atomically(run, tmp_path):
    target = tmp_path / "decision.json"
    result = run("evaluate", MIXED, "--format", "json", "--output", target)
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(target.read_text())["format"] == "infra-policy/decision@1"
    assert [p.name for p in tmp_path.iterdir()] == ["decision.json"]


def test_bad_input_exits_2_with_one_message_and_writes_nothing(run, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix ip: <https://w3id.org/infra-policy#> .\n<x> a ip:Organization ; ip:connectivity ip:Wifi .\n"
    )
    target = tmp_path / "out.json"
    result = run("evaluate", bad, "--output", target)
    assert result.exit_code == 2
    assert "ip:connectivity has the value ip:Wifi" in result.output
    assert "Traceback" not in result.output
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ttl"]


def test_a_failed_run_leaves_an_existing_output_untouched(run, tmp_path):
    target = tmp_path / "out.json"
    target.write_text("previous")
    result = run("evaluate", tmp_path / "missing.ttl", "--output", target)
    assert result.exit_code == 2 and "no such file" in result.output
    assert target.read_text() == "previous"


def test_debug_shows_the_traceback(run, tmp_path):
    result = run("--debug", "evaluate", tmp_path / "missing.ttl")
    assert result.exit_code == 2
    assert "Traceback" in result.output


def test_validate_reports_valid_and_invalid(run, tmp_path):
    ok = run("validate", MIXED)
    assert ok.exit_code == 0
    assert "valid — organization 'Acme Insurance', 2 workloads" in ok.output
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ip: <https://w3id.org/infra-policy#> .\n<x> a ip:Organization ; ip:itStafFTE 2 .\n")
    result = run("validate", bad)
    assert result.exit_code == 2 and "Did you mean ip:itStaffFTE?" in result.output


def test_rules_list_shows_every_rule(run, policy):
    result = run("rules", "list")
    assert result.exit_code == 0
    for rule in policy.rules:
        assert rule.id in result.output
    as_json = json.loads(run("rules", "list", "--format", "json").output)
    assert {e["id"] for e in as_json} == set(policy.by_id)


@pytest.mark.parametrize(
    "command", [[], ["evaluate"], ["validate"], ["rules"], ["rules", "list"], ["explain"], ["audit"]]
)
def test_every_command_has_help(run, command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_version(run):
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("infra-policy, version ")


def test_usage_errors_exit_2(run):
    assert run("evaluate").exit_code == 2
    assert run("evaluate", MIXED, "--format", "yaml").exit_code == 2


# --- as a real program -------------------------------------------------------


def _program() -> list[str]:
    found = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert found, "the console script infra-policy is not installed next to this Python"
    return [found]


@pytest.mark.parametrize("path", example_files()[:3], ids=lambda p: p.stem)
def test_installed_program_runs_from_another_directory(path, tmp_path):
    result = subprocess.run(
        [*_program(), "evaluate", str(path), "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "infra-policy/decision@1"
    assert result.stderr == ""


def test_installed_program_reports_bad_input_without_traceback(tmp_path):
    bad = tmp_path / "facts.ttl"
    bad.write_text("this is not turtle")
    result = subprocess.run([*_program(), "evaluate", str(bad)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {bad}, line 1")
    assert "Traceback" not in result.stderr


def test_control_characters_from_the_facts_never_reach_the_terminal(run, tmp_path):
    hostile = tmp_path / "hostile.ttl"
    hostile.write_text(
        "@prefix ip: <https://w3id.org/infra-policy#> .\n"
        '<https://e.com/o> a ip:Organization ; ip:name "Evil\\u001b]0;pwned\\u0007 Corp" ; '
        "ip:connectivity ip:AirGapped .\n"
    )
    for args in (["evaluate", hostile], ["explain", hostile], ["explain", hostile, "--why-not", "cloud"]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    assert "Evil\\x1b]0;pwned\\x07 Corp" in run("evaluate", hostile).output


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path):
    """`infra-policy … | head`: the closed pipe is the reader's choice, not an internal error."""
    from pathlib import Path

    from conftest import EXAMPLES

    program = Path(sys.executable).parent / "infra-policy"
    # a batch writes line by line, so the reader is gone while it still writes
    command = f"'{program}' evaluate '{EXAMPLES}' --format json | head -c 10"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.stdout == '{"source":'
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
