"""Signed records and log heads (issue 16): a re-sealed forgery no longer passes `audit --trust`."""

from __future__ import annotations

import json
import stat

from conftest import EXAMPLES
from conftest import invoke_cli as run

from infra_policy.engine.records.record import seal

STARTUP = EXAMPLES / "startup-cloud.ttl"


def _signed(tmp_path):
    assert run("keys", "generate", tmp_path / "key").exit_code == 0
    result = run(
        "evaluate", STARTUP, "--record", tmp_path / "r", "--log", tmp_path / "d.jsonl", "--sign", tmp_path / "key"
    )
    assert result.exit_code == 0, result.output
    (record,) = (tmp_path / "r").glob("*.json")
    return record


def test_keys_are_written_private_and_never_overwritten(tmp_path):
    assert run("keys", "generate", tmp_path / "key").exit_code == 0
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    assert (tmp_path / "key.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = run("keys", "generate", tmp_path / "key")
    assert again.exit_code == 2 and "already exists" in again.output


def test_a_signed_record_and_log_head_pass_audit_trust(tmp_path):
    record = _signed(tmp_path)
    result = run("audit", record, "--facts", STARTUP, "--trust", tmp_path / "key.pub")
    assert result.exit_code == 0, result.output
    assert "PASS  signature: signed by the trusted key" in result.output
    log = run("audit", "--log", tmp_path / "d.jsonl", "--trust", tmp_path / "key.pub")
    assert log.exit_code == 0 and "PASS  signature" in log.output, log.output


def test_a_resealed_edit_fails_the_signature_even_without_facts(tmp_path):
    record = _signed(tmp_path)
    data = json.loads(record.read_text())
    body = {k: v for k, v in data.items() if k != "id"}
    body["decision"]["organization"]["stance"] = "in-house"
    forged = seal(body)  # the digest holds again; the forger renames the file and the old signature too
    renamed = record.with_name(forged["id"].removeprefix("sha256:") + ".json")
    renamed.write_text(json.dumps(forged))
    record.with_name(record.name + ".sig").rename(renamed.with_name(renamed.name + ".sig"))
    result = run("audit", renamed, "--trust", tmp_path / "key.pub")
    assert result.exit_code == 1
    assert "PASS  record digest" in result.output
    assert "FAIL  signature:" in result.output and "the content changed" in result.output


def test_a_missing_or_foreign_signature_fails(tmp_path):
    record = _signed(tmp_path)
    assert run("keys", "generate", tmp_path / "other").exit_code == 0
    foreign = run("audit", record, "--trust", tmp_path / "other.pub")
    assert foreign.exit_code == 1 and "made with another key than the one trusted" in foreign.output
    record.with_name(record.name + ".sig").unlink()
    missing = run("audit", record, "--trust", tmp_path / "key.pub")
    assert missing.exit_code == 1 and "the record is not signed" in missing.output
    # an appended entry re-signs the head; a head edited by hand no longer verifies
    head = tmp_path / "d.jsonl.head"
    head.write_text(json.dumps({**json.loads(head.read_text()), "entries": 7}) + "\n")
    log = run("audit", "--log", tmp_path / "d.jsonl", "--trust", tmp_path / "key.pub")
    assert log.exit_code == 1 and "FAIL  signature" in log.output


def test_sign_needs_a_record_or_a_log_and_a_real_key(tmp_path):
    (tmp_path / "key").write_text("not a key\n")
    alone = run("evaluate", STARTUP, "--sign", tmp_path / "key")
    assert alone.exit_code == 2 and "--sign signs a record or a log head" in alone.output
    bad = run("evaluate", STARTUP, "--record", tmp_path / "r", "--sign", tmp_path / "key")
    assert bad.exit_code == 2 and "not an unencrypted Ed25519 private key" in bad.output
    assert not (tmp_path / "r").exists()
