"""`infra-policy site`: publish decisions as a static, offline policy site."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from .reading import FACTS_PATH, input_options, strict_option

_path = click.Path(path_type=Path)

Decorator = Callable[[Callable], Callable]


def site_command(handle_errors: Decorator, kb_rules_options: Decorator) -> click.Command:
    """The `site` command, wrapped in the CLI's shared error handling and --kb/--rules options.

    A factory rather than a module-level command so that this module does not
    import cli.main (which registers it): no import cycle, even under `python -m`.
    """
    return click.command("site", short_help="Publish the decisions on FACTS files as a static site.")(
        _options(kb_rules_options)(handle_errors(_site))
    )


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
        function = input_options(function)
        function = strict_option(function)
        return click.argument("facts", type=FACTS_PATH, nargs=-1)(function)

    return apply


_CHUNK = 16
# Set before evaluating; forked workers inherit them.
_SETTINGS: dict = {}
_STDIN_TEXT: str | None = None  # the facts read from standard input (`-`), read once


def _version() -> str:
    # as `infra-policy --version` says it; it names the engine in the PROV-O twins
    from infra_policy import version

    return version()


def _evaluate(path: Path):
    """One facts file → what the site shows of its evaluation, and its warnings (runs in a worker too)."""
    import infra_policy
    from infra_policy.engine.stages.inputs import Limits
    from infra_policy.engine.stages.load import STDIN, load_facts, parse_facts
    from infra_policy.site.records import from_evaluation

    from .reading import STDIN_ARGUMENT

    settings = _SETTINGS
    limits = Limits(settings["max_bytes"], settings["max_triples"], settings["max_workloads"])
    fmt = settings["input_format"].lower() if settings["input_format"] else None
    if path == STDIN_ARGUMENT:
        document, text = parse_facts(_STDIN_TEXT, STDIN, fmt or "turtle", limits), _STDIN_TEXT
    else:
        document = load_facts(path, fmt, limits)
        text = document.text  # as read: reading the file again could give other bytes
    decision = infra_policy.evaluate(
        document, rules=settings["rules"], kb=settings["kb"], strict=settings["strict"], overlays=settings["overlays"]
    )
    evaluator = decision.evaluator
    result = from_evaluation(decision.evaluation, evaluator.policy, text, _version(), evaluator.kb.vocabulary)
    return result, decision.warnings


def _site(
    facts: tuple[Path, ...],
    output: Path,
    jobs: int | None,
    records_dir: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    overlays: tuple[Path, ...],
    strict: bool,
    input_format: str | None,
    max_bytes: int,
    max_triples: int,
    max_workloads: int,
) -> None:
    """Evaluate FACTS files (- for standard input) and publish every decision as a static site in OUTPUT.

    The site has an overview, a page per decision (placement, factor balance,
    justification graph, full trail, why-not answers, missing facts, the facts
    as given, JSON, Turtle and JSON-LD twins), factor, rule and source pages, and a search. It
    works offline from file:// or any static host. The same inputs give the
    same files; a failed build leaves the previous site in place.
    """
    if not facts and records_dir is None:
        raise click.UsageError("give at least one FACTS file or --records DIR.")
    import infra_policy
    from infra_policy.engine.stages.inputs import decode_input
    from infra_policy.engine.stages.load import STDIN
    from infra_policy.site.publish import check_target, publish
    from infra_policy.site.records import check_renderable, evaluated, read_records
    from infra_policy.site.render import render_site

    from .reading import STDIN_ARGUMENT, show_warnings

    check_target(output)  # before any work: a wrong -o should fail fast
    global _STDIN_TEXT
    if facts.count(STDIN_ARGUMENT) > 1:
        raise click.UsageError("standard input (-) can be given only once.")
    if STDIN_ARGUMENT in facts:
        _STDIN_TEXT = decode_input(click.get_binary_stream("stdin").read(max_bytes + 1), STDIN, max_bytes)
    _SETTINGS.update(
        overlays=overlays,
        rules=rules_dir,
        kb=kb_dir,
        strict=strict,
        input_format=input_format,
        max_bytes=max_bytes,
        max_triples=max_triples,
        max_workloads=max_workloads,
    )
    evaluator = infra_policy.evaluator(
        rules=rules_dir, kb=kb_dir, overlays=overlays
    )  # loaded once, inherited by the workers
    jobs = jobs or len(os.sched_getaffinity(0))
    if jobs > 1 and len(facts) >= 2 * _CHUNK:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Forked workers inherit the loaded evaluator; map() keeps the input order.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_evaluate, facts, chunksize=_CHUNK))
    else:
        results = [_evaluate(path) for path in facts]
    for _, warnings in results:
        show_warnings(warnings)
    decisions = [
        evaluated(result, "stdin" if path == STDIN_ARGUMENT else path.name)
        for path, (result, _) in zip(facts, results, strict=True)
    ]
    if records_dir is not None:
        recorded = read_records(records_dir)
        check_renderable(recorded, records_dir, evaluator.kb, evaluator.policy)
        decisions.extend(recorded)
    count = publish(render_site(decisions, evaluator.kb, evaluator.policy), output)
    click.echo(f"{output}: published {len(decisions)} decision{'s' if len(decisions) != 1 else ''} ({count} files).")
