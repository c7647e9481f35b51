"""Writing results: to stdout, or atomically to a file (never half-written).

Every file goes through :mod:`infra_policy.engine.files`: staged beside its
target and put in place only when the whole run has succeeded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click


def write_output(text: str, output: Path | None) -> None:
    """Print ``text``, or write it to ``output`` atomically."""
    from infra_policy.engine.files import write_file

    if output is None:
        click.echo(text, nl=False)
    else:
        write_file(Path(output), text.encode("utf-8"))


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
    """A handle on a temporary file beside ``output``, put in place only if the block succeeds.

    The same guarantees as :mod:`infra_policy.engine.files` (a regular target only, the mode the umask
    gives), for output written piece by piece.
    """
    from infra_policy.engine.files import OutputError, check_target, umask_mode

    output = Path(output)
    check_target(output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror} (in {output.parent}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.chmod(tmp, umask_mode())
        check_target(output)
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {output}: {exc.strerror}.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
