"""Benchmark of `infra-policy impact` against evaluating the same corpus once (run: python bench/impact.py).

Generates, in a temporary folder, N small facts files (one organization and one workload each, varied by
a fixed seed, as bench/portfolio.py does), then times as separate processes:

* `infra-policy evaluate DIR` — every decision made once, a summary table printed (the evaluation alone);
* `infra-policy evaluate DIR --format json -o FILE.jsonl` — the same with every decision written as JSON;
* `infra-policy impact DIR --overlay examples/overlays/eu-bank.yaml --format json -o FILE.json` — every
  file read, validated and profiled once and decided under the packaged policy and under the overlay.

and prints the wall and CPU times, the ratios of impact's CPU time to each evaluation's (on a shared
machine the wall time depends on the others' load, the CPU time much less) and how many decisions the
overlay changes. Target (issue 15):
impact over 1,000 decisions ≤ 2 × the time of evaluating them once. Nothing here asserts.

    python bench/impact.py                 # N = 1,000, one process each
    python bench/impact.py --sizes 200 1000 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import load, program, run, write_batch

OVERLAY = Path(__file__).resolve().parent.parent / "examples" / "overlays" / "eu-bank.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)]
    print(f"impact vs evaluate, {args.jobs} job(s) ({load()}); wall s / CPU s, ratios of CPU time")
    print(f"  {'N':>6}  {'evaluate':>13}  {'+ JSON':>13}  {'impact':>13}  {'÷ evaluate':>10}  {'÷ + JSON':>8}  changed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in args.sizes:
            folder = work / f"batch-{n}"
            write_batch(folder, n)
            evaluated = work / f"evaluate-{n}.jsonl"
            report = work / f"impact-{n}.json"
            # the summary table: every decision made, none written out (the evaluation alone)
            table = run([program(), "evaluate", str(folder), *jobs])
            once = run([program(), "evaluate", str(folder), "--format", "json", "-o", str(evaluated), *jobs])
            command = [program(), "impact", str(folder), "--overlay", str(OVERLAY), "--format", "json", "-o"]
            both = run([*command, str(report), *jobs])
            changed = json.loads(report.read_text())["summary"]["decisions_changed"] if both[2] == 0 else "-"
            cells = [f"{r[0]:>5.1f} / {r[3]:>5.1f}" for r in (table, once, both)]
            print(
                f"  {n:>6}  {cells[0]:>13}  {cells[1]:>13}  {cells[2]:>13}  {both[3] / table[3]:>9.2f}x"
                f"  {both[3] / once[3]:>7.2f}x  {changed}",
                flush=True,
            )


if __name__ == "__main__":
    main()
