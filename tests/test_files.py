"""Reading and writing files: bounded reads, only regular files, all-or-nothing runs (issue 16, items 2, 4, 6, 9).

Every test uses real files — FIFOs, device nodes, symbolic links, a file
size limit standing in for a full disk — and the real command line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run

STARTUP = EXAMPLES / "startup-cloud.ttl"
MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


def _device(path: Path) -> Path:
    """A character device node like /dev/null (major 1, minor 3), made in a temporary folder."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


# --- the output writer: only regular files are replaced -----------------------------------


def test_output_to_a_device_node_is_refused_and_the_device_stays(tmp_path):
    null = _device(tmp_path / "null")
    result = run("evaluate", STARTUP, "-o", null)
    assert result.exit_code == 2
    assert f"cannot write {null}: it is a character device" in result.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary file left behind


def test_output_to_a_fifo_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = run("evaluate", STARTUP, "-o", pipe)
    assert result.exit_code == 2 and "it is a FIFO (named pipe)" in result.output
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)


def test_output_through_a_symlink_is_refused_and_neither_link_nor_target_changes(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    result = run("evaluate", STARTUP, "-o", link)
    assert result.exit_code == 2 and "it is a symbolic link" in result.output
    assert link.is_symlink() and target.read_text() == "keep me\n"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_outputs_records_and_log_heads_get_the_mode_the_umask_allows(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        result = run(
            "evaluate", STARTUP, "-o", tmp_path / "out.txt", "--record", tmp_path / "r", "--log", tmp_path / "d.jsonl"
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    (record,) = (tmp_path / "r").glob("*.json")
    for path in (tmp_path / "out.txt", record, tmp_path / "d.jsonl", tmp_path / "d.jsonl.head"):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_a_failing_record_leaves_the_output_unwritten(tmp_path):
    (tmp_path / "records").write_text("a file, not a folder\n")
    out = tmp_path / "out.json"
    result = run("evaluate", STARTUP, "--format", "json", "-o", out, "--record", tmp_path / "records")
    assert result.exit_code == 2, result.output
    assert "cannot write the record into" in result.output and "records" in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records"]


def test_a_failing_log_leaves_neither_output_nor_record(tmp_path):
    (tmp_path / "logs").mkdir()
    out, records = tmp_path / "out.txt", tmp_path / "records"
    result = run("evaluate", STARTUP, "-o", out, "--record", records, "--log", tmp_path / "logs")
    assert result.exit_code == 2, result.output
    assert "logs: is a directory; --log names the decision log file" in result.output
    assert not out.exists() and not any(records.glob("*.json"))


# --- the bounded reader ------------------------------------------------------------------


def test_a_facts_fifo_is_refused_at_once_instead_of_blocking(tmp_path):
    pipe = tmp_path / "facts.ttl"
    os.mkfifo(pipe)  # nobody will ever write to it
    result = run("evaluate", pipe)
    assert result.exit_code == 2
    assert "is a FIFO (named pipe), not a regular file" in result.output


def test_a_rule_file_linked_to_dev_zero_is_refused_without_reading_it_all(tmp_path):
    import shutil

    from infra_policy.engine.paths import PACKAGED_RULES

    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules)
    (rules / "zero.yaml").symlink_to("/dev/zero")
    result = run("rules", "list", "--rules", rules)
    assert result.exit_code == 2
    assert "zero.yaml: is a character device, not a regular file" in result.output


@pytest.mark.parametrize(
    "args",
    [("audit", "{special}"), ("audit", "--log", "{special}"), ("site", "-o", "{site}", "--records", "{folder}")],
    ids=["record", "log", "site-records"],
)
def test_records_and_logs_that_are_special_files_are_refused(tmp_path, args):
    folder = tmp_path / "records"
    folder.mkdir()
    special = folder / "x.json"
    special.symlink_to("/dev/zero")
    names = {"special": special, "site": tmp_path / "site", "folder": folder}
    result = run(*(a.format(**names) for a in args))
    assert result.exit_code == 2, result.output
    assert "is a character device, not a regular file" in result.output


def test_the_byte_limit_counts_bytes_read_not_the_size_a_file_reports(tmp_path):
    from infra_policy.engine.errors import FactsError
    from infra_policy.engine.files import read_bounded

    with pytest.raises(FactsError, match="not a regular file"):
        read_bounded(Path("/dev/zero"), 100, FactsError, "facts file")
    big = tmp_path / "big.ttl"
    big.write_bytes(b"#" * 101)
    with pytest.raises(FactsError, match="more than the limit of 100 bytes"):
        read_bounded(big, 100, FactsError, "facts file")
    assert read_bounded(big, 101, FactsError, "facts file") == b"#" * 101


# --- the decision log: all or nothing --------------------------------------------------------


def _evaluate_with_file_size_limit(log: Path, limit: int) -> subprocess.CompletedProcess:
    """Run the real CLI in a process that may not grow any file beyond ``limit`` bytes: a full disk."""

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG, as on a full disk, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "infra_policy.cli.main", "evaluate", str(MIXED), "--log", str(log)],
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        check=False,
    )


