"""The published JSON Schemas describe what infra-policy writes: every golden decision and fresh records."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from conftest import GOLDEN, REPO, example_files
from referencing import Registry, Resource

import infra_policy

DECISION_SCHEMA = json.loads((REPO / "docs" / "decision.schema.json").read_text(encoding="utf-8"))
RECORD_SCHEMA = json.loads((REPO / "docs" / "record.schema.json").read_text(encoding="utf-8"))
REGISTRY = Registry().with_resources(
    [(schema["$id"], Resource.from_contents(schema)) for schema in (DECISION_SCHEMA, RECORD_SCHEMA)]
)


def _validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=REGISTRY, format_checker=jsonschema.FormatChecker())


def _errors(schema: dict, instance: object) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(schema).iter_errors(instance)]


GOLDENS = sorted(GOLDEN.glob("*.json"))


def test_there_are_goldens_to_check():
    assert GOLDENS


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_every_example_decision_validates_as_made_now(path):
    assert _errors(DECISION_SCHEMA, infra_policy.evaluate(path).to_dict()) == []


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: p.stem)
def test_every_golden_decision_validates(path):
    assert _errors(DECISION_SCHEMA, json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", example_files()[:4], ids=lambda p: p.stem)
def test_a_fresh_record_validates(path, run, tmp_path):
    result = run("evaluate", path, "--record", tmp_path)
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("*.json")
    record = json.loads(written.read_text(encoding="utf-8"))
    assert _errors(RECORD_SCHEMA, record) == []
    assert _errors(RECORD_SCHEMA, infra_policy.evaluate(path).record()) == []


def _fresh(name: str = "acme-mixed-workloads") -> dict:
    return infra_policy.evaluate(REPO / "examples" / f"{name}.ttl").to_dict()


def test_the_schemas_reject_what_is_not_a_decision():
    good = _fresh()
    for mutate, where in (
        (lambda d: d.update(format="infra-policy/decision@2"), "format"),
        (lambda d: d["organization"].update(stance="maybe"), "organization/stance"),
        (lambda d: d["workloads"][0].pop("assessments"), "workloads/0"),
        (lambda d: d["inputs"].update(facts="md5:0"), "inputs/facts"),
        (lambda d: d["organization"].pop("hybrid_plan"), "organization"),  # hybrid names its plan
        (lambda d: d["workloads"][0].update(hybrid_plan=d["organization"]["hybrid_plan"]), "workloads/0"),
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        errors = _errors(DECISION_SCHEMA, bad)
        assert errors and errors[0].startswith(where), errors


def test_fields_may_be_added_within_the_format():
    extended = _fresh()
    extended["organization"]["closeness"] = 0.4
    extended["workloads"][0]["not_weighed_note"] = "a field of a later version"
    extended["workloads"][0]["mitigations"] = [{"risk": "privacy.sensitive-data", "by": "ZeroDataRetention"}]
    assert _errors(DECISION_SCHEMA, extended) == []
