"""Entry point of the ``infra-policy`` console script.

Heavy libraries are imported inside the commands that need them, so
``--help`` and ``--version`` stay instant.  Errors the engine raises on purpose
become one message and an exit status (DESIGN §9): 2 for bad input or usage,
3 for an internal error; ``--debug`` shows the traceback.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import click

from .errors import handle_errors

_path = click.Path(path_type=Path)


def _version() -> str:
    try:
        return metadata.version("infra-policy")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "--version", prog_name="infra-policy")
@click.option("--debug", is_flag=True, help="Show the full traceback when something fails.")
def main(debug: bool) -> None:
    """Decide where to run your LLMs — cloud, in-house or hybrid — and prove why.

    Describe your organization and its workloads in a Turtle file (see the
    examples/ folder and the README), then run `infra-policy evaluate FILE`.
    """


def _kb_rules_options(command):
    command = click.option(
        "--rules", "rules_dir", type=_path, help="Directory of rule files to use instead of the packaged rules."
    )(command)
    command = click.option(
        "--kb", "kb_dir", type=_path, help="Knowledge base directory to use instead of the packaged one."
    )(command)
    return command


def _input_options(command):
    """--input-format, --max-bytes, --max-triples and --max-workloads: how a facts file is read."""
    from infra_policy.engine.inputs import DEFAULT_LIMITS, INPUT_FORMATS

    command = click.option(
        "--max-workloads",
        type=click.IntRange(min=1),
        default=DEFAULT_LIMITS.max_workloads,
        show_default=True,
        help="Refuse a facts file with more workloads than this.",
    )(command)
    command = click.option(
        "--max-triples",
        type=click.IntRange(min=1),
        default=DEFAULT_LIMITS.max_triples,
        show_default=True,
        help="Refuse a facts file with more triples than this.",
    )(command)
    command = click.option(
        "--max-bytes",
        type=click.IntRange(min=1),
        default=DEFAULT_LIMITS.max_bytes,
        show_default=True,
        help="Refuse a facts file larger than this many bytes.",
    )(command)
    return click.option(
        "--input-format",
        type=click.Choice(list(INPUT_FORMATS)),
        help="Format of FACTS (default: from its extension).",
    )(command)


def _load_facts(facts: Path, input_format: str | None, max_bytes: int, max_triples: int, max_workloads: int):
    from infra_policy.engine.inputs import Limits
    from infra_policy.engine.load import load_facts

    limits = Limits(max_bytes=max_bytes, max_triples=max_triples, max_workloads=max_workloads)
    return load_facts(facts, input_format, limits)


def _evaluator(kb_dir: Path | None, rules_dir: Path | None):
    from infra_policy.engine.pipeline import Evaluator

    return Evaluator.load(kb_dir, rules_dir)


@main.command()
@click.argument("facts", type=_path)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle", "jsonld"]),
    default="text",
    show_default=True,
    help="text for people, json for programs (DESIGN §9), turtle or jsonld for the W3C PROV-O derivation.",
)
@click.option("--output", "-o", type=_path, help="Write to this file (atomically) instead of standard output.")
@click.option(
    "--record",
    "record_dir",
    type=_path,
    help="Also write the decision record to DIR/<id>.json (content-addressed; see `audit`).",
)
@click.option("--log", "log_file", type=_path, help="Also append the decision to this hash-chained decision log.")
@_kb_rules_options
@_input_options
@handle_errors
def evaluate(
    facts: Path,
    fmt: str,
    output: Path | None,
    record_dir: Path | None,
    log_file: Path | None,
    kb_dir: Path | None,
    rules_dir: Path | None,
    **reading,
) -> None:
    """Evaluate FACTS and print the stance per workload and for the organization."""
    evaluator = _evaluator(kb_dir, rules_dir)
    evaluation = evaluator.evaluate_document(_load_facts(facts, **reading))
    from infra_policy.engine import export

    if fmt == "json":
        text = export.render_json(evaluation, evaluator.policy)
    elif fmt in ("turtle", "jsonld"):
        from infra_policy.engine import prov

        render = prov.to_turtle if fmt == "turtle" else prov.to_jsonld
        text = render(evaluation, _version())
    else:
        text = export.render_text(evaluation, evaluator.kb, evaluator.policy)
    _publish(evaluation, evaluator, text, output, record_dir, log_file)


def _publish(evaluation, evaluator, text: str, output: Path | None, record_dir: Path | None, log_file: Path | None):
    """Write the output, the record and the log entry — every one of them, or none.

    The output and the record are staged beside their targets first; the log
    entry is appended next (all or nothing); only then are the staged files
    put in place, so a failing record or log leaves `-o` untouched.
    """
    from infra_policy.engine.files import StagedFile, commit_all

    record = None
    if record_dir is not None or log_file is not None:
        from infra_policy.engine.record import record_body, seal

        record = seal(record_body(evaluation, evaluator.policy))
    staged: list[StagedFile] = []
    try:
        if output is not None:
            staged.append(StagedFile(output, text.encode("utf-8")))
        record_path = None
        if record_dir is not None:
            from .audit_commands import stage_record

            record_path, staged_record = stage_record(record, record_dir)
            staged.append(staged_record)
        if log_file is not None:
            from .audit_commands import append_to_log

            append_to_log(record, log_file)
    except BaseException:
        for file in staged:
            file.discard()
        raise
    commit_all(staged)
    if output is None:
        click.echo(text, nl=False)
    if record_path is not None:
        click.echo(f"record: {record_path}", err=True)
    if log_file is not None:
        click.echo(f"logged: {record['id']} → {log_file}", err=True)


@main.command()
@click.argument("facts", type=_path)
@click.option("--kb", "kb_dir", type=_path, help="Knowledge base directory to use instead of the packaged one.")
@_input_options
@handle_errors
def validate(facts: Path, kb_dir: Path | None, **reading) -> None:
    """Check FACTS against the vocabulary and shapes; exit 2 listing every problem."""
    from infra_policy.engine.knowledge import load_knowledge_base
    from infra_policy.engine.profile import build_profile
    from infra_policy.engine.validate import validate_facts

    kb = load_knowledge_base(kb_dir)
    doc = _load_facts(facts, **reading)
    validate_facts(doc, kb)
    profile = build_profile(doc, kb.vocabulary)
    count = len(profile.workloads)
    implicit = " (implicit: the organization itself)" if profile.workloads[0].implicit else ""
    click.echo(
        f"{facts}: valid — organization {profile.name!r}, {count} workload{'s' if count != 1 else ''}"
        f"{implicit}, {len(doc.graph)} triple{'s' if len(doc.graph) != 1 else ''}."
    )


@main.group()
def rules() -> None:
    """Inspect the rule sets."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_kb_rules_options
@handle_errors
def rules_list(fmt: str, kb_dir: Path | None, rules_dir: Path | None) -> None:
    """List every rule: id, what it concludes, and its title."""
    from infra_policy.engine.knowledge import load_knowledge_base
    from infra_policy.engine.rulecatalog import catalogue, render_catalogue

    kb = load_knowledge_base(kb_dir)
    from infra_policy.engine.ruleload import load_policy

    policy = load_policy(kb, rules_dir)
    entries = catalogue(policy)
    if fmt == "json":
        import json

        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
    else:
        click.echo(render_catalogue(entries), nl=False)


def _register_commands() -> None:
    from .audit_commands import audit, explain
    from .site import site_command

    main.add_command(explain)
    main.add_command(audit)
    main.add_command(site_command(handle_errors, _kb_rules_options))


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
