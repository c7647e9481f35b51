"""`infra-policy site`: publish decisions as a static, offline policy site."""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import click

_path = click.Path(path_type=Path)

Decorator = Callable[[Callable], Callable]


def site_command(handle_errors: Decorator, kb_rules_options: Decorator) -> click.Command:
    """The `site` command, wrapped in the CLI's shared error handling and --kb/--rules options.

    A factory rather than a module-level command so that this module does not
    import cli.main (which registers it): no import cycle, even under `python -m`.
    """
    return click.command("site")(_options(kb_rules_options)(handle_errors(_site)))


def _options(kb_rules_options: Decorator) -> Decorator:
    def apply(function: Callable) -> Callable:
        function = kb_rules_options(function)
        function = click.option(
            "--records",
            "records_dir",
            type=_path,
            help="Also publish the recorded decisions in this folder: *.json decision records "
            "(`evaluate --record DIR`) or decision documents (`evaluate --format json`).",
        )(function)
        function = click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            help="Facts files evaluated in parallel (default: the CPUs available). Output does not depend on it.",
        )(function)
        function = click.option(
            "--output", "-o", type=_path, required=True, help="Folder to publish the site in (replaced atomically)."
        )(function)
        return click.argument("facts", type=_path, nargs=-1)(function)

    return apply


_CHUNK = 16
_EVALUATOR = None  # set before evaluating; forked workers inherit it


def _version() -> str:
    # as `infra-policy --version` says it; it names the engine in the PROV-O twins
    try:
        return metadata.version("infra-policy")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _evaluate(path: Path):
    """One facts file → what the site shows of its evaluation (runs in a worker too)."""
    from infra_policy.site.records import from_evaluation

    evaluation = _EVALUATOR.evaluate_file(path)
    text = evaluation.document.text
    return from_evaluation(evaluation, _EVALUATOR.policy, text, _version())


def _site(
    facts: tuple[Path, ...],
    output: Path,
    jobs: int | None,
    records_dir: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
) -> None:
    """Evaluate FACTS files and publish every decision as a static site in OUTPUT.

    The site has an overview, a page per decision (placement, factor balance,
    justification graph, full trail, why-not answers, missing facts, the facts
    as given, JSON, Turtle and JSON-LD twins), factor, rule and source pages, and a search. It
    works offline from file:// or any static host. The same inputs give the
    same files; a failed build leaves the previous site in place.
    """
    if not facts and records_dir is None:
        raise click.UsageError("give at least one FACTS file or --records DIR.")
    from infra_policy.engine.pipeline import Evaluator
    from infra_policy.site.publish import check_target, publish
    from infra_policy.site.records import evaluated, read_records
    from infra_policy.site.render import render_site

    check_target(output)  # before any work: a wrong -o should fail fast
    global _EVALUATOR
    _EVALUATOR = Evaluator.load(kb_dir, rules_dir)
    evaluator = _EVALUATOR
    jobs = jobs or len(os.sched_getaffinity(0))
    if jobs > 1 and len(facts) >= 2 * _CHUNK:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Forked workers inherit the loaded evaluator; map() keeps the input order.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_evaluate, facts, chunksize=_CHUNK))
    else:
        results = [_evaluate(path) for path in facts]
    decisions = [evaluated(result, path.name) for path, result in zip(facts, results, strict=True)]
    if records_dir is not None:
        decisions.extend(read_records(records_dir))
    count = publish(render_site(decisions, evaluator.kb, evaluator.policy), output)
    click.echo(f"{output}: published {len(decisions)} decision{'s' if len(decisions) != 1 else ''} ({count} files).")
