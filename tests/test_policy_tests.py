"""`infra-policy test`: policy test files, the shipped suite, the three report formats, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from conftest import EXAMPLES, REPO, invoke_cli

from infra_policy.engine.paths import PACKAGED_POLICY_TESTS

JUNIT_XSD = Path(__file__).resolve().parent / "data" / "junit.xsd"
ACME = EXAMPLES / "acme-mixed-workloads.ttl"


def suite(tmp_path: Path, body: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


FAILING = f"""\
cases:
  - name: acme as agreed
    facts: {ACME}
    expect:
      organization: {{stance: hybrid, plan: split-by-workload}}
      workloads:
        claims triage: {{stance: in-house, fires: [privacy.sensitive-data]}}
  - name: acme with a wrong expectation
    facts: {ACME}
    expect:
      organization: {{stance: cloud}}
      workloads:
        Campaign copy:
          stance: hybrid
          fires: [privacy.sensitive-data]
          does_not_fire: [scalability.bursty-demand]
          not_weighed: [dataSensitivity, regulatedBy=HIPAA]
"""


# ---------------------------------------------------------------------------
# the shipped suite


def test_every_example_has_its_agreed_expectations_in_the_shipped_suite():
    # the installed suite (a copy in site-packages, or the source folder itself when installed
    # editable) is the repository's, file for file
    source = EXAMPLES / "policy-tests"
    shipped = {p.name: p.read_bytes() for p in PACKAGED_POLICY_TESTS.glob("*.yaml")}
    assert shipped == {p.name: p.read_bytes() for p in source.glob("*.yaml")}
    referenced = set()
    for path in source.glob("*.yaml"):
        referenced |= {
            line.split("facts:")[1].strip() for line in path.read_text().splitlines() if "facts: ../" in line
        }
    assert {f"../{p.name}" for p in EXAMPLES.glob("*.ttl")} <= referenced


def test_without_arguments_the_shipped_suite_runs_and_passes(run):
    result = run("test")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "examples/policy-tests/acme-mixed-workloads.yaml"
    assert "  PASS  acme-mixed-workloads: as the example states" in lines
    cases = sum(path.read_text().count("\n- name:") for path in PACKAGED_POLICY_TESTS.glob("*.yaml"))
    files = len(list(PACKAGED_POLICY_TESTS.glob("*.yaml")))
    assert lines[-1] == f"{cases} passed ({cases} cases in {files} files)"
    assert "FAIL" not in result.stdout


def test_the_shipped_suite_runs_from_an_installed_layout(tmp_path):
    """The package laid out as pyproject.toml installs it (package-dir and package-data only): `test` with no
    argument finds the suite and the examples it points to, from another directory, in a real process."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = config["package-dir"]
    site = tmp_path / "site-packages"
    for package in config["packages"]:
        top = max((name for name in roots if package == name or package.startswith(name + ".")), key=len)
        source = REPO / roots[top] / Path(*package[len(top) + 1 :].split(".")) if package != top else REPO / roots[top]
        target = site / Path(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        patterns = ["*.py", *config["package-data"].get(package, [])]
        for pattern in patterns:
            for file in source.glob(pattern):
                if file.is_file():
                    (target / file.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target / file.relative_to(source))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [sys.executable, "-c", "import infra_policy.engine.paths as p; print(p.PACKAGED_POLICY_TESTS)"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip().startswith(str(site))
    result = subprocess.run(
        [sys.executable, "-m", "infra_policy.cli.main", "test"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == invoke_cli("test").stdout  # the same report as from the source tree


def test_the_console_script_runs_a_failing_suite_with_exit_1(tmp_path):
    path = suite(tmp_path, FAILING)
    script = Path(sys.executable).with_name("infra-policy")
    result = subprocess.run([str(script), "test", str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "  FAIL  acme with a wrong expectation" in result.stdout
    assert result.stdout.endswith("1 passed, 1 failed (2 cases in 1 file)\n")


# ---------------------------------------------------------------------------
# reports


def test_a_failed_case_shows_every_expected_and_actual_value_side_by_side(run, tmp_path):
    result = run("test", suite(tmp_path, FAILING))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert "  PASS  acme as agreed" in lines
    at = lines.index("  FAIL  acme with a wrong expectation")
    table = [line.split() for line in lines[at + 1 : at + 9]]
    assert table[0] == ["check", "expected", "actual"]
    rows = [" ".join(row) for row in table[1:]]
    assert rows[0] == "organization: stance cloud hybrid"
    assert rows[1] == "Campaign copy: stance hybrid cloud"
    assert rows[2] == "Campaign copy: fires privacy.sensitive-data did not fire"
    assert rows[3] == "Campaign copy: does not fire scalability.bursty-demand fired"
    assert rows[4] == "Campaign copy: not weighed dataSensitivity weighed"
    assert rows[5] == "Campaign copy: not weighed regulatedBy=HIPAA not stated"


def test_json_report_lists_every_check(run, tmp_path):
    result = run("test", suite(tmp_path, FAILING), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["format"] == "infra-policy/policy-test-report@1"
    assert report["passed"] is False
    assert report["summary"] == {"files": 1, "cases": 2, "passed": 1, "failed": 1}
    failed = report["files"][0]["cases"][1]
    assert failed["name"] == "acme with a wrong expectation" and failed["line"] == 8
    assert {"subject": "organization", "check": "stance", "expected": "cloud", "actual": "hybrid", "passed": False} in (
        failed["checks"]
    )
    passing = report["files"][0]["cases"][0]["checks"]
    assert all(c["passed"] for c in passing) and len(passing) == 4


def _junit_valid(text: str) -> ET.Element:
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(text)
    return ET.fromstring(text)


def test_junit_report_validates_against_the_junit_schema_and_names_the_failure(run, tmp_path):
    output = tmp_path / "report.xml"
    result = run("test", suite(tmp_path, FAILING), "--format", "junit", "-o", output)
    assert result.exit_code == 1
    assert result.stdout == ""
    root = _junit_valid(output.read_text(encoding="utf-8"))
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "2", "1")
    (testsuite,) = root
    cases = {c.get("name"): c for c in testsuite.iter("testcase")}
    assert list(cases["acme as agreed"]) == []
    failure = cases["acme with a wrong expectation"].find("failure")
    assert failure.get("message") == "organization: stance: expected cloud, got hybrid (and 5 more)"
    assert "Campaign copy: does not fire: expected scalability.bursty-demand; actual fired" in failure.text


def test_junit_of_the_shipped_suite_is_valid_and_all_green(run):
    result = run("test", "--format", "junit")
    assert result.exit_code == 0
    root = _junit_valid(result.stdout)
    assert root.get("failures") == "0" and int(root.get("tests")) >= 19
    assert len(root) == len(list(PACKAGED_POLICY_TESTS.glob("*.yaml")))


def test_the_junit_schema_refuses_what_is_not_junit():
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _junit_valid('<testsuites><testsuite tests="1"><testcase/></testsuite></testsuites>')


def test_reports_are_deterministic(run, tmp_path):
    path = suite(tmp_path, FAILING)
    for fmt in ("text", "json", "junit"):
        assert run("test", path, "--format", fmt).stdout == run("test", path, "--format", fmt).stdout


def test_inline_turtle_and_assumptions(run, tmp_path):
    path = suite(
        tmp_path,
        f"""\
        cases:
          - name: inline
            turtle: |
              @prefix ip: <https://w3id.org/infra-policy#> .
              @prefix ex: <https://example.com/t/> .
              ex:o a ip:Organization ; ip:name "O" ; ip:modelAvailability ip:HostedOnly .
            expect:
              organization: {{stance: cloud, fires: [organization.all-cloud]}}
              fires: [constraints.hosted-only-model, stance.only-cloud-feasible]
          - name: assumed
            facts: {ACME}
            assume: ["Claims triage.connectivity=AirGapped"]
            expect:
              workloads:
                claims: {{stance: in-house, fires: [constraints.air-gapped-site]}}
                marketing: {{stance: cloud, does_not_fire: [constraints.air-gapped-site]}}
        """,
    )
    result = run("test", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("2 passed (2 cases in 1 file)\n")


def test_a_directory_of_test_files_runs_in_name_order(run, tmp_path):
    folder = tmp_path / "tests"
    folder.mkdir()
    for name in ("b.yaml", "a.yml"):
        suite(
            folder,
            f"cases:\n  - name: one\n    facts: {ACME}\n    expect: {{organization: {{stance: hybrid}}}}\n",
            name,
        )
    result = run("test", folder)
    assert result.exit_code == 0, result.output
    files = [line for line in result.stdout.splitlines() if line.endswith((".yaml", ".yml"))]
    assert files == [str(folder / "a.yml"), str(folder / "b.yaml")]


def test_output_file_is_written_and_the_terminal_stays_quiet(run, tmp_path):
    output = tmp_path / "report.txt"
    result = run("test", "-o", output)
    assert result.exit_code == 0 and result.stdout == ""
    assert output.read_text().startswith("examples/policy-tests/")


def test_coverage_of_the_test_cases(run, tmp_path):
    result = run("test", "--coverage")
    assert result.exit_code == 0, result.output
    assert "Rule coverage over 22 decisions" in result.stdout
    assert "\nCoverage: " in result.stdout
    report = json.loads(run("test", "--coverage", "--format", "json").stdout)
    assert report["coverage"]["format"] == "infra-policy/coverage@1"
    below = run("test", "--coverage", "--fail-under", "100")
    assert below.exit_code == 1
    assert "is below --fail-under 100%" in below.stderr
    junit = run("test", "--coverage", "--format", "junit")
    assert junit.exit_code == 0 and "Coverage: " in junit.stderr
    _junit_valid(junit.stdout)


# ---------------------------------------------------------------------------
# bad input: exit 2, the file, the line and the case named, nothing written

BAD = {
    "yaml": ("cases:\n  - name: x\n    facts: [\n", "suite.yaml, line 4, column 1: not valid YAML"),
    "schema": (
        "cases:\n  - name: x\n    facts: a.ttl\n    expect: {organization: {stance: sideways}}\n",
        "suite.yaml, line 4, case 'x': at cases.0.expect.organization.stance: 'sideways' is not one of",
    ),
    "both-facts": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    turtle: 'x'\n    expect: {{organization: {{stance: cloud}}}}\n",
        "suite.yaml, line 2, case 'x': at cases.0:",
    ),
    "unknown-rule": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    expect:\n      fires: [privacy.sensitive-dta]\n",
        "suite.yaml, line 5, case 'x': unknown rule id 'privacy.sensitive-dta' in fires. Did you mean "
        "'privacy.sensitive-data'?",
    ),
    "unknown-property": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    expect:\n      not_weighed: [dataSensitivty]\n",
        "unknown property 'dataSensitivty' in not_weighed. Did you mean 'dataSensitivity'?",
    ),
    "unknown-plan": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    expect:\n      organization: {{plan: split-by-worklod}}\n",
        "unknown plan 'split-by-worklod'. Did you mean 'split-by-workload'?",
    ),
    "unknown-workload": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    expect:\n      workloads:\n"
        "        Claim triage: {stance: cloud}\n",
        "suite.yaml, line 6, case 'x': there is no workload 'Claim triage' in the facts; the workloads are: "
        "Claims triage, Campaign copy",
    ),
    "missing-facts": (
        "cases:\n  - name: x\n    facts: nowhere.ttl\n    expect: {organization: {stance: cloud}}\n",
        "suite.yaml, line 3, case 'x': the facts file 'nowhere.ttl' does not exist",
    ),
    "duplicate-case": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    expect: {{organization: {{stance: hybrid}}}}\n"
        f"  - name: x\n    facts: {ACME}\n    expect: {{organization: {{stance: hybrid}}}}\n",
        "suite.yaml, line 5, case 'x': the case name is used twice (also on line 2).",
    ),
    "bad-turtle": (
        "cases:\n  - name: x\n    turtle: 'ex:o a ip:Organization .'\n    expect: {organization: {stance: cloud}}\n",
        "suite.yaml, line 2, case 'x': its inline Turtle cannot be used:",
    ),
    "invalid-inline-facts": (
        "cases:\n  - name: x\n    turtle: |\n      @prefix ip: <https://w3id.org/infra-policy#> .\n"
        '      <https://example.com/o> a ip:Organization ;\n        ip:itStaffFTE "many" .\n'
        "    expect: {organization: {stance: cloud}}\n",
        "suite.yaml, line 2, case 'x': its inline Turtle cannot be used: 1 problem in the facts:\n  - line 6: ",
    ),
    "bad-assumption": (
        f"cases:\n  - name: x\n    facts: {ACME}\n    assume: [itStaff=2]\n"
        "    expect: {organization: {stance: cloud}}\n",
        "suite.yaml, line 2, case 'x': its facts cannot be used: --set 'itStaff=2'",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_test_files_are_input_errors_naming_file_line_and_case(run, tmp_path, kind):
    body, expected = BAD[kind]
    output = tmp_path / "out.txt"
    path = suite(tmp_path, body)
    result = run("test", path, "-o", output)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")
    assert not output.exists()


def test_a_missing_test_file(run, tmp_path):
    result = run("test", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml: no such file" in result.output


def test_the_documented_test_file_passes(run, tmp_path):
    """The YAML of docs/policy-tests.md, run as written (its facts path is relative to the test file)."""
    text = (REPO / "docs" / "policy-tests.md").read_text(encoding="utf-8")
    start = text.index("```yaml\ndescription:") + len("```yaml\n")
    (tmp_path / "suite").mkdir()
    shutil.copy(ACME, tmp_path / ACME.name)
    path = tmp_path / "suite" / "documented.yaml"
    path.write_text(text[start : text.index("```", start)], encoding="utf-8")
    result = run("test", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("3 passed (3 cases in 1 file)\n")


def test_the_documented_coverage_output_is_real(run):
    text = (REPO / "docs" / "policy-tests.md").read_text(encoding="utf-8")
    block = text[text.index("$ infra-policy coverage examples/\n") :].split("```")[0].splitlines()[1:]
    real = run("coverage", EXAMPLES).stdout.splitlines()
    for line in block:
        if line != "…":
            assert line in real or any(r.startswith(line.rstrip("…").rstrip()) for r in real), line


@pytest.mark.parametrize(("command", "args"), [("test", ()), ("coverage", (EXAMPLES,))])
def test_the_readme_shows_real_output(run, command, args):
    """Every line of the README's `infra-policy test` and `coverage examples/` output is in a real run."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    shown = "$ infra-policy test\n" if command == "test" else "$ infra-policy coverage examples/\n"
    block = text[text.index(shown) + len(shown) :].split("```")[0].splitlines()
    real = run(command, *args).stdout.splitlines()
    assert block[0] == real[0] and block[-1] == real[-1]
    for line in block:
        if line != "…":
            assert line in real or any(r.startswith(line.rstrip("…").rstrip()) for r in real), line
