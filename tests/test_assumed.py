"""`evaluate --set`: facts assumed on top of a facts file, and how records, logs and audits keep them apart.

Everything runs through the real CLI (click's runner, one true subprocess) on the shipped examples.
"""

import copy
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import infra_policy
from infra_policy.cli.main import main
from infra_policy.engine.records.record import record_text, seal

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MIXED = EXAMPLES / "acme-mixed-workloads.ttl"
LEAN = ("itStaffFTE=0.5", "capitalBudgetUSD=10000", "hasDataCenter=false")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def sets(*changes):
    return [arg for change in changes for arg in ("--set", change)]


def test_evaluate_set_says_what_was_assumed_and_marks_it_in_the_reasons():
    result = run("evaluate", MIXED, *sets(*LEAN))
    assert result.exit_code == 0, result.output
    head = result.output.split("\n\n")[0]
    assert head.splitlines() == [
        "Assumed (not stated in the facts):",
        "  • Acme Insurance: IT staff (FTE) 0.5 (instead of 4)",
        "  • Acme Insurance: capital budget (USD) 10,000 (instead of 400,000)",
        "  • Acme Insurance: has data center no (instead of yes)",
    ]
    assert "Acme Insurance: CLOUD" in result.output
    # the facts behind a reason say they were assumed, and have no line in the file
    assert "capital budget (USD): 10,000 (assumed, organization default, ex:acme)" in result.output
    # facts that were stated keep their lines
    assert "demand pattern: bursty (ex:marketing, line 57)" in result.output
    # without --set nothing is said to be assumed
    assert "assumed" not in run("evaluate", MIXED).output.lower()


def test_evaluate_set_json_lists_the_assumptions_and_flags_each_assumed_fact():
    result = run("evaluate", MIXED, *sets("Campaign copy.usersLocation=OnPremises"), "--format", "json")
    data = json.loads(result.output)
    assert data["assumed"] == [
        {
            "subject": "https://example.com/acme/marketing",
            "name": "Campaign copy",
            "property": "usersLocation",
            "value": "OnPremises",
            "replaces": ["Global"],
        }
    ]
    (campaign,) = [w for w in data["workloads"] if w["name"] == "Campaign copy"]
    flagged = [f for f in campaign["facts"] if f.get("assumed")]
    assert [(f["property"], f["value"]) for f in flagged] == [("usersLocation", "OnPremises")]
    assert "lines" not in flagged[0]
    nodes = [n for n in data["justification"]["nodes"] if n.get("assumed")]
    assert nodes and all(n["kind"] == "fact" and n["label"].endswith("(assumed)") for n in nodes)
    # the facts digest is that of the file as stated: the assumptions are listed apart
    plain = json.loads(run("evaluate", MIXED, "--format", "json").output)
    assert data["inputs"] == plain["inputs"]
    assert "assumed" not in plain


def test_a_record_made_with_assumptions_audits_with_the_same_assumptions(tmp_path):
    made = run("evaluate", MIXED, *sets(*LEAN), "--record", tmp_path / "rec", "--log", tmp_path / "log.jsonl")
    assert made.exit_code == 0, made.output
    (record_file,) = (tmp_path / "rec").glob("*.json")
    entry = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])
    assert [a["property"] for a in entry["assumed"]] == ["itStaffFTE", "capitalBudgetUSD", "hasDataCenter"]
    audit = run("audit", record_file, "--facts", MIXED)
    assert audit.exit_code == 0, audit.output
    assert "re-derivation: the decision made again with the 3 facts the record assumed, not stated in the facts" in (
        audit.output
    )
    assert "IT staff (FTE) 0.5 (instead of 4)" in audit.output
    # the facts with the assumed values written in are not the facts the record was made from
    lean = tmp_path / "lean.ttl"
    lean.write_text(
        MIXED.read_text()
        .replace("ip:itStaffFTE 4", "ip:itStaffFTE 0.5")
        .replace("ip:capitalBudgetUSD 400000", "ip:capitalBudgetUSD 10000")
        .replace("ip:hasDataCenter true", "ip:hasDataCenter false")
    )
    assert lean.read_text() != MIXED.read_text()
    stated = run("audit", record_file, "--facts", lean)
    assert stated.exit_code == 1 and "the facts given are not those of the record" in stated.output


def _strip_assumed(value):
    """The record with every mark of an assumption removed: the assumed facts passed off as stated."""
    if isinstance(value, dict):
        out = {k: _strip_assumed(v) for k, v in value.items() if k != "assumed"}
        if out.get("kind") == "fact" and isinstance(out.get("label"), str):
            out["label"] = out["label"].removesuffix(" (assumed)")
        return out
    if isinstance(value, list):
        return [_strip_assumed(v) for v in value]
    return value


def _resealed(body: dict, directory: Path) -> Path:
    record = seal({k: v for k, v in body.items() if k != "id"})
    path = directory / (record["id"].removeprefix("sha256:") + ".json")
    path.write_text(record_text(record))
    return path


def test_assumed_facts_relabelled_as_stated_fail_the_audit(tmp_path):
    record = infra_policy.evaluate(MIXED, assume=LEAN).record()
    forged = _resealed(_strip_assumed(record), tmp_path)
    audit = run("audit", forged, "--facts", MIXED)
    assert audit.exit_code == 1
    assert "PASS  record digest" in audit.output  # re-sealed: only re-deriving can tell
    assert "FAIL  re-derivation" in audit.output
    # only the flags on the facts (the list of assumptions kept): caught too
    flags_only = copy.deepcopy(record)
    for w in flags_only["decision"]["workloads"]:
        w["facts"] = [{k: v for k, v in f.items() if k != "assumed"} for f in w["facts"]]
    audit = run("audit", _resealed(flags_only, tmp_path), "--facts", MIXED)
    assert audit.exit_code == 1
    # and the report says which facts were passed off as stated, in words
    assert "IT staff (FTE) 0.5 (stated) → 0.5 (assumed)" in audit.output


