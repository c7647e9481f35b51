"""One command line: the same input options everywhere, documents with --format and -o, stdin, help."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from infra_policy.cli.main import main

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"
FACTS_COMMANDS = (["evaluate"], ["validate"], ["explain"], ["site"], ["audit"])


def _commands(group: click.Group = main, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def _option_names(command: click.Command) -> set[str]:
    return {opt for p in command.params for opt in getattr(p, "opts", [])}


@pytest.mark.parametrize("path", FACTS_COMMANDS, ids=" ".join)
def test_every_command_that_reads_facts_has_the_same_input_options(path):
    command = main.get_command(None, path[0])
    assert {"--input-format", "--max-bytes", "--max-triples", "--max-workloads"} <= _option_names(command)


def test_every_command_with_a_document_has_format_and_output():
    for path, command in _commands():
        # site writes a folder and keys generate a key pair: files, not a document
        if isinstance(command, click.Group) or path in (("site",), ("keys", "generate")):
            continue
        names = _option_names(command)
        if path == ("init",):
            assert {"-o", "--output"} <= names
            continue
        assert {"--format", "-o", "--output"} <= names, path


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "-", "--format", "json"],
        ["validate", "-", "--format", "json"],
        ["explain", "-", "--format", "json"],
    ],
    ids=lambda a: a[0],
)
def test_facts_from_standard_input(args):
    text = MIXED.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, args, input=text, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    from_file = CliRunner().invoke(main, [args[0], str(MIXED), *args[2:]], catch_exceptions=False)
    if args[0] == "validate":
        assert json.loads(result.output)["source"] == "<stdin>"
        assert json.loads(result.output)["workloads"] == json.loads(from_file.output)["workloads"]
    else:
        # the same graph, the same decision; only where the file is named differs
        assert result.output.replace("<stdin>", "F") == from_file.output.replace(str(MIXED), "F")


def test_stdin_with_another_format_and_the_limits(tmp_path):
    from rdflib import Graph

    nt = Graph().parse(MIXED).serialize(format="nt")
    ok = CliRunner().invoke(main, ["evaluate", "-", "--input-format", "N-Triples", "--format", "json"], input=nt)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["organization"]["stance"] == "hybrid"
    too_big = CliRunner().invoke(main, ["validate", "-", "--max-bytes", "100"], input=nt)
    assert too_big.exit_code == 2 and "<stdin>: the file is more than the limit of 100 bytes" in too_big.output


def test_audit_reads_facts_from_stdin(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["evaluate", str(MIXED), "--record", str(tmp_path)]).exit_code == 0
    (record,) = tmp_path.glob("*.json")
    text = MIXED.read_text(encoding="utf-8")
    result = runner.invoke(main, ["audit", str(record), "--facts", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True


def test_site_reads_one_facts_file_from_stdin(tmp_path):
    out = tmp_path / "site"
    text = MIXED.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["site", "-", "-o", str(out)], input=text, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "published 1 decision" in result.output
    assert "Acme Insurance" in (out / "index.html").read_text(encoding="utf-8")


def test_validate_json_and_output_file(tmp_path, run):
    target = tmp_path / "v.json"
    result = run("validate", MIXED, "--format", "json", "-o", target)
    assert result.exit_code == 0 and result.output == ""
    data = json.loads(target.read_text())
    assert data["valid"] is True and data["organization"] == "Acme Insurance"
    assert data["workloads"] == ["Claims triage", "Campaign copy"] and data["warnings"] == []


@pytest.mark.parametrize("args", [["explain", MIXED], ["rules", "list"]], ids=lambda a: a[0])
def test_output_files_hold_what_stdout_would(args, run, tmp_path):
    target = tmp_path / "out.txt"
    assert run(*args, "-o", target).exit_code == 0
    assert target.read_text(encoding="utf-8") == run(*args).output


def test_audit_report_to_a_file_keeps_the_exit_status(run, tmp_path):
    assert run("evaluate", MIXED, "--record", tmp_path).exit_code == 0
    (record,) = tmp_path.glob("*.json")
    report = tmp_path / "report.txt"
    assert run("audit", record, "-o", report).exit_code == 0
    assert report.read_text().endswith("audit passed\n")
    tampered = json.loads(record.read_text())
    tampered["decision"]["organization"]["stance"] = "cloud"
    record.write_text(json.dumps(tampered))
    assert run("audit", record, "-o", report).exit_code == 1
    assert report.read_text().endswith("audit FAILED\n")


@pytest.mark.parametrize(
    "spelling", ["customer support chatbot", "CUSTOMER SUPPORT CHATBOT", "  Customer   support chatbot "]
)
def test_why_matches_names_whatever_the_case(spelling, run, tmp_path):
    facts = tmp_path / "facts.ttl"
    facts.write_text(
        "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/l/> .\n"
        'ex:firm a ip:Organization ; ip:name "Logistics Ltd" ; ip:hasWorkload ex:support-bot .\n'
        'ex:support-bot a ip:Workload ; ip:name "Customer support chatbot" ; ip:dataSensitivity ip:Internal .\n'
    )
    exact = run("explain", facts, "--why", "support-bot")
    assert exact.exit_code == 0, exact.output
    result = run("explain", facts, "--why", spelling)
    assert result.exit_code == 0, result.output
    assert result.output == exact.output
    assert run("explain", facts, "--why", "logistics ltd").exit_code == 0
    assert run("explain", facts, "--why", "PRIVACY").output == run("explain", facts, "--why", "privacy").output
    assert run("explain", facts, "--why-not", "Cloud").exit_code == 0


def test_audit_usage_shows_the_record_as_optional(run):
    assert "audit [OPTIONS] [RECORD]\n" in run("audit", "--help").output


def _help_texts():
    yield (), main
    yield from _commands()


@pytest.mark.parametrize("path,command", list(_help_texts()), ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_help_fits_80_columns_without_truncation(path, command):
    # a wide terminal must not widen the help, and no description may be cut short with "..."
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    too_wide = [line for line in result.output.splitlines() if len(line) > 80]
    assert too_wide == []
    described = [line for line in result.output.splitlines() if not line.startswith("Usage:")]
    assert not [line for line in described if line.rstrip().endswith("...")]  # click's mark of a cut description


def test_help_points_at_init_not_at_a_folder_pip_does_not_install(run):
    text = run("--help").output
    assert "init --template" in text
    assert "examples/" not in text


def test_no_colour_codes_even_on_a_terminal_with_no_color(tmp_path):
    # `script` gives the program a real terminal; NO_COLOR must still mean plain text
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color"}
    program = os.path.join(os.path.dirname(sys.executable), "infra-policy")
    for args in (["evaluate", str(MIXED)], ["validate", str(tmp_path / "missing.ttl")], ["--help"]):
        result = subprocess.run(
            ["script", "-qec", " ".join([program, *args]), "/dev/null"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.stdout, result.stderr
        assert not re.search(r"\x1b\[[0-9;]*m", result.stdout), args
