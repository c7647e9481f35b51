"""Batches of facts files through the real command line: `evaluate FILE... | DIR | GLOB`, `validate` too.

A batch must give, file by file, exactly what single-file runs give (JSON Lines carry the same document,
`-o DIR/` the same bytes), in the order the files were named, with --jobs too; --keep-going lists the
failed files and exits 1; without it the first failure stops the run and writes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, REPO

from infra_policy.cli.main import main

FILES = sorted(EXAMPLES.glob("*.ttl"))[:4]
BAD = textwrap.dedent("""\
    @prefix ip: <https://w3id.org/infra-policy#> .
    @prefix ex: <https://example.com/bad/> .
    ex:org a ip:Organization ; ip:dataSensitivty ip:Internal .
""")


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def single(path: Path, fmt: str) -> str:
    result = cli("evaluate", path, "--format", fmt)
    assert result.exit_code == 0, result.output
    return result.stdout


def program() -> str:
    found = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert found, "the console script infra-policy is not installed next to this Python"
    return found


def test_json_lines_hold_the_single_file_decisions_in_the_order_given():
    order = [FILES[2], FILES[0], FILES[1]]
    result = cli("evaluate", *order, "--format", "json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [str(p) for p in order]
    for line, path in zip(lines, order, strict=True):
        assert line["decision"] == json.loads(single(path, "json"))


@pytest.mark.parametrize("fmt,extension", [("json", ".json"), ("text", ".txt"), ("turtle", ".ttl")])
def test_one_file_each_is_byte_identical_to_single_runs(tmp_path, fmt, extension):
    out = tmp_path / "out"
    out.mkdir()
    result = cli("evaluate", *FILES, "--format", fmt, "-o", f"{out}/")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(p.stem + extension for p in FILES)
    for path in FILES:
        assert (out / (path.stem + extension)).read_text(encoding="utf-8") == single(path, fmt)
    # and the summary table names every file with its stance
    for path in FILES:
        stance = json.loads(single(path, "json"))["organization"]["stance"]
        assert any(row.startswith(str(path)) and row.endswith(stance) for row in result.stdout.splitlines())


def test_a_directory_and_a_glob_pattern_expand_to_the_facts_files_sorted(tmp_path):
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "notes.txt").write_text("not facts")
    by_directory = cli("evaluate", tmp_path, "--format", "json")
    by_pattern = cli("evaluate", f"{tmp_path}/*.ttl", "--format", "json")
    assert by_directory.exit_code == by_pattern.exit_code == 0
    sources = [json.loads(line)["source"] for line in by_directory.stdout.splitlines()]
    assert sources == [str(tmp_path / p.name) for p in sorted(FILES)]
    assert by_pattern.stdout == by_directory.stdout


def test_keep_going_lists_the_failed_file_and_exits_1(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD)
    out = tmp_path / "decisions.jsonl"
    result = cli("evaluate", FILES[0], bad, FILES[1], "--format", "json", "--keep-going", "-o", out)
    assert result.exit_code == 1
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["source"] for line in lines] == [str(FILES[0]), str(bad), str(FILES[1])]
    assert "decision" in lines[0] and "decision" in lines[2]
    assert "ip:dataSensitivty is not a facts property" in lines[1]["error"]
    assert f"error: 1 of 3 files failed: {bad}" in result.stderr
    assert "Did you mean ip:dataSensitivity?" in result.stderr


def test_without_keep_going_the_first_failure_stops_and_nothing_is_written(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD)
    out_file, out_dir = tmp_path / "decisions.jsonl", tmp_path / "each"
    out_dir.mkdir()
    to_file = cli("evaluate", FILES[0], bad, "--format", "json", "-o", out_file)
    to_dir = cli("evaluate", FILES[0], bad, "--format", "json", "-o", f"{out_dir}/")
    assert to_file.exit_code == to_dir.exit_code == 2
    assert to_file.stderr.startswith(f"error: {bad}: 1 problem in the facts")
    assert not out_file.exists()
    assert list(out_dir.iterdir()) == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_validate_batch_table_and_json_lines(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD)
    table = cli("validate", FILES[0], bad, "--keep-going")
    assert table.exit_code == 1
    rows = table.stdout.splitlines()
    assert rows[0].split() == ["file", "result", "organization", "workloads", "triples"]
    assert rows[1].startswith(str(FILES[0])) and " valid " in rows[1]
    assert rows[2].startswith(str(bad)) and rows[2].rstrip().endswith("invalid")
    lines = cli("validate", *FILES, "--format", "json")
    assert lines.exit_code == 0
    for line, path in zip(lines.stdout.splitlines(), FILES, strict=True):
        record = json.loads(line)
        alone = cli("validate", path, "--format", "json")
        assert record == {"source": str(path), "validation": json.loads(alone.stdout)}


def test_jobs_give_the_same_bytes_as_one_process_and_no_progress_off_a_terminal(tmp_path):
    """Through the installed program: a pool of forked workers, results in the order of the files."""
    files = [str(p) for p in sorted(EXAMPLES.glob("*.ttl"))]
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD)
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs-{jobs}.jsonl"
        run = subprocess.run(
            [
                program(),
                "evaluate",
                *files,
                str(bad),
                "--format",
                "json",
                "--keep-going",
                "--jobs",
                jobs,
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
        )
        assert run.returncode == 1, run.stderr
        assert "[1/" not in run.stderr  # progress only on a terminal; stderr is a pipe here
        assert f"error: 1 of {len(files) + 1} files failed: {bad}" in run.stderr
        runs[jobs] = out.read_bytes()
    assert runs["1"] == runs["2"]
    assert len(runs["2"].splitlines()) == len(files) + 1


def test_one_file_with_output_naming_a_directory_is_still_refused(tmp_path):
    result = cli("evaluate", FILES[0], "-o", tmp_path)
    assert result.exit_code == 2
    assert "it is a directory; give a file name" in result.output


def test_memory_stays_flat_over_many_evaluations_in_one_process():
    """A real process evaluates one file 600 times through the library API; its resident memory after
    600 stays within 10 % of what it was after 100 (one evaluator and one rule-engine host are reused)."""
    script = textwrap.dedent(f"""
        import infra_policy
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1])
        readings = {{}}
        for i in range(1, 601):
            infra_policy.evaluate({str(FILES[0])!r}).to_json()
            if i in (100, 600):
                readings[i] = rss()
        print(readings[100], readings[600])
    """)
    if not Path("/proc/self/statm").exists():
        pytest.skip("needs /proc to read the resident memory")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True)
    after_100, after_600 = map(int, run.stdout.split())
    assert after_600 <= after_100 * 1.10, (after_100, after_600)


def test_validation_in_chunks_of_subjects_reports_what_one_whole_run_reports(tmp_path, monkeypatch):
    """A large organization is validated some subjects at a time; the messages must be the same."""
    from infra_policy import knowledge_base
    from infra_policy.engine.stages import validate
    from infra_policy.engine.stages.load import load_facts

    fast, typo = '"fast"', " ; ip:growthOutlok ip:High"
    workloads = "".join(
        f'ex:w{i} a ip:Workload ; ip:name "W{i}" ; ip:demandPattern ip:{"Stedy" if i % 7 == 0 else "Steady"} ;'
        f" ip:latencyBudgetMs {fast if i % 11 == 0 else 200}{typo if i == 5 else ''} .\n"
        for i in range(60)
    )
    links = ", ".join(["ex:nothing", *(f"ex:w{i}" for i in range(60))])
    text = (
        "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/chunks/> .\n"
        f'ex:org a ip:Organization ; ip:name "Org" ; ip:hasWorkload {links} .\n{workloads}'
        "ex:w3 ip:dataSensitivity ip:Public, ip:Internal .\n"
    )
    path = tmp_path / "org.ttl"
    path.write_text(text)
    doc, kb = load_facts(path), knowledge_base()
    monkeypatch.setattr(validate, "CHUNK_SUBJECTS", 10**6)
    whole = validate.find_violations(doc, kb)
    monkeypatch.setattr(validate, "CHUNK_SUBJECTS", 7)
    assert validate.find_violations(doc, kb) == whole
    assert len(whole) == 9 + 6 + 1 + 1 + 1  # Stedy, "fast", growthOutlok, two values, ex:nothing
