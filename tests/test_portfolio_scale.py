"""Large organizations: what would change each stance is left out (and said so) beyond 100 workloads,
--explore-changes brings it back, large decisions are streamed in parts with the same bytes, and the
default limits fit a 10,000-workload organization while still refusing more.

Real files, the real CLI (click's runner) and the library; no timing (bench/portfolio.py measures).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import infra_policy
from infra_policy.cli.main import main
from infra_policy.engine.outputs.export import write_decision_json
from infra_policy.engine.outputs.jsonstream import RangedRuns, boundaries_of
from infra_policy.engine.pipeline import EXPLORE_CHANGES_UP_TO, WORKLOADS_PER_TASK
from infra_policy.engine.stages.inputs import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/p/> .\n\n"
ORGANIZATION = 'ex:org a ip:Organization ; ip:name "Portfolio" ; ip:itStaffFTE 2 ; ip:hasDataCenter true'
CHOICES = {
    "dataSensitivity": ["ip:Public", "ip:Internal", "ip:Confidential", "ip:Restricted"],
    "regulatedBy": ["ip:HIPAA", "ip:GDPR", "ip:SOX"],
    "latencyBudgetMs": ["50", "800"],
    "usersLocation": ["ip:OnPremises", "ip:Global"],
    "demandPattern": ["ip:Steady", "ip:Bursty"],
    "gpuHoursPerMonth": ["20", "3000"],
    "acceleratorNeed": ["ip:Commodity", "ip:Latest"],
}


def _workload(rng: random.Random, index: int) -> str:
    chosen = sorted(rng.sample(sorted(CHOICES), rng.randint(0, 5)))
    facts = [f'ex:w{index:03d} a ip:Workload ; ip:name "Workload {index}"']
    facts += [f"ip:{name} {rng.choice(CHOICES[name])}" for name in chosen]
    return " ;\n    ".join(facts) + " .\n"


def organization(tmp_path: Path, count: int, name: str = "big.ttl") -> tuple[Path, list[str]]:
    rng = random.Random(count)
    workloads = [_workload(rng, i) for i in range(count)]
    links = ", ".join(f"ex:w{i:03d}" for i in range(count))
    path = tmp_path / name
    path.write_text(PREFIXES + ORGANIZATION + f" ;\n    ip:hasWorkload {links} .\n\n" + "\n".join(workloads))
    return path, workloads


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_beyond_the_threshold_the_search_is_left_out_and_the_decision_says_how_to_get_it(tmp_path):
    facts, _ = organization(tmp_path, EXPLORE_CHANGES_UP_TO + 1)
    document = json.loads(run("evaluate", str(facts), "--format", "json"))
    (left_out,) = document["left_out"]
    assert left_out["fields"] == ["smallest_changes", "missing_facts", "questions"]
    assert f"{EXPLORE_CHANGES_UP_TO + 1:,} workloads" in left_out["why"]
    assert "--explore-changes" in left_out["how_to_include"]
    assert "explore_changes=True" in left_out["how_to_include"]
    skipped = [w for w in document["workloads"] if w.get("changes_explored") is False]
    undetermined = [w for w in document["workloads"] if w["stance"] == "undetermined"]
    assert len(skipped) + len(undetermined) == len(document["workloads"]) and skipped
    for w in skipped:
        assert w["questions"] == []
        assert all(m.get("needed_for") for m in w["missing_facts"])  # only what the cost model needs
    for w in undetermined:  # their questions are their answer: always searched
        assert "changes_explored" not in w and w["questions"]
    text = run("evaluate", str(facts))
    assert "Not searched: the fewest changes, missing facts and questions that could change each stance" in text
    assert "--explore-changes searches them." in text


def test_explore_changes_gives_each_workload_what_it_gets_in_a_small_organization(tmp_path):
    facts, workloads = organization(tmp_path, EXPLORE_CHANGES_UP_TO + 1)
    document = json.loads(run("evaluate", str(facts), "--format", "json", "--explore-changes"))
    assert "left_out" not in document
    assert all("changes_explored" not in w for w in document["workloads"])
    by_name = {w["name"]: w for w in document["workloads"]}
    rng = random.Random(3)
    for index in rng.sample(range(len(workloads)), 6):
        alone = tmp_path / f"alone-{index}.ttl"
        alone.write_text(PREFIXES + ORGANIZATION + f" ;\n    ip:hasWorkload ex:w{index:03d} .\n\n" + workloads[index])
        (small,) = json.loads(run("evaluate", str(alone), "--format", "json"))["workloads"]
        big = by_name[f"Workload {index}"]
        assert big["stance"] == small["stance"]
        assert big["missing_facts"] == small["missing_facts"]
        assert big["questions"] == small["questions"]
        assert big["missing_facts"] or big["questions"]  # something was searched and found


def test_no_explore_changes_leaves_it_out_of_a_small_organization_but_not_of_an_undetermined_workload():
    acme = ROOT / "examples" / "acme-mixed-workloads.ttl"
    full = json.loads(run("evaluate", str(acme), "--format", "json"))
    assert "left_out" not in full
    assert any(w["missing_facts"] for w in full["workloads"])
    short = json.loads(run("evaluate", str(acme), "--format", "json", "--no-explore-changes"))
    assert "turned off" in short["left_out"][0]["why"]
    assert all(w["changes_explored"] is False and w["questions"] == [] for w in short["workloads"])
    # everything else is the same decision
    for a, b in zip(full["workloads"], short["workloads"], strict=True):
        assert {k: v for k, v in a.items() if k not in ("missing_facts", "questions", "smallest_changes")} == {
            k: v for k, v in b.items() if k not in ("missing_facts", "questions", "changes_explored")
        }
    undetermined = json.loads(
        run(
            "evaluate",
            str(ROOT / "examples" / "name-only-undetermined.ttl"),
            "--format",
            "json",
            "--no-explore-changes",
        )
    )
    assert all(w["questions"] for w in undetermined["workloads"])


def test_the_library_option_is_the_command_line_option():
    acme = ROOT / "examples" / "acme-mixed-workloads.ttl"
    assert infra_policy.evaluate(acme, explore_changes=False).to_json() == run(
        "evaluate", str(acme), "--format", "json", "--no-explore-changes"
    )
    assert infra_policy.evaluate(acme).to_json() == run("evaluate", str(acme), "--format", "json", "--explore-changes")


def test_a_decision_written_in_parts_is_the_document_whole(tmp_path):
    facts, _ = organization(tmp_path, 40)
    for path in (facts, ROOT / "examples" / "hybrid-plans.ttl", ROOT / "examples" / "acme-mixed-workloads.ttl"):
        decision = infra_policy.evaluate(path)
        for per_part in (1, 3, 7):
            pieces: list[str] = []
            write_decision_json(
                infra_policy.evaluate(path).evaluation, decision.evaluator.policy, pieces.append, per_part
            )
            assert "".join(pieces) == json.dumps(decision.to_dict(), indent=2, ensure_ascii=False) + "\n"


def test_the_streamed_output_file_is_what_standard_output_and_the_library_give(tmp_path):
    facts, _ = organization(tmp_path, EXPLORE_CHANGES_UP_TO + 1)
    out = tmp_path / "decision.json"
    printed = run("evaluate", str(facts), "--format", "json")
    assert run("evaluate", str(facts), "--format", "json", "-o", str(out)) == ""
    assert out.read_text(encoding="utf-8") == printed == infra_policy.evaluate(facts).to_json()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staged file left behind


def test_a_batch_gives_the_bytes_of_single_file_runs_for_a_large_organization(tmp_path):
    big, _ = organization(tmp_path, EXPLORE_CHANGES_UP_TO + 1)
    small = ROOT / "examples" / "acme-mixed-workloads.ttl"
    folder = tmp_path / "out"
    folder.mkdir()
    run("evaluate", str(big), str(small), "--format", "json", "-o", f"{folder}/", "--jobs", "2")
    for facts in (big, small):
        single = tmp_path / f"single-{facts.stem}.json"
        run("evaluate", str(facts), "--format", "json", "-o", str(single))
        assert (folder / f"{facts.stem}.json").read_bytes() == single.read_bytes()
    lines = run("evaluate", str(big), str(small), "--format", "json").splitlines()
    assert json.loads(lines[0])["decision"] == json.loads(run("evaluate", str(big), "--format", "json"))


def test_a_record_made_with_explore_changes_is_audited_as_it_was_made(tmp_path):
    facts, _ = organization(tmp_path, EXPLORE_CHANGES_UP_TO + 1)
    for option in ("--explore-changes", "--no-explore-changes", None):
        records = tmp_path / f"records{option}"
        records.mkdir()
        run("evaluate", str(facts), "--record", str(records), *([option] if option else []))
        (record,) = records.glob("*.json")
        result = CliRunner().invoke(main, ["audit", str(record), "--facts", str(facts)])
        assert result.exit_code == 0, result.output


def test_the_default_limits_take_ten_thousand_workloads_and_refuse_more(tmp_path):
    assert DEFAULT_LIMITS.max_workloads == 10_000
    # 110,000 triples and 3 MB: an organization of 10,000 workloads with about ten facts each fits
    assert DEFAULT_LIMITS.max_triples >= 110_000 and DEFAULT_LIMITS.max_bytes >= 3_100_000
    flood = tmp_path / "flood.ttl"
    flood.write_text(
        PREFIXES
        + "ex:org a ip:Organization .\n"
        + "".join(f"ex:w{i} a ip:Workload .\n" for i in range(DEFAULT_LIMITS.max_workloads + 1))
    )
    result = CliRunner().invoke(main, ["evaluate", str(flood)])
    assert result.exit_code == 2
    assert "more than 10,000 workloads" in result.stderr and "(--max-workloads)" in result.stderr


# enough workloads that --jobs 2 decides and writes them in forked workers, in several tasks each
FORKED = 2 * WORKLOADS_PER_TASK + 37


def test_jobs_on_one_organization_give_the_bytes_of_one_job(tmp_path):
    facts, _ = organization(tmp_path, FORKED)
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    run("evaluate", str(facts), "--format", "json", "-o", str(one), "--jobs", "1")
    # the console script itself, as a user runs it: the workers are forked from a real process
    script = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert script, "the console script infra-policy is not installed next to this Python"
    done = subprocess.run(
        [script, "evaluate", str(facts), "--format", "json", "-o", str(two), "--jobs", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert two.read_bytes() == one.read_bytes()
    document = json.loads(one.read_text(encoding="utf-8"))
    assert len(document["workloads"]) == FORKED
    # the organization's stance comes from all the workloads: several stances, so a split
    assert len({w["stance"] for w in document["organization"]["placement"]}) > 1
    kinds = {node["kind"] for node in document["justification"]["nodes"]}
    assert {"fact", "firing", "stance", "tally"} <= kinds
    assert run("evaluate", str(facts), "--jobs", "2") == run("evaluate", str(facts))  # text too


def test_jobs_give_the_same_decision_record_and_library_text(tmp_path):
    facts, _ = organization(tmp_path, FORKED)
    one, two = infra_policy.evaluate(facts), infra_policy.evaluate(facts, jobs=2)
    assert two.evaluation.decision == one.evaluation.decision
    assert two.record() == one.record()  # the record's own canonical JSON and digest: unchanged
    pieces: list[str] = []
    one.write_json(pieces.append, jobs=2)
    assert "".join(pieces) == two.to_json() == json.dumps(one.to_dict(), indent=2, ensure_ascii=False) + "\n"
    records = [tmp_path / "records-1", tmp_path / "records-2"]
    for jobs, folder in zip(("1", "2"), records, strict=True):
        folder.mkdir()
        run("evaluate", str(facts), "--record", str(folder), "--jobs", jobs)
    assert [(p.name, p.read_bytes()) for p in sorted(records[0].iterdir())] == [
        (p.name, p.read_bytes()) for p in sorted(records[1].iterdir())
    ]


@settings(max_examples=60, deadline=None)
@given(
    writers=st.lists(st.lists(st.tuples(st.text(max_size=4), st.text(max_size=3))), max_size=5),
    sample=st.lists(st.text(max_size=4), max_size=12),
    ranges=st.integers(min_value=1, max_value=6),
)
def test_ranges_sorted_one_by_one_are_every_item_sorted_once(writers, sample, ranges):
    # items with the same key have the same text, as nodes and edges of justification parts do
    writers = [[(key, f"{key}!") for key, _ in items] for items in writers]
    runs = RangedRuns(boundaries_of(sample, ranges))
    try:
        for items in writers:
            runs.adopt(runs.write(items))
        texts = [text for index in range(runs.count) for text in runs.sorted_range(index)]
    finally:
        runs.close()
    assert texts == [f"{key}!" for key in sorted({key for items in writers for key, _ in items})]
    assert len(boundaries_of(sample, ranges)) <= ranges - 1


def test_jobs_on_one_organization_report_the_errors_and_warnings_of_one_job(tmp_path):
    # validated in a forked process while near misses are looked for here: the same messages, same precedence
    facts, _ = organization(tmp_path, FORKED)
    text = facts.read_text(encoding="utf-8")
    near_miss = "ex:w001 ex:dataSensitivity ip:Public .\n"  # an infra-policy property in another namespace
    violation = 'ex:w002 ip:latencyBudgetMs "fast" .\n'
    cases = {"near-miss": near_miss, "violation": violation, "both": near_miss + violation}
    for name, extra in cases.items():
        path = tmp_path / f"{name}.ttl"
        path.write_text(text + extra, encoding="utf-8")
        for options in ((), ("--strict",)):
            results = [
                CliRunner().invoke(main, ["evaluate", str(path), "--format", "json", *options, "--jobs", jobs])
                for jobs in ("1", "2")
            ]
            assert results[0].exit_code == results[1].exit_code, (name, options)
            assert results[0].stderr == results[1].stderr, (name, options)
            assert results[0].stdout == results[1].stdout, (name, options)
            if violation in extra or options:
                assert results[1].exit_code == 2 and "line " in results[1].stderr, (name, options)
            else:
                assert results[1].exit_code == 0 and "ex:dataSensitivity" in results[1].stderr
            if near_miss in extra:
                assert "ex:dataSensitivity" in results[1].stderr, (name, options)


def test_an_error_raised_in_a_worker_comes_back_whole():
    # what a forked worker raises reaches the parent pickled: the message, the problems and the rule stay
    from infra_policy.engine.errors import EngineError, FactsError

    engine_error = pickle.loads(pickle.dumps(EngineError("the action failed", rule="data.residency")))
    assert (str(engine_error), engine_error.rule) == ("the action failed", "data.residency")
    facts_error = pickle.loads(pickle.dumps(FactsError.listing("big.ttl", ["line 3: one", "line 9: two"])))
    assert type(facts_error) is FactsError and facts_error.problems == ("line 3: one", "line 9: two")


def _json_with_two_jobs(path: Path) -> str:
    return infra_policy.evaluate(path, jobs=2).to_json()


def test_two_jobs_inside_a_pool_worker_work_in_that_worker(tmp_path):
    # a daemonic worker (a batch's, or a caller's pool) may not fork: the organization is evaluated in it
    import multiprocessing

    facts, _ = organization(tmp_path, FORKED)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_json_with_two_jobs, (facts,)) == infra_policy.evaluate(facts).to_json()
