"""Decision records, the decision log and `infra-policy audit`: tampering is detected."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run

from infra_policy.engine.records.audit import audit_record
from infra_policy.engine.records.record import record_body, record_file_name, seal, verify_log
from infra_policy.engine.stages.load import load_facts

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


@pytest.fixture
def recorded(tmp_path):
    result = run("evaluate", MIXED, "--record", tmp_path / "records", "--format", "json", "-o", tmp_path / "d.json")
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "records").glob("*.json")
    return path


def failing(checks) -> set[str]:
    return {c.name for c in checks if not c.ok}


def test_record_is_content_addressed_and_byte_identical_for_the_same_inputs(tmp_path, recorded):
    again = tmp_path / "again"
    assert run("evaluate", MIXED, "--record", again).exit_code == 0
    (other,) = again.glob("*.json")
    assert other.name == recorded.name
    assert other.read_bytes() == recorded.read_bytes()
    record = json.loads(recorded.read_text())
    assert recorded.name == record_file_name(record["id"])
    assert {"facts", "kb", "rules"} <= set(record["decision"]["inputs"])
    assert {"infra-policy", "rdflib", "pyshacl", "durable-rules", "networkx"} <= set(record["versions"])
    assert record["firings"] and record["decision"]["justification"]["edges"]


def test_a_sound_record_passes_every_check(recorded):
    result = run("audit", recorded, "--facts", MIXED)
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS") == 6 and result.output.rstrip().endswith("audit passed")
    data = json.loads(run("audit", recorded, "--format", "json").output)
    assert data["ok"] and {c["check"] for c in data["checks"]} >= {"record digest", "justification graph"}


TAMPERS = {
    "workload stance": lambda r: r["decision"]["workloads"][0].update(stance="cloud"),
    "organization stance": lambda r: r["decision"]["organization"].update(stance="in-house"),
    "assessment weight": lambda r: r["decision"]["workloads"][0]["assessments"][0].update(weight=3),
    "firing facts": lambda r: r["firings"][0]["facts"][0].update(value="Public"),
    "input digest": lambda r: r["decision"]["inputs"].update(facts="sha256:" + "0" * 64),
    "graph edge": lambda r: r["decision"]["justification"]["edges"].pop(0),
    "engine version": lambda r: r["versions"].update({"infra-policy": "9.9.9"}),
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_every_kind_of_tampering_breaks_the_digest(evaluator, recorded, field):
    record = json.loads(recorded.read_text())
    TAMPERS[field](record)
    checks = audit_record(record, evaluator, recorded.stem)
    assert "record digest" in failing(checks)


@pytest.mark.parametrize(
    "field",
    ["workload stance", "organization stance", "assessment weight", "firing facts", "input digest", "graph edge"],
)
def test_resealed_tampering_is_caught_by_the_other_checks(evaluator, recorded, field):
    """An attacker who recomputes the id still fails the graph or the re-derivation."""
    record = json.loads(recorded.read_text())
    body = {k: v for k, v in record.items() if k != "id"}
    TAMPERS[field](body)
    resealed = seal(body)
    checks = audit_record(resealed, evaluator, None, load_facts(MIXED))
    assert failing(checks) & {"justification graph", "re-derivation"}, [c.to_dict() for c in checks]


def test_rederivation_names_the_input_that_drifted_and_what_changed(evaluator, tmp_path, recorded):
    changed = tmp_path / "changed.ttl"
    changed.write_text(MIXED.read_text().replace("ip:dataSensitivity ip:Public", "ip:dataSensitivity ip:Restricted"))
    record = json.loads(recorded.read_text())
    checks = {c.name: c for c in audit_record(record, evaluator, recorded.stem, load_facts(changed))}
    rederived = checks["re-derivation"]
    assert not rederived.ok
    assert "drifted: facts (" in rederived.detail
    assert 'decision.workloads[id=https://example.com/acme/marketing].stance: "cloud" → "hybrid"' in rederived.changes


def _leaves(data, path=()):
    """Every scalar in a JSON document, with the keys and indexes that lead to it."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path, data