def test_stated_facts_relabelled_as_assumed_fail_the_audit(tmp_path):
    lean = tmp_path / "lean.ttl"
    lean.write_text(MIXED.read_text().replace("ip:itStaffFTE 4", "ip:itStaffFTE 0.5"))
    record = infra_policy.evaluate(lean).record()
    assert run("audit", _resealed(record, tmp_path), "--facts", lean).exit_code == 0
    # claim that the 0.5 stated in the file was assumed in place of the 4 of another file
    forged = copy.deepcopy(record)
    org = forged["decision"]["organization"]
    forged["decision"] = {
        "assumed": [
            {"subject": org["id"], "name": org["name"], "property": "itStaffFTE", "value": "0.5", "replaces": ["4"]}
        ],
        **forged["decision"],
    }
    for w in forged["decision"]["workloads"]:
        for f in w["facts"]:
            if f["property"] == "itStaffFTE":
                f["assumed"] = True
                f.pop("lines", None)
    audit = run("audit", _resealed(forged, tmp_path), "--facts", lean)
    assert audit.exit_code == 1 and "FAIL  re-derivation" in audit.output
    # an assumption about a subject the facts do not describe is named
    elsewhere = copy.deepcopy(forged)
    elsewhere["decision"]["assumed"][0]["subject"] = "https://example.com/other/org"
    audit = run("audit", _resealed(elsewhere, tmp_path), "--facts", lean)
    assert audit.exit_code == 1
    assert "which the facts given do not describe" in audit.output


def test_evaluate_set_errors_are_the_facts_files_messages():
    unknown = run("evaluate", MIXED, "--set", "itStafFTE=2")
    assert unknown.exit_code == 2 and "Did you mean itStaffFTE?" in unknown.output
    workload = run("evaluate", MIXED, "--set", "Chatbot.itStaffFTE=2")
    assert workload.exit_code == 2 and "no workload 'Chatbot'" in workload.output
    bad = run("evaluate", MIXED, "--set", "dataSensitivity=Secret")
    assert bad.exit_code == 2 and "ip:Secret, which is not allowed" in bad.output
    assert "Traceback" not in bad.output
    several = run("evaluate", MIXED, EXAMPLES / "startup-cloud.ttl", "--set", "itStaffFTE=2")
    assert several.exit_code == 2 and "give one FACTS file" in several.output


def test_explain_set_explains_the_decision_on_the_assumed_facts():
    text = run("explain", MIXED, *sets(*LEAN), "--why-not", "in-house").output
    assert text.startswith("Assumed (not stated in the facts):\n")
    assert "Claims triage: cloud, not in-house" in text
    data = json.loads(run("explain", MIXED, *sets(*LEAN), "--contrast", "in-house", "--format", "json").output)
    assert [a["property"] for a in data["assumed"]] == ["itStaffFTE", "capitalBudgetUSD", "hasDataCenter"]
    (claims,) = [c for c in data["contrasts"] if c["name"] == "Claims triage"]
    assert claims["stance"] == "cloud"
    tree = run("explain", MIXED, *sets("itStaffFTE=0.5"), "--why", "Claims triage").output
    assert "(assumed)" in tree


def test_evaluate_set_in_a_real_process(tmp_path):
    command = [sys.executable, "-m", "infra_policy.cli.main", "evaluate", str(MIXED)]
    command += ["--set", "modelAvailability=HostedOnly"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Acme Insurance: model availability hosted only" in done.stdout
    assert "Claims triage  cloud" in done.stdout


def test_a_decision_and_record_with_assumptions_follow_the_schemas():
    import jsonschema
    from referencing import Registry, Resource

    docs = Path(__file__).resolve().parent.parent / "docs"
    decision_schema = json.loads((docs / "decision.schema.json").read_text())
    record_schema = json.loads((docs / "record.schema.json").read_text())
    registry = Registry().with_resource("decision.schema.json", Resource.from_contents(decision_schema))
    registry = registry.with_resource(decision_schema["$id"], Resource.from_contents(decision_schema))
    decision = infra_policy.evaluate(MIXED, assume=LEAN)
    jsonschema.validate(decision.to_dict(), decision_schema)
    validator = jsonschema.Draft202012Validator(record_schema, registry=registry)
    validator.validate(decision.record())
    # a decision whose `assumed` entry lacks what it replaced is not a decision@1 document
    broken = decision.to_dict()
    del broken["assumed"][0]["replaces"]
    assert list(jsonschema.Draft202012Validator(decision_schema).iter_errors(broken))


def test_the_prov_export_marks_assumed_facts():
    from rdflib import Graph, Literal, URIRef

    turtle = infra_policy.evaluate(MIXED, assume=["itStaffFTE=0.5"]).to_rdf("turtle")
    g = Graph().parse(data=turtle, format="turtle")
    assumed = set(g.subjects(URIRef("https://w3id.org/infra-policy#assumed"), Literal(True)))
    predicates = {g.value(s, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate")) for s in assumed}
    assert predicates == {URIRef("https://w3id.org/infra-policy#itStaffFTE")}
