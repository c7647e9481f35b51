"""Inputs that `validate` used to call valid and `evaluate` then crashed on (issue 16, items 7, 8 and 13).

Each is a real file run through the real command line: a clear error (exit 2)
or a decision, never an internal error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run

NORTHWIND = EXAMPLES / "northwind-cost-model.ttl"
PREFIXES = "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/acme/> .\n"
ORGANIZATION = 'ip:name "Acme" ; ip:hasWorkload ex:chat .\nex:chat a ip:Workload ; ip:name "Chat" .\n'


def _cli_subprocess(*args, seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "infra_policy.cli.main", *map(str, args)], capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize("seed", ["0", "1", "2"])
def test_a_long_rdf_list_is_digested_without_recursion(tmp_path, seed):
    """A 2,000-item list is a chain of 2,000 blank nodes; its digest is the same under every hash seed."""
    items = " ".join(f'"item {i}"' for i in range(2000))
    facts = tmp_path / "list.ttl"
    facts.write_text(
        PREFIXES
        + "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        + f"ex:acme a ip:Organization ; rdfs:comment ( {items} ) ; {ORGANIZATION}"
    )
    result = _cli_subprocess("evaluate", facts, "--format", "json", seed=seed)
    assert result.returncode == 0, result.stderr
    digest = json.loads(result.stdout)["inputs"]["facts"]
    again = _cli_subprocess("evaluate", facts, "--format", "json", seed="99")
    assert json.loads(again.stdout)["inputs"]["facts"] == digest


def test_a_cost_input_of_401_digits_is_refused_by_validate_and_evaluate(tmp_path):
    facts = tmp_path / "huge.ttl"
    huge = "ip:inHouseHardwareUSD 1" + "0" * 400
    facts.write_text(NORTHWIND.read_text().replace("ip:inHouseHardwareUSD 250000", huge))
    for command in ("validate", "evaluate"):
        result = run(command, facts)
        assert result.exit_code == 2, result.output
        assert "ip:inHouseHardwareUSD has the value 1000" in result.output
        assert "infra-policy cannot compare" in result.output and "internal error" not in result.output


@pytest.mark.parametrize(
    "name, content",
    [
        ("facts.ttl", PREFIXES + "ex:acme a ip:Organization ; ip:itStaffFTE 1" + "0" * 5000 + " ; " + ORGANIZATION),
        (
            "facts.jsonld",
            '{"@context": {"ip": "https://w3id.org/infra-policy#"}, "@id": "https://example.com/acme/acme", '
            '"@type": "ip:Organization", "ip:itStaffFTE": 1' + "0" * 5000 + "}",
        ),
    ],
    ids=["turtle", "json-ld"],
)
def test_a_5001_digit_number_gives_a_clear_error(tmp_path, name, content):
    facts = tmp_path / name
    facts.write_text(content)
    result = run("evaluate", facts)
    assert result.exit_code == 2, result.output
    assert "a number has more than 4,300 digits" in result.output
    assert "sys.set_int_max_str_digits" not in result.output


def test_a_blank_node_organization_is_refused_like_a_blank_node_workload(tmp_path):
    facts = tmp_path / "blank.ttl"
    facts.write_text(PREFIXES + "[] a ip:Organization ; " + ORGANIZATION)
    for command in ("validate", "evaluate"):
        result = run(command, facts)
        assert result.exit_code == 2, result.output
        assert "line 3: the organization is a blank node" in result.output


# --- limits that hold while parsing (item 11) ------------------------------------------------


def _workloads_turtle(count: int) -> str:
    lines = [PREFIXES, 'ex:acme a ip:Organization ; ip:name "Acme" .']
    lines += [f'ex:acme ip:hasWorkload ex:w{i} . ex:w{i} a ip:Workload ; ip:name "W{i}" .' for i in range(count)]
    return "\n".join(lines) + "\n"


def test_more_workloads_than_the_limit_are_refused_before_evaluation(tmp_path):
    from infra_policy.engine.stages.inputs import DEFAULT_LIMITS

    facts = tmp_path / "many.ttl"
    facts.write_text(_workloads_turtle(DEFAULT_LIMITS.max_workloads + 1))
    result = run("evaluate", facts)
    assert result.exit_code == 2
    assert f"more than {DEFAULT_LIMITS.max_workloads:,} workloads" in result.output
    assert "--max-workloads" in result.output
    small = tmp_path / "small.ttl"
    small.write_text(_workloads_turtle(3))
    assert run("validate", small, "--max-workloads", 2).exit_code == 2
    assert run("validate", small, "--max-workloads", 3).exit_code == 0


def _as(format_name: str, turtle: str) -> str:
    from rdflib import Dataset, Graph

    graph = Graph().parse(data=turtle, format="turtle")
    if format_name in ("nquads", "trig"):
        dataset = Dataset()
        named = dataset.graph("https://example.com/graph")
        for triple in graph:
            named.add(triple)
        return dataset.serialize(format=format_name)
    return graph.serialize(format=format_name)


@pytest.mark.parametrize(
    "suffix, rdflib_format",
    [(".ttl", "turtle"), (".nt", "nt"), (".nq", "nquads"), (".trig", "trig"), (".jsonld", "json-ld"), (".rdf", "xml")],
)
def test_every_format_stops_at_the_triple_and_workload_limits(tmp_path, suffix, rdflib_format):
    facts = tmp_path / f"facts{suffix}"
    facts.write_text(_as(rdflib_format, _workloads_turtle(40)))  # 2 + 3 * 40 triples
    refused = run("evaluate", facts, "--max-triples", 100)
    assert refused.exit_code == 2 and "more than 100 triples" in refused.output, refused.output
    refused = run("evaluate", facts, "--max-workloads", 39)
    assert refused.exit_code == 2 and "more than 39 workloads" in refused.output, refused.output
    assert run("validate", facts).exit_code == 0


# --- smaller items (item 13) -------------------------------------------------------------------


def _rules_with(tmp_path, old: str, new: str):
    import shutil

    from infra_policy.engine.paths import PACKAGED_RULES

    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules)
    latency = rules / "latency.yaml"
    text = latency.read_text()
    assert old in text
    latency.write_text(text.replace(old, new, 1))
    return rules


def test_rules_list_escapes_terminal_control_characters_from_titles(tmp_path):
    import yaml

    from infra_policy.engine.paths import PACKAGED_RULES

    title = yaml.safe_load((PACKAGED_RULES / "latency.yaml").read_text())["rules"][0]["title"]
    rules = _rules_with(tmp_path, f"title: {title}", 'title: "\\e]0;pwned\\a\\e[2J A hostile title."')
    result = run("rules", "list", "--rules", rules)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07\\x1b[2J A hostile title." in result.output


def test_a_nan_rule_operand_is_refused(tmp_path):
    rules = _rules_with(tmp_path, "less_than: 50}", "less_than: .nan}")
    result = run("rules", "list", "--rules", rules)
    assert result.exit_code == 2, result.output
    assert "latency.yaml" in result.output and "nan cannot be compared by the rule engine" in result.output


def test_audit_log_with_a_huge_sequence_number_answers_at_once(tmp_path):
    log = tmp_path / "decisions.jsonl"
    assert run("evaluate", NORTHWIND, "--log", log).exit_code == 0
    entry = json.loads(log.read_text())
    entry["seq"] = 10_000_000_000_000
    log.write_text(json.dumps(entry) + "\n")
    result = run("audit", "--log", log)
    assert result.exit_code == 1
    assert "entries 1–9999999999999 is missing before line 1 (removed)" in result.output


def test_a_sealed_but_malformed_record_is_refused_by_site_and_audit(tmp_path):
    from test_errors_catalogue import MALFORMED_RECORD

    folder = tmp_path / "records"
    folder.mkdir()
    record = folder / "malformed.json"
    record.write_text(json.dumps(MALFORMED_RECORD))
    published = run("site", "--records", folder, "-o", tmp_path / "site")
    assert published.exit_code == 2, published.output
    assert "malformed.json: not a decision document that can be published" in published.output
    assert not (tmp_path / "site").exists()
    audited = run("audit", record)
    assert audited.exit_code in (1, 2) and "internal error" not in audited.output, audited.output


def test_an_n_quads_syntax_error_names_its_line(tmp_path):
    facts = tmp_path / "facts.nq"
    facts.write_text(
        "# a comment\n"
        '<https://example.com/acme/acme> <https://w3id.org/infra-policy#name> "Acme" <https://example.com/g> .\n'
        "<https://example.com/acme/acme> <https://w3id.org/infra-policy#name> Acme <https://example.com/g> .\n"
    )
    result = run("validate", facts)
    assert result.exit_code == 2
    assert f"{facts}, line 3: not valid N-Quads" in result.output


def test_a_syntax_error_never_quotes_a_file_reached_through_a_link_of_another_kind(tmp_path):
    secret = tmp_path / "notes.txt"
    secret.write_text("api-key: not-for-your-logs\n")
    link = tmp_path / "facts.ttl"
    link.symlink_to(secret)
    result = run("evaluate", link)
    assert result.exit_code == 2
    assert "is a link to notes.txt" in result.output
    assert "not-for-your-logs" not in result.output
    # a link whose target is a facts file of the same kind reads as usual
    same_kind = tmp_path / "latest.ttl"
    same_kind.symlink_to(EXAMPLES / "acme-mixed-workloads.ttl")
    assert run("validate", same_kind).exit_code == 0


def test_relative_iris_do_not_depend_on_the_folder_or_leak_it(tmp_path):
    text = (
        "@prefix ip: <https://w3id.org/infra-policy#> .\n"
        '<#acme> a ip:Organization ; ip:name "Acme" ; ip:hasWorkload <chat> .\n'
        '<chat> a ip:Workload ; ip:name "Chat" ; ip:dataSensitivity ip:Internal .\n'
    )
    ids = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        facts = tmp_path / folder / "facts.ttl"
        facts.write_text(text)
        result = run("evaluate", facts, "--format", "json", "--record", tmp_path / folder / "records")
        assert result.exit_code == 0, result.output
        (record,) = (tmp_path / folder / "records").glob("*.json")
        ids.append(record.name)
        assert str(tmp_path) not in record.read_text()
    assert ids[0] == ids[1]
    site = tmp_path / "site"
    assert run("site", tmp_path / "one" / "facts.ttl", "-o", site).exit_code == 0
    assert not [p for p in site.rglob("*") if p.is_file() and str(tmp_path).encode() in p.read_bytes()]


def test_a_sealed_record_whose_risk_is_null_is_refused_by_the_site_naming_its_file(tmp_path):
    # found by bench/fuzz.py (sealed-records): the template reached into the null risk
    from infra_policy.engine.records.record import seal

    assert run("evaluate", EXAMPLES / "acme-mixed-workloads.ttl", "--record", tmp_path / "made").exit_code == 0
    (made,) = (tmp_path / "made").glob("*.json")
    body = {k: v for k, v in json.loads(made.read_text()).items() if k != "id"}
    workload = next(w for w in body["decision"]["workloads"] if w.get("risks"))
    workload["risks"][0] = None
    sealed = seal(body)
    folder = tmp_path / "records"
    folder.mkdir()
    file = folder / (sealed["id"].removeprefix("sha256:") + ".json")
    file.write_text(json.dumps(sealed))
    published = run("site", "--records", folder, "-o", tmp_path / "site")
    assert published.exit_code == 2, published.output
    assert f"{file.name}: not a decision document that can be published" in published.output
    assert not (tmp_path / "site").exists()
