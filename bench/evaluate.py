"""Benchmark of `infra-policy evaluate` (run: python bench/evaluate.py).

Prints:
  * cold wall time of the installed `infra-policy evaluate EXAMPLE` beside the
    floor `python -c "import rdflib; rdflib.Graph().parse(EXAMPLE)"` (target:
    at most 2.5 x the floor);
  * warm, in-process time per workload evaluation (profile → infer → decide,
    missing facts, questions and closeness included; target: median at most 2 ms), and per facts file
    with validation and justification.

Figures are medians over repeated runs; nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_EXAMPLE = REPO / "examples" / "acme-mixed-workloads.ttl"


def _wall(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd="/")
        times.append(time.perf_counter() - start)
    return times


def cold(example: Path, runs: int) -> None:
    program = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if program is None:
        sys.exit("infra-policy is not installed next to this Python; pip install . first")
    floor = _wall([sys.executable, "-c", f"import rdflib; rdflib.Graph().parse({str(example)!r})"], runs)
    # What the libraries the design requires cost to import, before any work.
    libraries = _wall(
        [
            sys.executable,
            "-c",
            "import rdflib, pyshacl, networkx, durable.engine, jsonschema, yaml, "
            f"click; rdflib.Graph().parse({str(example)!r})",
        ],
        runs,
    )
    ours = _wall([program, "evaluate", str(example)], runs)
    ours_json = _wall([program, "evaluate", str(example), "--format", "json"], runs)
    f, t, j = statistics.median(floor), statistics.median(ours), statistics.median(ours_json)
    lib = statistics.median(libraries)
    print(f"cold, {example.name}, median of {runs} runs")
    print(f"  floor (import rdflib; parse)   {f * 1000:7.1f} ms")
    print(f"  import of the required libraries {lib * 1000:5.1f} ms   {lib / f:4.1f} x floor   (no work done)")
    print(f"  infra-policy evaluate (text)   {t * 1000:7.1f} ms   {t / f:4.1f} x floor   (target <= 2.5 x)")
    print(f"  infra-policy evaluate --json   {j * 1000:7.1f} ms   {j / f:4.1f} x floor")


def warm(examples: list[Path], repeat: int) -> None:
    from infra_policy.engine.pipeline import Evaluator
    from infra_policy.engine.stages.decide import decide_workload
    from infra_policy.engine.stages.load import load_facts
    from infra_policy.engine.stages.profile import build_profile

    evaluator = Evaluator.load()
    per_workload, per_file = [], []
    count = 0
    for path in examples:
        doc = load_facts(path)
        profile = build_profile(doc, evaluator.kb.vocabulary)
        evaluator.evaluate_document(doc)  # warm caches
        for _ in range(repeat):
            start = time.perf_counter()
            evaluator.evaluate_document(doc)
            per_file.append((time.perf_counter() - start) / len(profile.workloads))
            for workload in profile.workloads:
                start = time.perf_counter()
                decide_workload(
                    workload, evaluator.policy, evaluator.backend, evaluator.explorer, evaluator.kb.vocabulary
                )
                per_workload.append(time.perf_counter() - start)
                count += 1
    q = statistics.quantiles(per_workload, n=20)
    print(f"warm, in process, {len(examples)} example files, {count} workload evaluations")
    print(
        f"  per workload (infer + decide + missing facts)   median {statistics.median(per_workload) * 1000:6.2f} ms"
        f"   p95 {q[-1] * 1000:6.2f} ms   (target median <= 2 ms)"
    )
    print(f"  per workload, whole file (validate + justify)   median {statistics.median(per_file) * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--example", type=Path, default=DEFAULT_EXAMPLE)
    parser.add_argument("--runs", type=int, default=15, help="cold runs of each command")
    parser.add_argument("--repeat", type=int, default=50, help="warm repetitions per example")
    args = parser.parse_args()
    cold(args.example.resolve(), args.runs)
    warm(sorted((REPO / "examples").glob("*.ttl")), args.repeat)


if __name__ == "__main__":
    main()