def _edited(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return f"{value}x" if isinstance(value, str) else "x"


def _compared(path) -> bool:
    from infra_policy.engine.records.audit import FREE_KEYS, UNCOMPARED

    return (
        path[0] not in UNCOMPARED
        and not any(p in FREE_KEYS for p in path)
        and not (path[-1] == "label" and "nodes" in path)
    )


def test_every_single_field_resealed_edit_is_named_by_the_rederivation(evaluator, recorded):
    """The sweep the review ran: each compared field of a real record edited alone (and the record
    re-sealed, so its digest holds) is caught by the re-derivation, which names that field's path."""
    from infra_policy.engine.records.audit import record_differences

    record = json.loads(recorded.read_text())
    fresh = record_body(evaluator.evaluate_document(load_facts(MIXED)), evaluator.policy)
    assert record_differences(record, fresh) == []
    edited = 0
    for path, value in _leaves(record):
        if not _compared(path):
            continue
        forged = copy.deepcopy(record)
        target = forged
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = _edited(value)
        forged = seal({k: v for k, v in forged.items() if k != "id"})
        changes = record_differences(forged, fresh)
        assert changes, f"an edit of {path} went unnoticed"
        edited += 1
    assert edited > 1000
    # A field the record does not have (as a later record format might add) is named too.
    forged = copy.deepcopy(record)
    forged["decision"]["workloads"][0]["tally"]["new_figure"] = 1
    assert record_differences(forged, fresh) == [
        f"decision.workloads[id={record['decision']['workloads'][0]['id']}].tally.new_figure: gone (was 1)"
    ]
    # Dropping an item of a list is named by the item.
    forged = copy.deepcopy(record)
    gone = forged["decision"]["workloads"][0]["assessments"].pop()
    assert any(f"assessments[rule={gone['rule']}]: new," in c for c in record_differences(forged, fresh))


FORGERIES = {
    "placement": lambda r: r["decision"]["organization"]["placement"][0].update(stance="conflict"),
    "tally": lambda r: r["decision"]["workloads"][0]["tally"].update(margin=99),
    "reason": lambda r: r["decision"]["workloads"][0]["reasons"].append("latency.tight"),
    "fact value": lambda r: r["decision"]["workloads"][0]["facts"][0].update(value="Forged"),
    "cost": lambda r: r["decision"]["workloads"][0]["cost"].update(status="forged"),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_resealed_forgery_fails_audit_with_facts_through_the_cli(tmp_path, recorded, forgery):
    record = json.loads(recorded.read_text())
    body = {k: v for k, v in record.items() if k != "id"}
    FORGERIES[forgery](body)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(seal(body)))
    assert "FAIL  record digest" not in run("audit", forged).output  # the digest holds: it was re-sealed
    result = run("audit", forged, "--facts", MIXED, "--verbose")
    assert result.exit_code == 1, result.output
    assert "FAIL  re-derivation: the decision made again differs" in result.output
    assert "changed: decision." in result.output


def test_a_formatting_only_rewrite_of_the_facts_keeps_the_digest_and_passes(evaluator, tmp_path, recorded):
    from rdflib import Graph

    graph = Graph().parse(MIXED)
    graph.bind("acme", "https://example.com/acme/", override=True, replace=True)
    rewritten = tmp_path / "rewritten.ttl"
    rewritten.write_text("# rewritten: other prefixes, other order, comments\n" + graph.serialize(format="turtle"))
    record = json.loads(recorded.read_text())
    checks = {c.name: c for c in audit_record(record, evaluator, recorded.stem, load_facts(rewritten))}
    assert checks["re-derivation"].ok, checks["re-derivation"].detail
    assert "no input drifted" in checks["re-derivation"].detail


def test_other_rules_are_reported_as_rules_drift(kb, tmp_path, recorded):
    import shutil

    from infra_policy.engine.paths import PACKAGED_RULES
    from infra_policy.engine.pipeline import Evaluator
    from infra_policy.engine.policy.ruleload import load_policy

    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules)
    stance = rules / "stance.yaml"
    stance.write_text(stance.read_text().replace("factor_cap: 3", "factor_cap: 1"))
    other = Evaluator(kb, load_policy(kb, rules))
    checks = {
        c.name: c for c in audit_record(json.loads(recorded.read_text()), other, recorded.stem, load_facts(MIXED))
    }
    assert not checks["rules digest"].ok
    assert not checks["re-derivation"].ok and "rules (" in checks["re-derivation"].detail


def test_audit_of_unreadable_input_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run("audit", bad).exit_code == 2
    assert run("audit", tmp_path / "missing.json").exit_code == 2
    assert run("audit").exit_code == 2


def test_a_tampered_record_file_fails_the_cli_audit_with_exit_1(recorded):
    record = json.loads(recorded.read_text())
    record["decision"]["organization"]["stance"] = "cloud"
    recorded.write_text(json.dumps(record))
    result = run("audit", recorded)
    assert result.exit_code == 1 and "FAIL  record digest" in result.output


