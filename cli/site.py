"""`infra-policy site`: publish decisions as a static, offline policy site."""

from __future__ import annotations

from collections.abc import Callable
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
            help="Also publish the recorded decisions in this folder (*.json, as `evaluate --format json` writes).",
        )(function)
        function = click.option(
            "--output", "-o", type=_path, required=True, help="Folder to publish the site in (replaced atomically)."
        )(function)
        return click.argument("facts", type=_path, nargs=-1)(function)

    return apply


def _site(
    facts: tuple[Path, ...], output: Path, records_dir: Path | None, kb_dir: Path | None, rules_dir: Path | None
) -> None:
    """Evaluate FACTS files and publish every decision as a static site in OUTPUT.

    The site has an overview, a page per decision (placement, factor balance,
    justification graph, full trail, why-not answers, missing facts, the facts
    as given, a JSON twin), factor, rule and source pages, and a search. It
    works offline from file:// or any static host. The same inputs give the
    same files; a failed build leaves the previous site in place.
    """
    if not facts and records_dir is None:
        raise click.UsageError("give at least one FACTS file or --records DIR.")
    from infra_policy.engine import export
    from infra_policy.engine.errors import FactsError
    from infra_policy.engine.pipeline import Evaluator
    from infra_policy.site.publish import check_target, publish
    from infra_policy.site.records import evaluated, read_records
    from infra_policy.site.render import render_site

    check_target(output)  # before any work: a wrong -o should fail fast
    evaluator = Evaluator.load(kb_dir, rules_dir)
    decisions = []
    for path in facts:
        evaluation = evaluator.evaluate_file(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:  # it was just parsed, so this is a race or an odd file
            raise FactsError(f"{path}: could not be read again to publish it ({exc}).") from exc
        decisions.append(evaluated(export.decision_dict(evaluation, evaluator.policy), path.name, text))
    if records_dir is not None:
        decisions.extend(read_records(records_dir))
    count = publish(render_site(decisions, evaluator.kb, evaluator.policy), output)
    click.echo(f"{output}: published {len(decisions)} decision{'s' if len(decisions) != 1 else ''} ({count} files).")
