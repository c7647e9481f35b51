"""Writing results: to stdout, or atomically to a file (never half-written)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic_output(output) as handle:
        handle.write(text)


@contextmanager
def open_output(output: Path | None) -> Iterator[TextIO]:
    """A text stream to write a result through piece by piece: standard output, or ``output`` atomically."""
    if output is None:
        stdout = click.get_text_stream("stdout")
        yield stdout
        stdout.flush()
        return
    with atomic_output(output) as handle:
        yield handle


@contextmanager
def atomic_output(output: Path) -> Iterator[TextIO]:
    """A handle on a temporary file next to ``output``, renamed to it only if the block succeeds."""
    output = Path(output)
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise click.UsageError(f"cannot write {output}: the directory {directory} does not exist.")
    if output.is_dir():
        raise click.UsageError(f"cannot write {output}: it is a directory; give a file name.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror} (in {directory}).") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise click.UsageError(f"cannot write {output}: {exc.strerror}.") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