def test_a_log_append_on_a_full_disk_writes_nothing_and_the_next_append_keeps_the_chain(tmp_path):
    log = tmp_path / "decisions.jsonl"
    assert run("evaluate", STARTUP, "--log", log).exit_code == 0
    before = log.read_bytes()
    failed = _evaluate_with_file_size_limit(log, len(before) + 100)  # room for 100 bytes of a longer entry
    assert failed.returncode == 2, failed.stderr
    assert f"cannot append to the decision log {log}" in failed.stderr and "the log is unchanged" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert log.read_bytes() == before
    assert run("evaluate", MIXED, "--log", log).exit_code == 0
    audit = run("audit", "--log", log)
    assert audit.exit_code == 0, audit.output
    assert "2 entries" in audit.output


def test_a_log_whose_last_line_is_broken_is_refused_naming_audit_log(tmp_path):
    log = tmp_path / "decisions.jsonl"
    assert run("evaluate", STARTUP, "--log", log).exit_code == 0
    sound = log.read_bytes()
    log.write_bytes(sound + b'{"format":"infra-policy/log@1","seq":2,')  # an interrupted write
    result = run("evaluate", STARTUP, "--log", log)
    assert result.exit_code == 2
    assert "the last line of the decision log is incomplete" in result.output
    assert f"infra-policy audit --log {log}" in result.output
    assert log.read_bytes() == sound + b'{"format":"infra-policy/log@1","seq":2,'


def test_a_file_that_is_not_a_log_is_not_appended_to(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("garbage\n")
    result = run("evaluate", STARTUP, "--log", other)
    assert result.exit_code == 2 and "the last line is not a decision log entry" in result.output
    assert other.read_text() == "garbage\n"


def test_a_log_fifo_or_symlink_is_refused(tmp_path):
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    result = run("evaluate", STARTUP, "--log", pipe)
    assert result.exit_code == 2 and "it is a FIFO (named pipe), not a regular file" in result.output
    real = tmp_path / "real.jsonl"
    assert run("evaluate", STARTUP, "--log", real).exit_code == 0
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    result = run("evaluate", STARTUP, "--log", link)
    assert result.exit_code == 2 and "it is a symbolic link" in result.output
    assert len(real.read_text().splitlines()) == 1


def test_appends_read_only_the_last_line_and_number_entries_from_it(tmp_path):
    log = tmp_path / "decisions.jsonl"
    for _ in range(3):
        assert run("evaluate", STARTUP, "--log", log).exit_code == 0
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    head = json.loads((tmp_path / "decisions.jsonl.head").read_text())
    assert head["entries"] == 3
    assert run("audit", "--log", log).exit_code == 0
