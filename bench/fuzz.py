"""Run the fuzz tests with many generated cases; print how many ran and how long they took.

    python bench/fuzz.py                    # 10,000 cases of each kind (facts, rules, and the hostile
                                            # classes: deep-lists, huge-numbers, special-files, kb-ids,
                                            # sealed-records)
    python bench/fuzz.py --examples 2000 --only facts

The CI suite runs the same tests with a few examples each (tests/fuzzing.py);
this runs each of them once, in a process of its own, with many examples, and
reads Hypothesis' statistics, which count the cases that were generated.  One
process is enough: memory stays flat over 10,000 in-process CLI runs (see
docs/durable-rules.md, "Memory").
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = {
    "facts": "tests/test_fuzz_facts.py::test_any_facts_file_gets_a_grounded_decision_or_a_clear_error",
    "rules": "tests/test_fuzz_rules.py::test_any_rule_file_loads_or_gets_a_clear_error",
    # the hostile classes of issue 16
    "deep-lists": "tests/test_fuzz_hostile.py::test_deep_and_long_lists_are_digested_the_same_whatever_the_order",
    "huge-numbers": "tests/test_fuzz_hostile.py::test_huge_numbers_give_a_decision_or_a_clear_error",
    "special-files": "tests/test_fuzz_hostile.py::test_special_files_in_every_role_are_refused_without_hanging",
    "kb-ids": "tests/test_fuzz_hostile.py::test_hostile_kb_ids_give_site_paths_inside_the_site",
    "sealed-records": (
        "tests/test_fuzz_hostile.py::test_sealed_malformed_records_are_audited_and_published_or_refused"
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="cases per test (default 10,000)")
    parser.add_argument("--only", choices=sorted(TESTS), nargs="+", help="run only these fuzz tests")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    args = parser.parse_args()
    failed = False
    total_cases, total_seconds = 0, 0.0
    for name, test in TESTS.items():
        if args.only and name not in args.only:
            continue
        env = {
            **os.environ,
            "INFRA_POLICY_FUZZ_EXAMPLES": str(args.examples),
            "INFRA_POLICY_FUZZ_SEED": "given",
            # a long run on a busy machine can starve one case for a minute; a hang is forever
            "INFRA_POLICY_HANG_SECONDS": os.environ.get("INFRA_POLICY_HANG_SECONDS", "600"),
        }
        start = time.perf_counter()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                test,
                "-q",
                "-p",
                "no:cacheprovider",
                "--hypothesis-show-statistics",
                f"--hypothesis-seed={args.seed}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        cases = sum(int(n) for n in re.findall(r"(\d+) passing, \d+ failing", run.stdout))
        cases += sum(int(n) for n in re.findall(r"\d+ passing, (\d+) failing", run.stdout))
        # the largest test process so far (they run one after another)
        peak = f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB"
        this_failed = run.returncode != 0 or cases == 0
        if this_failed:
            failed = True
            print(f"{name}: FAILED (seed {args.seed})")
            print(run.stdout[-6000:], run.stderr[-2000:], sep="\n")
        total_cases += cases
        total_seconds += seconds
        status = "FAILED" if this_failed else "ok"
        print(f"{name}: {cases} generated cases in {seconds:.0f} s, peak RSS {peak} — {status}", flush=True)
    print(f"total: {total_cases} cases in {total_seconds:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
