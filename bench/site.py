"""Benchmark of `infra-policy site` (run: python bench/site.py).

Generates COUNT facts files (default 1,000) by varying the shipped examples
deterministically — every number scaled, enumerated values and booleans
redrawn from the vocabulary of the knowledge base, names numbered — then
prints:
  * the wall time of the installed `infra-policy site FILES… -o DIR` for all
    of them, evaluating with one process and with one per CPU (target: at
    most 30 s for 1,000 decisions on 2 cores);
  * where the time goes, in process: evaluating, explaining (why-not answers
    and PROV-O twins), rendering, writing.

Nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="decisions to publish")
    parser.add_argument("--keep", type=Path, help="also leave the generated site in this folder")
    args = parser.parse_args()
    program = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if program is None:
        sys.exit("infra-policy is not installed next to this Python; pip install . first")
    with tempfile.TemporaryDirectory(prefix="infra-policy-bench-") as tmp:
        work = Path(tmp)
        (work / "facts").mkdir()
        paths = generate(args.count, work / "facts")
        out = args.keep or work / "site"
        print(f"infra-policy site, {args.count} generated facts files, {len(os.sched_getaffinity(0))} CPUs available")
        for jobs in ("1", str(len(os.sched_getaffinity(0)))):
            start = time.perf_counter()
            command = [program, "site", "--jobs", jobs, *map(str, paths), "-o", str(out)]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            per = wall / args.count * 1000
            print(f"  --jobs {jobs}  wall time {wall:6.2f} s   ({per:.1f} ms per decision; target <= 30 s for 1,000)")
        in_process(paths, work / "site-in-process")


if __name__ == "__main__":
    main()
