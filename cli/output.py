"""Writing results: to stdout, or atomically to a file (never half-written).

Every file goes through :mod:`infra_policy.engine.files`: staged beside its
target and put in place only when the whole run has succeeded.
"""

from __future__ import annotations

from pathlib import Path

import click


def write_output(text: str, output: Path | None) -> None:
    """Print ``text``, or write it to ``output`` atomically."""
    from infra_policy.engine.files import write_file

    if output is None:
        click.echo(text, nl=False)
    else:
        write_file(Path(output), text.encode("utf-8"))
