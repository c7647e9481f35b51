"""The options that choose the policy, shared by every command that decides or reads the rules.

One definition, so `evaluate`, `what-if`, `explain`, `diff`, `audit`, `site`, `rules list|check` and
`impact` accept the same `--rules`, `--kb` and `--overlay` (docs/overlays.md of the source repository).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

_path = click.Path(path_type=Path)


def overlay_option(command: Callable, name: str = "--overlay", dest: str = "overlays", help: str | None = None):
    return click.option(
        name,
        dest,
        type=_path,
        multiple=True,
        metavar="FILE.yaml",
        help=help
        or "A policy overlay to apply to the rules (repeatable, applied in order): changed weights, "
        "thresholds and parameters, disabled and added rules.",
    )(command)


def policy_options(command: Callable) -> Callable:
    """--rules DIR, --kb DIR and --overlay FILE.yaml (repeatable): the policy a command decides with."""
    command = overlay_option(command)
    command = click.option(
        "--rules", "rules_dir", type=_path, help="Directory of rule files to use instead of the packaged rules."
    )(command)
    command = click.option(
        "--kb", "kb_dir", type=_path, help="Knowledge base directory to use instead of the packaged one."
    )(command)
    return command
