"""Benchmark of `infra-policy site` (run: python bench/site.py; one command, prints figures).

Generates facts files by varying the shipped examples deterministically —
every number scaled, enumerated values and booleans redrawn from the
vocabulary of the knowledge base, names numbered — then prints, with the load
average of the machine beside each figure (other work on it slows everything):
  * a cold build of COUNT decisions (default 10,000; empty cache): wall time
    and peak memory of the whole process tree (the sum of the proportional set
    sizes of the command and its workers, sampled every 0.2 s);
    target: <= 180 s and <= 1 GB on 2 cores;
  * a rebuild of REBUILD decisions (default 1,000) after one facts file changed,
    with a warm cache: wall time and what was evaluated and rendered (target <= 5 s);
  * where the time of one decision goes, in process (--profile N decisions):
    evaluating, explaining (why-not answers and PROV-O twins), rendering, writing.

Each figure is printed with the load average and the time of a fixed reference loop, taken just
before and after it: other work on the machine, or a slower share of the host's cores, slows everything.

Nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_ENUM = re.compile(r"\bip:(\w+)(\s+)ip:(\w+)\b")
_NUMBER = re.compile(r"\bip:(\w+)(\s+)(\d+(?:\.\d+)?)\b")
_BOOLEAN = re.compile(r"\bip:(\w+)(\s+)(true|false)\b")
_NAME = re.compile(r'\bip:name(\s+)"([^"\\]*)"')
_SCALES = (0.1, 0.25, 0.5, 1, 1, 2, 4, 10)


def vary(text: str, index: int, properties: dict) -> str:
    """A valid variant of a facts file: same shape, different values, numbered names."""
    rng = random.Random(index)

    def enum(m: re.Match) -> str:
        prop = properties.get(m.group(1))
        if prop is None or prop.kind != "enum" or m.group(3) not in prop.values:
            return m.group(0)
        return f"ip:{m.group(1)}{m.group(2)}ip:{rng.choice(prop.values)}"

    def number(m: re.Match) -> str:
        prop = properties.get(m.group(1))
        if prop is None or not prop.numeric:
            return m.group(0)
        value = float(m.group(3)) * rng.choice(_SCALES)
        text = str(max(1, round(value))) if prop.kind == "integer" or prop.minimum_exclusive else f"{value:.0f}"
        return f"ip:{m.group(1)}{m.group(2)}{text}"

    def boolean(m: re.Match) -> str:
        flip = rng.random() < 0.3
        value = m.group(3) if not flip else ("false" if m.group(3) == "true" else "true")
        return f"ip:{m.group(1)}{m.group(2)}{value}"

    text = _ENUM.sub(enum, text)
    text = _NUMBER.sub(number, text)
    text = _BOOLEAN.sub(boolean, text)
    return _NAME.sub(lambda m: f'ip:name{m.group(1)}"{m.group(2)} #{index:04d}"', text)


def generate(count: int, directory: Path) -> list[Path]:
    from infra_policy.engine.knowledge import load_knowledge_base

    properties = load_knowledge_base().vocabulary.properties
    examples = sorted((REPO / "examples").glob("*.ttl"))
    paths = []
    for i in range(count):
        example = examples[i % len(examples)]
        path = directory / f"{i:04d}-{example.name}"
        path.write_text(vary(example.read_text(encoding="utf-8"), i, properties), encoding="utf-8")
        paths.append(path)
    return paths


def in_process(paths: list[Path], out: Path) -> None:
    from infra_policy.engine.outputs import export
    from infra_policy.engine.pipeline import Evaluator
    from infra_policy.site.publish import publish
    from infra_policy.site.records import evaluated, from_evaluation
    from infra_policy.site.render import render_site

    start = time.perf_counter()
    evaluator = Evaluator.load()
    evaluations = [(path, evaluator.evaluate_file(path)) for path in paths]
    for _, ev in evaluations:
        export.decision_dict(ev, evaluator.policy)
    evaluated_at = time.perf_counter()
    # what the site adds per evaluation: why-not answers and the PROV-O twins (in the workers under --jobs)
    decisions = [
        evaluated(from_evaluation(ev, evaluator.policy, path.read_text(encoding="utf-8"), "bench"), path.name)
        for path, ev in evaluations
    ]
    explained_at = time.perf_counter()
    files = list(render_site(decisions, evaluator.kb, evaluator.policy))
    rendered_at = time.perf_counter()
    publish(files, out)
    written_at = time.perf_counter()
    size = sum(len(data) for _, data in files)
    print(f"in process, {len(paths)} decisions, {len(files)} files, {size / 1e6:.1f} MB")
    print(f"  evaluate (load, validate, infer, decide, justify, JSON)  {evaluated_at - start:6.2f} s")
    print(f"  why-not answers and PROV-O twins (Turtle, JSON-LD)       {explained_at - evaluated_at:6.2f} s")
    print(f"  render (pages, SVGs, trail, search index)                {rendered_at - explained_at:6.2f} s")
    print(f"  write and swap into place                                {written_at - rendered_at:6.2f} s")


def _tree(pid: int) -> list[int]:
    """The process and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed(command: list[str]) -> tuple[float, int, str, float]:
    """Wall time, peak memory of the process tree (bytes, PSS), standard output and CPU time of ``command``.

    The CPU time (user + system, of the command and all its workers) does not depend on what else the
    machine runs; the wall time does.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    outputs: list[str] = []
    reader = threading.Thread(target=lambda: outputs.append(process.stdout.read()), daemon=True)
    errors: list[str] = []
    error_reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    error_reader.start()
    while process.poll() is None:
        peak = max(peak, sum(_pss(pid) for pid in _tree(process.pid)))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    reader.join()
    error_reader.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command[:3])}… failed ({process.returncode}):\n{''.join(errors)[-2000:]}")
    return wall, peak, "".join(outputs), cpu


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f", {speed()}"


def speed() -> str:
    """The CPU time of a fixed pure-Python loop (best of 3): on a shared virtual machine the speed of a core
    varies (by up to 70% within minutes on the machine these figures were first taken on), and every
    figure here moves with it."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        counts: dict[int, int] = {}
        for i in range(1_000_000):
            counts[i % 1000] = counts.get(i % 1000, 0) + i
        best = min(best, time.process_time() - start)
    return f"reference loop {best * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="decisions of the cold build")
    parser.add_argument("--rebuild", type=int, default=1_000, help="decisions of the rebuild after one change")
    parser.add_argument("--profile", type=int, default=100, help="decisions timed stage by stage in process (0: no)")
    parser.add_argument("--keep", type=Path, help="also leave the generated site of the cold build in this folder")
    args = parser.parse_args()
    program = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if program is None:
        sys.exit("infra-policy is not installed next to this Python; pip install . first")
    cpus = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="infra-policy-bench-") as tmp:
        work = Path(tmp)
        (work / "facts").mkdir()
        paths = generate(max(args.count, args.rebuild), work / "facts")
        print(f"infra-policy site, {cpus} CPUs available, {load()}")
        if args.count:
            out = args.keep or work / "cold" / "site"
            command = [program, "site", *map(str, paths[: args.count]), "-o", str(out), "--cache", str(work / "c1")]
            wall, peak, _, cpu = timed(command)
            print(
                f"  cold build, {args.count:,} decisions: {wall:7.1f} s wall, {cpu:7.1f} s CPU, "
                f"peak memory {peak / 2**20:,.0f} MiB ({cpu / args.count * 1000:.1f} ms CPU per decision; "
                f"target <= 180 s and <= 1 GiB on 2 cores)   [{load()}]"
            )
        if args.rebuild:
            subset = paths[: args.rebuild]
            out = work / "warm" / "site"
            command = [program, "site", *map(str, subset), "-o", str(out), "--cache", str(work / "c2")]
            first, _, _, _ = timed(command)
            changed = subset[len(subset) // 2]
            changed.write_text(changed.read_text(encoding="utf-8").replace(" #", " (changed) #", 1), encoding="utf-8")
            wall, peak, output, cpu = timed(command)
            counts = " ".join(output.splitlines()[-1].split())
            print(
                f"  rebuild, {args.rebuild:,} decisions after one facts file changed: {wall:5.2f} s wall, "
                f"{cpu:5.2f} s CPU, "
                f"peak memory {peak / 2**20:,.0f} MiB (first build {first:.1f} s; target <= 5 s)   [{load()}]"
            )
            print(f"    {counts}")
        if args.profile:
            in_process(paths[: args.profile], work / "site-in-process")


if __name__ == "__main__":
    main()
