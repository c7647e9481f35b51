"""`infra-policy site`: publish decisions as a static, offline policy site."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from infra_policy.site import UNUSED_DAYS

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
            "--explain",
            is_flag=True,
            help="Also show, per workload, the facts that decide it and the smallest changes that would give "
            "each other stance (`explain --sufficient` and `--flip`; about 0.2–1 s per workload, kept in the cache).",
        )(function)
        function = click.option(
            "--no-cache",
            is_flag=True,
            help="Evaluate and render everything again, and keep nothing (the cache is not read or written).",
        )(function)
        function = click.option(
            "--cache",
            "cache_dir",
            type=_path,
            help="Folder of the cache of evaluations and pages (default: .infra-policy-cache beside OUTPUT). "
            "It must be private: owned by you and writable by you only. After a build, what no build has used "
            f"for {UNUSED_DAYS} days is removed.",
        )(function)
        function = click.option(
            "--keep-going",
            is_flag=True,
            help="Publish every decision that can be made and list the inputs that failed (exit 1); "
            "without it the first failure stops the build and the previous site stays.",
        )(function)
        function = click.option(
            "--log",
            "log_file",
            type=_path,
            help="A decision log (`evaluate --log FILE`) that orders the records of --records in the "
            "history pages; its hash chain must verify.",
        )(function)
        function = click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            help="Worker processes that evaluate facts files and render pages (default: the CPUs available). "
            "Output does not depend on it.",
        )(function)
        function = click.option(
            "--output", "-o", type=_path, required=True, help="Folder to publish the site in (replaced atomically)."
        )(function)
        function = input_options(function)
        function = strict_option(function)
        return click.argument("facts", type=FACTS_PATH, nargs=-1)(function)

    return apply


def _version() -> str:
    # as `infra-policy --version` says it; it names the engine in the PROV-O twins
    from infra_policy import version

    return version()


def _site(
    facts: tuple[Path, ...],
    output: Path,
    jobs: int | None,
    records_dir: Path | None,
    log_file: Path | None,
    keep_going: bool,
    cache_dir: Path | None,
    no_cache: bool,
    explain: bool,
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
    justification, full trail, why-not answers, missing facts, the facts
    as given, JSON, Turtle and JSON-LD twins), factor, rule and source pages, a history per
    organization with several records, and a search. It works offline from file:// or any
    static host. The same inputs give the same files; a failed build leaves the previous site
    in place. Evaluations and pages are kept in a cache (default: .infra-policy-cache beside
    OUTPUT), so a rebuild evaluates and renders only what changed.
    """
    if not facts and records_dir is None:
        raise click.UsageError("give at least one FACTS file or --records DIR.")
    if log_file is not None and records_dir is None:
        raise click.UsageError("--log orders the history of recorded decisions: give --records DIR too.")
    if no_cache and cache_dir is not None:
        raise click.UsageError("--cache and --no-cache cannot be given together.")
    import infra_policy
    from infra_policy.engine.stages.inputs import Limits, decode_input
    from infra_policy.engine.stages.load import STDIN
    from infra_policy.site.build import Settings, build_site, read_log_order
    from infra_policy.site.cache import DEFAULT_NAME, Cache, code_digest, salt, sha256_hex
    from infra_policy.site.publish import check_target
    from infra_policy.site.records import RecordError

    from .batch import Progress
    from .reading import STDIN_ARGUMENT

    check_target(output)  # before any work: a wrong -o should fail fast
    if facts.count(STDIN_ARGUMENT) > 1:
        raise click.UsageError("standard input (-) can be given only once.")
    stdin_text = None
    if STDIN_ARGUMENT in facts:
        stdin_text = decode_input(click.get_binary_stream("stdin").read(max_bytes + 1), STDIN, max_bytes)
    record_files: list[Path] = []
    if records_dir is not None:
        if not records_dir.is_dir():
            raise RecordError(
                f"{records_dir}: --records must name a directory of decision records or decision documents (*.json)."
            )
        record_files = sorted(records_dir.glob("*.json"))
    log_order = read_log_order(log_file) if log_file is not None else None
    limits = Limits(max_bytes, max_triples, max_workloads)
    settings = Settings(rules_dir, kb_dir, strict, input_format, limits, _version(), explain, overlays)
    # loaded once, inherited by the workers
    evaluator = infra_policy.evaluator(rules=rules_dir, kb=kb_dir, overlays=overlays)
    build_salt = salt(
        {
            "version": settings.engine_version,
            "code": code_digest(),
            "kb": evaluator.kb_digest,
            "rules": evaluator.rules_digest,
            "overlays": [sha256_hex(Path(o).read_bytes()) for o in overlays],
            "strict": strict,
            "input_format": (input_format or "").lower(),
            "limits": [max_bytes, max_triples, max_workloads],
            "explain": explain,
        }
    )
    parent = output.parent if str(output.parent) else Path(".")
    cache = Cache(None if no_cache else (cache_dir or parent / DEFAULT_NAME))
    bars = {"evaluate": Progress(len(facts) + len(record_files)), "render": None}

    def progress(phase: str, done: int, total: int, name: str) -> None:
        bar = bars.get(phase)
        if bar is None:
            bars["evaluate"].close()
            bar = bars[phase] = Progress(total)
        bar.step(f"{phase} {name}")

    debug = bool(click.get_current_context().find_root().params.get("debug"))
    try:
        report = build_site(
            list(facts),
            record_files,
            output,
            settings=settings,
            evaluator=evaluator,
            cache=cache,
            salt=build_salt,
            jobs=jobs or len(os.sched_getaffinity(0)),
            keep_going=keep_going,
            debug=debug,
            stdin_text=stdin_text,
            log_order=log_order,
            log_name=log_file.name if log_file is not None else "",
            progress=progress,
        )
        pruned = cache.prune()  # after a build that succeeded: what it used was just renewed
    finally:
        for bar in bars.values():
            if bar is not None:
                bar.close()
        cache.close()
    for _, warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for _, error in report.failed:
        click.echo(f"error: {error}", err=True)
    plural = "s" if report.decisions != 1 else ""
    click.echo(f"{output}: published {report.decisions} decision{plural} ({report.files} files).")
    if pruned:
        click.echo(f"  removed {pruned} cache file{'s' if pruned != 1 else ''} unused for {UNUSED_DAYS} days.")
    reused = "" if no_cache else f"; {report.evaluations_reused} from the cache"
    pages = "" if no_cache else f", {report.pages_reused} from the cache"
    click.echo(
        f"  evaluated {report.evaluated} facts file{'s' if report.evaluated != 1 else ''}{reused}; "
        f"rendered {report.rendered} decision page{'s' if report.rendered != 1 else ''}{pages}."
    )
    if report.failed:
        names = ", ".join(source for source, _ in report.failed)
        total = len(facts) + len(record_files)
        click.echo(
            f"error: {len(report.failed)} of {total} inputs failed: {names} (every other decision was published).",
            err=True,
        )
        raise SystemExit(1)
