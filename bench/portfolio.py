"""Benchmark of a whole portfolio (run: python bench/portfolio.py).

Generates, in a temporary folder, one organization file with N workloads (about 8 facts each, varied
by a fixed seed) and a batch of N small facts files (one organization and one workload each), then
runs the installed `infra-policy evaluate --format json` on them as a separate process and prints
its wall time and peak RSS (the child's ru_maxrss), the machine's load, and the size of the output.

    python bench/portfolio.py                       # N = 100, 1,000, 3,000, 10,000
    python bench/portfolio.py --sizes 1000 --only file --profile   # where the time goes (cProfile, in process)

Targets (issue 14): 10,000 workloads in one file ≤ 20 s and ≤ 500 MB with --jobs 2 (forked workers
decide and write the workloads); 10,000 files with --jobs 2 ≤ 60 s; time per workload at 10,000
within 1.2 x the time at 100. Nothing here asserts. Each row shows the CPU time too (the process and
its workers) and the machine's load when it started: on a shared machine the wall time says as much
about the others as about infra-policy. Organizations of up to 100 workloads get the search of what
would change each stance by default, larger ones do not
(--evaluate-option=--no-explore-changes or =--explore-changes compares like for like).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREFIXES = "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/portfolio/> .\n\n"
ORGANIZATION = (
    'ex:org a ip:Organization ;\n    ip:name "Portfolio Corp" ;\n    ip:capitalBudgetUSD 400000 ;\n'
    "    ip:itStaffFTE 4 ;\n    ip:hasDataCenter true ;\n    ip:connectivity ip:Reliable ;\n"
    "    ip:workforce ip:OnSite ;\n    ip:costPredictabilityPriority ip:Medium"
)
CHOICES = {
    "dataSensitivity": ["ip:Public", "ip:Internal", "ip:Confidential", "ip:Restricted"],
    "regulatedBy": ["ip:HIPAA", "ip:GDPR", "ip:PCIDSS", "ip:SOX"],
    "dataResidencyRequired": ["true", "false"],
    "latencyBudgetMs": ["50", "200", "800", "3000"],
    "usersLocation": ["ip:OnPremises", "ip:Regional", "ip:Global"],
    "demandPattern": ["ip:Steady", "ip:Seasonal", "ip:Bursty"],
    "growthOutlook": ["ip:Low", "ip:Medium", "ip:High"],
    "gpuHoursPerMonth": ["20", "150", "900", "3000"],
    "acceleratorNeed": ["ip:Commodity", "ip:Latest"],
    "cloudSafeguard": ["ip:ZeroDataRetention", "ip:InRegionProcessing", "ip:CustomerManagedKeys"],
    "timeToMarketPriority": ["ip:Low", "ip:Medium", "ip:High"],
}


def workload_facts(rng: random.Random, index: int) -> str:
    """One workload, about 8 facts (its name and 7 of the properties above), as Turtle."""
    chosen = rng.sample(sorted(CHOICES), 7)
    lines = [f'ex:w{index} a ip:Workload ;\n    ip:name "Workload {index}"']
    lines += [f"    ip:{name} {rng.choice(CHOICES[name])}" for name in sorted(chosen)]
    return " ;\n".join(lines) + " .\n"


def organization_file(count: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    links = ", ".join(f"ex:w{i}" for i in range(count))
    body = [PREFIXES, ORGANIZATION, f" ;\n    ip:hasWorkload {links} .\n\n"]
    body += [workload_facts(rng, i) + "\n" for i in range(count)]
    return "".join(body)


def write_batch(directory: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        text = PREFIXES + ORGANIZATION + f" ;\n    ip:hasWorkload ex:w{i} .\n\n" + workload_facts(rng, i)
        (directory / f"facts-{i:05d}.ttl").write_text(text, encoding="utf-8")


def program() -> str:
    found = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if found is None:
        sys.exit("infra-policy is not installed next to this Python; pip install . first")
    return found


def run(command: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MB) of the process tree's largest process, exit status, and CPU seconds
    (user + system of the process and the workers it waited for: on a shared machine the wall time
    depends on the others' load, the CPU time much less)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        print(f"  ! exit {child.returncode}: {child.stderr.read().decode(errors='replace')[-600:]}", flush=True)
    return wall, usage.ru_maxrss / 1024, child.returncode, usage.ru_utime + usage.ru_stime


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def bench_file(sizes: list[int], work: Path, jobs: int, extra: list[str]) -> None:
    shown = " ".join(extra)
    print(f"one organization file, N workloads, evaluate --format json -o FILE --jobs {jobs} {shown}".rstrip())
    print(f"  {'N':>6}  {'wall':>8}  {'per workload':>12}  {'CPU/workload':>12}  {'peak RSS':>9}  {'JSON':>9}  load")
    for n in sizes:
        facts = work / f"org-{n}.ttl"
        facts.write_text(organization_file(n), encoding="utf-8")
        out = work / f"org-{n}.json"
        # the default limits take 10,000 workloads of about ten facts (110,000 triples); beyond, raise them
        limits = ["--max-triples", str(max(250_000, 12 * n)), "--max-workloads", str(max(10_000, n))]
        command = [program(), "evaluate", str(facts), "--format", "json", "-o", str(out), *limits, "--jobs", str(jobs)]
        command += extra
        before = load()
        wall, rss, status, cpu = run(command)
        size = out.stat().st_size / 1e6 if out.exists() and status == 0 else 0
        print(
            f"  {n:>6}  {wall:>7.1f}s  {wall / n * 1000:>9.2f} ms  {cpu / n * 1000:>9.2f} ms  {rss:>6.0f} MB  "
            f"{size:>6.1f} MB  {before}",
            flush=True,
        )


def bench_batch(sizes: list[int], work: Path, jobs: int, extra: list[str]) -> None:
    shown = " ".join(extra)
    print(f"a batch of N small files, evaluate DIR --format json -o FILE.jsonl --jobs {jobs} {shown}".rstrip())
    print(f"  {'N':>6}  {'wall':>8}  {'per file':>12}  {'CPU/file':>12}  {'peak RSS':>9}  load")
    for n in sizes:
        folder = work / f"batch-{n}"
        write_batch(folder, n)
        out = work / f"batch-{n}.jsonl"
        command = [program(), "evaluate", str(folder), "--format", "json", "-o", str(out), "--jobs", str(jobs), *extra]
        before = load()
        wall, rss, _, cpu = run(command)
        print(
            f"  {n:>6}  {wall:>7.1f}s  {wall / n * 1000:>9.2f} ms  {cpu / n * 1000:>9.2f} ms  {rss:>6.0f} MB  {before}",
            flush=True,
        )


def profile(n: int, work: Path) -> None:
    """cProfile of one in-process evaluation of an N-workload file, JSON rendering included."""
    import cProfile
    import pstats

    import infra_policy

    facts = work / f"org-{n}.ttl"
    facts.write_text(organization_file(n), encoding="utf-8")
    infra_policy.evaluator()  # knowledge base and rules loaded outside the profile
    profiler = cProfile.Profile()
    profiler.enable()
    infra_policy.evaluate(facts).to_json()
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 1000, 3000, 10000])
    parser.add_argument("--only", choices=["file", "batch"])
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="--jobs of every run (default 2): the files of a batch, the workloads of one organization",
    )
    parser.add_argument("--profile", action="store_true", help="profile one in-process run instead")
    parser.add_argument(
        "--evaluate-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="pass this option to `evaluate` too (repeatable), e.g. --evaluate-option=--no-explore-changes "
        "to compare 100 workloads (searched by default) with 10,000 (left out by default) like for like",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portfolio-") as tmp:
        work = Path(tmp)
        if args.profile:
            profile(args.sizes[0], work)
            return
        if args.only in (None, "file"):
            bench_file(args.sizes, work, args.jobs, args.evaluate_option)
        if args.only in (None, "batch"):
            bench_batch(args.sizes, work, args.jobs, args.evaluate_option)


if __name__ == "__main__":
    main()
