"""The options every command that reads facts shares, and reading facts from a file or stdin.

One definition, so `evaluate`, `validate`, `explain`, `site` and `audit --facts` accept the same
`--input-format`, `--max-bytes`, `--max-triples` and `-` for standard input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

# A facts argument: a path, or "-" for standard input.
FACTS_PATH = click.Path(path_type=Path, allow_dash=True)
STDIN_ARGUMENT = Path("-")


def input_options(command: Callable) -> Callable:
    """--input-format, --max-bytes, --max-triples and --max-workloads: how facts are read."""
    from infra_policy.engine.stages.inputs import DEFAULT_LIMITS, INPUT_FORMATS

    for option, default, what in (
        ("--max-workloads", DEFAULT_LIMITS.max_workloads, "Refuse facts with more workloads than this."),
        ("--max-triples", DEFAULT_LIMITS.max_triples, "Refuse facts with more triples than this."),
        ("--max-bytes", DEFAULT_LIMITS.max_bytes, "Refuse facts larger than this many bytes."),
    ):
        command = click.option(option, type=click.IntRange(min=1), default=default, show_default=True, help=what)(
            command
        )
    return click.option(
        "--input-format",
        type=click.Choice(list(INPUT_FORMATS), case_sensitive=False),
        help="Format of the facts (default: from the file's extension; Turtle for `-`, standard input).",
    )(command)


def strict_option(command: Callable) -> Callable:
    return click.option(
        "--strict",
        is_flag=True,
        help="Treat warnings (a term in a namespace one edit away from ip:, or an ip: name in another "
        "namespace) as errors.",
    )(command)


def set_option(required: bool = False) -> Callable[[Callable], Callable]:
    """`--set [WORKLOAD.]PROPERTY=VALUE`: a fact assumed in place of what the facts state (repeatable)."""
    return click.option(
        "--set",
        "assume",
        multiple=True,
        required=required,
        metavar="[WORKLOAD.]PROPERTY=VALUE",
        help="Assume this fact instead of what FACTS state (repeatable): itStaffFTE=0.5, or "
        "'Claims triage.dataSensitivity=Restricted' for one workload. The output, record and log mark it "
        "as assumed.",
    )


def read_facts(facts: Path, input_format: str | None, max_bytes: int, max_triples: int, max_workloads: int):
    """The facts document of a path, or of standard input when the path is `-`."""
    from infra_policy.engine.stages.inputs import Limits, decode_input
    from infra_policy.engine.stages.load import STDIN, load_facts, parse_facts

    limits = Limits(max_bytes=max_bytes, max_triples=max_triples, max_workloads=max_workloads)
    fmt = input_format.lower() if input_format else None
    if facts == STDIN_ARGUMENT:
        data = click.get_binary_stream("stdin").read(max_bytes + 1)
        return parse_facts(decode_input(data, STDIN, max_bytes), STDIN, fmt or "turtle", limits)
    return load_facts(facts, fmt, limits)


def show_warnings(warnings: tuple[str, ...]) -> None:
    """Warnings go to standard error, so the document on standard output stays clean."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