# --- the decision log --------------------------------------------------------


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "decisions.jsonl"
    for example in ("acme-mixed-workloads", "startup-cloud", "hospital-in-house", "credit-union-balanced"):
        assert run("evaluate", EXAMPLES / f"{example}.ttl", "--log", path).exit_code == 0
    return path


def test_a_sound_log_passes(log):
    result = run("audit", "--log", log)
    assert result.exit_code == 0, result.output
    assert "4 entries" in result.output


def _lines(path):
    return path.read_text().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("edit", "entry 2 (line 2) was altered"),
        ("edit-last", "trailing entries were removed or the last one altered"),
        ("delete", "entry 2 is missing before line 2 (removed)"),
        ("swap", "line 2 holds entry 3 where entry 2 belongs"),
        ("truncate-mid-line", "the last line is incomplete"),
        ("truncate-lines", "the head file records 4 entries"),
    ],
)
def test_every_kind_of_log_tampering_is_detected(log, tamper, expected):
    lines = _lines(log)
    if tamper == "edit":
        lines[1] = lines[1].replace('"stance":"cloud"', '"stance":"in-house"')
    elif tamper == "edit-last":
        lines[3] = lines[3].replace('"stance":"hybrid"', '"stance":"cloud"')
    elif tamper == "delete":
        del lines[1]
    elif tamper == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "truncate-mid-line":
        lines[3] = lines[3][:40]
    elif tamper == "truncate-lines":
        lines = lines[:2]
    changed = "".join(lines)
    assert changed != log.read_text()
    log.write_text(changed)
    result = run("audit", "--log", log)
    assert result.exit_code == 1
    assert expected in result.output, result.output


def test_verify_log_reports_the_first_problem_first():
    count, problems = verify_log("")
    assert count == 0 and problems == []


APPEND = """
import sys
from infra_policy.cli.main import main
for _ in range({n}):
    try:
        main(["evaluate", {example!r}, "--log", {log!r}])
    except SystemExit as exit:
        assert not exit.code, exit.code
"""


def test_concurrent_appends_from_two_processes_keep_the_chain(tmp_path):
    log = tmp_path / "shared.jsonl"
    env = dict(os.environ)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPEND.format(n=6, example=str(EXAMPLES / name), log=str(log))],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ("startup-cloud.ttl", "hospital-in-house.ttl")
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    count, problems = verify_log(log.read_text())
    assert count == 12 and problems == []
    organizations = [json.loads(line)["organization"]["name"] for line in log.read_text().splitlines()]
    assert sorted(set(organizations)) == ["Nimbus Labs", "St. Brigid Regional Hospital"]
    assert run("audit", "--log", log).exit_code == 0


def test_record_body_is_pure(evaluator):
    ev = evaluator.evaluate_file(MIXED)
    first = record_body(ev, evaluator.policy)
    second = copy.deepcopy(record_body(ev, evaluator.policy))
    assert seal(first)["id"] == seal(second)["id"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ttl")), ids=lambda p: p.stem)
def test_every_example_records_and_audits_clean(evaluator, path):
    record = seal(record_body(evaluator.evaluate_file(path), evaluator.policy))
    checks = audit_record(record, evaluator, record["id"].removeprefix("sha256:"), load_facts(path))
    assert all(c.ok for c in checks), [c.to_dict() for c in checks if not c.ok]


@pytest.mark.parametrize("bad", [{}, "not an iri", ""])
def test_a_sealed_record_whose_justification_names_no_iri_fails_audit_and_is_not_published(tmp_path, bad):
    # found by the sealed-records fuzz class: a node subject of {} passed audit and crashed the site
    # while serializing the PROV twins (exit 3)
    folder = tmp_path / "made"
    assert run("evaluate", EXAMPLES / "acme-mixed-workloads.ttl", "--record", folder).exit_code == 0
    (made,) = folder.glob("*.json")
    body = {k: v for k, v in json.loads(made.read_text()).items() if k != "id"}
    (node,) = [n for n in body["decision"]["justification"]["nodes"] if "subject" in n][:1]
    node["subject"] = bad
    sealed = seal(body)
    records = tmp_path / "records"
    records.mkdir()
    path = records / record_file_name(sealed["id"])
    path.write_text(json.dumps(sealed))
    audited = run("audit", path)
    assert audited.exit_code == 1
    assert "FAIL  justification graph: nodes whose id, subject or property is not an IRI" in audited.output
    published = run("site", "--records", records, "-o", tmp_path / "site")
    assert published.exit_code == 2 and "a justification node whose subject is not an IRI" in published.output
