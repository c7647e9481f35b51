"""`infra-policy impact`: what a policy change does to the decisions of a corpus (docs/overlays.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .batch import batch_options
from .errors import handle_errors
from .output import write_output
from .policy_options import overlay_option, policy_options
from .reading import FACTS_PATH, input_options

_path = click.Path(path_type=Path)


def _options(command):
    command = click.option(
        "--fail-on-change", is_flag=True, help="Exit 1 when any decision changes (for a CI gate on a policy change)."
    )(command)
    command = batch_options(
        keep_going_help="Go on after a file fails, list it in the report and exit 1 (without it the first failure "
        "stops the run with exit 2).",
        jobs_help="Worker processes deciding the files (the report does not depend on it).",
    )(command)
    command = click.option(
        "--output", "-o", type=_path, help="Write the report to this file (atomically) instead of standard output."
    )(command)
    command = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"], case_sensitive=False),
        default="text",
        show_default=True,
        help="text for people; json for programs (format infra-policy/impact@1, described by a JSON Schema in the "
        "source repository's docs/).",
    )(command)
    command = overlay_option(
        command,
        "--base-overlay",
        "base_overlays",
        help="An overlay of the base policy (repeatable, applied in order to --base-rules or the packaged rules).",
    )
    command = click.option(
        "--base-rules",
        "base_rules",
        type=_path,
        help="Directory of the base policy's rule files (default: the packaged rules).",
    )(command)
    command = click.option(
        "--records",
        "records_dir",
        type=_path,
        help="Decide again the decisions recorded in this folder (*.json: `evaluate --record` records or "
        "`evaluate --format json` documents), from the stated facts they hold.",
    )(command)
    command = policy_options(command)
    command = input_options(command)
    return click.argument("facts", nargs=-1, type=FACTS_PATH)(command)


def _label(rules_dir: Path | None) -> str:
    return str(rules_dir) if rules_dir is not None else "packaged rules"


@click.command("impact", short_help="Decide a corpus under the base and a changed policy; show what moves.")
@_options
@handle_errors
def impact(
    facts: tuple[Path, ...],
    records_dir: Path | None,
    base_rules: Path | None,
    base_overlays: tuple[Path, ...],
    rules_dir: Path | None,
    kb_dir: Path | None,
    overlays: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    jobs: int,
    keep_going: bool,
    fail_on_change: bool,
    **reading,
) -> None:
    """Decide FACTS (files, directories or glob patterns) and/or the decisions recorded in --records DIR
    under two policies and report which decisions change: the stance or plan of an organization or a
    workload, with the rules that made the difference.

    The new policy is --rules (default: the packaged rules) with the --overlay files; the base policy is
    --base-rules (default: the packaged rules) with the --base-overlay files. Both use --kb. Each file is
    read, validated and profiled once. Exit 0, or 1 with --fail-on-change when a decision changed (or
    under --keep-going when a file failed); 2 for bad input.
    """
    import infra_policy
    from infra_policy.engine.analysis.impact import impact_document, policy_description, render_impact

    from .batch import Progress, expand, outcomes

    if not facts and records_dir is None:
        raise click.UsageError("give FACTS files (or directories, or patterns) or --records DIR to decide again.")
    if rules_dir is None and not overlays and base_rules is None and not base_overlays:
        raise click.UsageError(
            "nothing to compare: give the change as --overlay NEW.yaml, or --rules NEW_DIR (against --base-rules "
            "OLD_DIR or the packaged rules)."
        )
    # both policies loaded before any worker forks (a bad overlay fails here, before any file is read)
    base = infra_policy.evaluator(rules=base_rules, kb=kb_dir, overlays=base_overlays)
    new = infra_policy.evaluator(rules=rules_dir, kb=kb_dir, overlays=overlays)
    files = expand(facts) if facts else []
    records = _records(records_dir) if records_dir is not None else []
    work = _Work(base_rules, base_overlays, rules_dir, overlays, kb_dir, reading, {str(p) for p in records})
    debug = bool(click.get_current_context().find_root().params.get("debug"))
    progress = Progress(len(files) + len(records))
    impacts: list[dict] = []
    errors: list[tuple[str, str]] = []
    for outcome in outcomes([*files, *records], work, jobs, debug):
        progress.step(outcome.source)
        if outcome.error is not None:
            if not keep_going:
                progress.close()
                from .errors import EXIT_INPUT

                click.echo(f"error: {outcome.error}", err=True)
                raise SystemExit(EXIT_INPUT)
            errors.append((outcome.source, outcome.error))
            continue
        assert outcome.text is not None
        impacts.append(json.loads(outcome.text))
    progress.close()
    document = impact_document(
        impacts, errors, policy_description(base, _label(base_rules)), policy_description(new, _label(rules_dir))
    )
    if fmt.lower() == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        from infra_policy.engine.errors import printable

        text = printable(render_impact(document))
    write_output(text, output)
    for _source, error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        click.echo(f"error: {len(errors)} of {len(files) + len(records)} files failed.", err=True)
        raise SystemExit(1)
    if fail_on_change and document["summary"]["decisions_changed"]:
        raise SystemExit(1)


def _records(directory: Path) -> list[Path]:
    from infra_policy.engine.errors import InputError

    if not directory.is_dir():
        raise InputError(f"{directory}: --records names a folder of decision records (*.json); this is not one.")
    found = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".json")
    if not found:
        raise InputError(
            f"{directory}: no decision records (*.json) in this folder; `evaluate --record DIR` writes them."
        )
    return found


class _Work:
    """The work on one file (picklable settings; the evaluators come from the library's cache, which
    forked workers inherit)."""

    def __init__(self, base_rules, base_overlays, rules_dir, overlays, kb_dir, reading, records) -> None:
        self.base = (base_rules, base_overlays)
        self.new = (rules_dir, overlays)
        self.kb_dir = kb_dir
        self.reading = reading
        self.records = records

    def __call__(self, path: Path):
        import infra_policy
        from infra_policy.engine.analysis.impact import decide_both

        from .batch import Outcome
        from .reading import read_facts

        base = infra_policy.evaluator(rules=self.base[0], kb=self.kb_dir, overlays=self.base[1])
        new = infra_policy.evaluator(rules=self.new[0], kb=self.kb_dir, overlays=self.new[1])
        document = self._recorded(path, base) if str(path) in self.records else read_facts(path, **self.reading)
        found = decide_both(document, str(path), base, new)
        return Outcome(str(path), json.dumps(found.to_dict(), ensure_ascii=False))

    def _recorded(self, path: Path, evaluator):
        from infra_policy.engine.records.replay import replay_document
        from infra_policy.site.records import read_record

        # read as the site reads a record: its id checked, a malformed one refused with the file named
        return replay_document(read_record(path).data, path, evaluator.kb.vocabulary, _limits(self.reading))


def _limits(reading: dict):
    from infra_policy.engine.stages.inputs import Limits

    return Limits(reading["max_bytes"], reading["max_triples"], reading["max_workloads"])
