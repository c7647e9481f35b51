"""What-if through the real CLI and the library: facts assumed, the pipeline run again."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import infra_policy
from infra_policy.cli.main import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_what_if_moves_a_workload_and_says_what_was_assumed():
    result = run(
        "what-if", MIXED, "--set", "itStaffFTE=0.5", "--set", "capitalBudgetUSD=10000", "--set", "hasDataCenter=false"
    )
    assert result.exit_code == 0, result.output
    assert "Assumed (not stated in the facts):" in result.output
    assert "Acme Insurance: IT staff (FTE) 0.5" in result.output
    assert "capital budget (USD) 10,000" in result.output
    assert "Claims triage: in-house → cloud" in result.output
    assert "Acme Insurance: hybrid → cloud" in result.output
    assert "Campaign copy stays cloud" in result.output


def test_what_if_on_one_workload_and_as_json():
    data = json.loads(
        run("what-if", MIXED, "--set", "Campaign copy.usersLocation=OnPremises", "--format", "json").output
    )
    assert data["assumed"] == [
        {
            "subject": data["assumed"][0]["subject"],
            "name": "Campaign copy",
            "property": "usersLocation",
            "value": "OnPremises",
            "replaces": ["Global"],
        }
    ]
    stances = {s["name"]: (s["before"], s["after"]) for s in data["stances"]}
    assert stances["Claims triage"] == ("in-house", "in-house")
    assert data["after"]["format"] == "infra-policy/decision@1"
    # the library gives the same answer
    lib = infra_policy.what_if(MIXED, ["Campaign copy.usersLocation=OnPremises"])
    assert {m.name: m.after for m in lib.stance_changes()} == {k: v[1] for k, v in stances.items()}


def test_what_if_errors_name_the_problem():
    unknown = run("what-if", MIXED, "--set", "itStafFTE=2")
    assert unknown.exit_code == 2 and "Did you mean itStaffFTE?" in unknown.output
    workload = run("what-if", MIXED, "--set", "Chatbot.itStaffFTE=2")
    assert workload.exit_code == 2 and "no workload 'Chatbot'" in workload.output
    assert "Campaign copy" in workload.output
    bad = run("what-if", MIXED, "--set", "dataSensitivity=Secret")
    assert bad.exit_code == 2 and "Secret" in bad.output and "Traceback" not in bad.output
    shape = run("what-if", MIXED, "--set", "itStaffFTE")
    assert shape.exit_code == 2 and "write property=value" in shape.output


def test_what_if_in_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "infra_policy.cli.main", "what-if", str(MIXED), "--set", "modelAvailability=HostedOnly"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and "No module named" in done.stderr:
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "infra-policy"),
                "what-if",
                str(MIXED),
                "--set",
                "modelAvailability=HostedOnly",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "Claims triage: in-house → cloud" in done.stdout
