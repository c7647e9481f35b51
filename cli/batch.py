"""Many facts files in one run: `evaluate FILE... | DIR | GLOB` and the same for `validate`.

Each file is read, checked and evaluated exactly as a single-file run would (the same library calls,
so the same bytes); what differs is where the results go:

* JSON Lines (``--format json``, standard output or ``-o FILE.jsonl``): one line per file, in the order
  the files were named: ``{"source": …, "decision": {…}}`` (``"validation"`` for `validate`), or
  ``{"source": …, "error": "…"}`` for a file that failed under ``--keep-going``;
* one file each (``-o DIR/``): ``DIR/<name>.<json|txt|ttl|jsonld>``, byte for byte what the single-file
  run writes, and a summary table on standard output;
* a summary table (``--format text``): one row per file.

``--jobs N`` evaluates in N worker processes (forked after the knowledge base and rules are loaded,
so they share them); results are still written in the order the files were named. Progress goes to
standard error only when it is a terminal.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from .output import atomic_output, write_output

EXTENSION_OF_FORMAT = {"json": ".json", "text": ".txt", "turtle": ".ttl", "jsonld": ".jsonld"}
_GLOB_CHARACTERS = frozenset("*?[")


def is_glob(argument: str) -> bool:
    return bool(_GLOB_CHARACTERS & set(argument))


def is_batch(arguments: tuple[Path, ...], output: Path | None) -> bool:
    """Several arguments, a directory, a glob pattern, or ``-o DIR/`` (with its slash) make a batch.

    One file with ``-o`` naming a directory without the slash stays an error, as it always was.
    """
    if len(arguments) != 1 or (output is not None and str(output).endswith(("/", os.sep))):
        return True
    only = arguments[0]
    return str(only) != "-" and (only.is_dir() or (not only.exists() and is_glob(str(only))))


def wants_directory(output: Path | None) -> bool:
    """In a batch, ``-o DIR/`` (or an existing directory) means one file each."""
    return output is not None and (str(output).endswith(("/", os.sep)) or output.is_dir())


def expand(arguments: tuple[Path, ...]) -> list[Path]:
    """The facts files the arguments name, in order: files as given, a directory's files with a facts
    extension (sorted), a glob pattern's matches (sorted). Each file at most once."""
    from infra_policy.engine.errors import InputError
    from infra_policy.engine.stages.inputs import EXTENSIONS

    found: list[Path] = []
    for argument in arguments:
        text = str(argument)
        if text == "-":
            raise click.UsageError("standard input (-) cannot be part of a batch; name the files instead.")
        if argument.is_dir():
            # not only regular files: a FIFO or a broken link named like facts fails with its own message
            # instead of silently dropping out of the batch
            files = sorted(p for p in argument.iterdir() if not p.is_dir() and p.suffix.lower() in EXTENSIONS)
            if not files:
                known = ", ".join(sorted(EXTENSIONS))
                raise InputError(
                    f"{argument}: a directory without facts files. A directory is read as a batch of the files "
                    f"directly in it whose extension names an RDF format ({known})."
                )
            found += files
        elif not argument.exists() and is_glob(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True) if not Path(m).is_dir())
            if not matches:
                why = "a pattern is expanded to the files it matches"
                raise InputError(f"{text}: no file matches this pattern; {why}.")
            found += matches
        else:
            found.append(argument)  # a missing file fails like in a single-file run, with its message
    unique = list(dict.fromkeys(found))
    return unique


@dataclass(frozen=True)
class Outcome:
    """What one file gave: the text to write (or None), a summary row, warnings, or an error."""

    source: str
    text: str | None = None
    row: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    record: dict | None = None


def _error_text(exc: BaseException) -> str:
    from infra_policy.engine.errors import EngineError, InputError

    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, EngineError):
        return f"the policy could not be evaluated: {exc}"
    return f"internal error ({type(exc).__name__}: {exc}). Please report it; rerun with --debug for the traceback."


# The work of one file, set before the worker processes fork so they inherit it (nothing is pickled
# but the path and the outcome).
_WORK: Callable[[Path], Outcome] | None = None


def _run_one(path: Path) -> Outcome:
    assert _WORK is not None
    try:
        from infra_policy.engine.stages.inputs import quiet_libraries

        with quiet_libraries():
            return _WORK(path)
    except Exception as exc:  # reported per file; --debug runs in process and re-raises
        return Outcome(str(path), error=_error_text(exc))


def outcomes(files: list[Path], work: Callable[[Path], Outcome], jobs: int, debug: bool) -> Iterator[Outcome]:
    """The outcome of each file, in the order of ``files``; with ``jobs`` > 1 from a pool of forked workers."""
    global _WORK
    _WORK = work
    if debug:  # the traceback of the first failure, from this process
        for path in files:
            yield work(path)
        return
    if jobs <= 1 or len(files) < 2:
        for path in files:
            yield _run_one(path)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")  # the workers share the loaded knowledge base and rules
    chunk = max(1, min(64, len(files) // (jobs * 8)))
    with context.Pool(jobs) as pool:
        yield from pool.imap(_run_one, files, chunksize=chunk)


class Progress:
    """``[done/total] file`` on standard error, only when it is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        stream = click.get_text_stream("stderr")
        self.shown = stream.isatty()
        self.stream = stream
        self.done = 0

    def step(self, source: str) -> None:
        self.done += 1
        if self.shown:
            self.stream.write(f"\r\x1b[K[{self.done}/{self.total}] {source}")
            self.stream.flush()

    def close(self) -> None:
        if self.shown and self.done:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines) + "\n"


def run_batch(
    files: list[Path],
    work: Callable[[Path], Outcome],
    *,
    fmt: str,
    output: Path | None,
    jobs: int,
    keep_going: bool,
    header: tuple[str, ...],
    payload_key: str,
    error_row: Callable[[str], tuple[str, ...]],
    on_record: Callable[[Outcome], None] | None = None,
) -> None:
    """Run ``work`` on every file and write the results; exit 1 if a file failed under ``--keep-going``,
    2 at the first failure without it (nothing written then)."""
    from .errors import EXIT_INPUT

    debug = bool(click.get_current_context().find_root().params.get("debug"))
    to_directory = wants_directory(output)
    if to_directory:
        assert output is not None
        _check_unique_names(files, fmt)
        if not output.is_dir():
            raise click.UsageError(f"cannot write into {output}: the directory does not exist.")
    elif fmt not in ("json", "text"):
        raise click.UsageError(f"--format {fmt} writes one document per file: give a directory, -o DIR/.")
    progress = Progress(len(files))
    failed: list[Outcome] = []
    rows: list[tuple[str, ...]] = []
    lines_output = fmt == "json" and not to_directory
    staging = Path(tempfile.mkdtemp(prefix=".infra-policy-batch.", dir=output)) if to_directory else None
    try:
        with _lines_sink(output if lines_output else None, lines_output) as write_line:
            for outcome in outcomes(files, work, jobs, debug):
                progress.step(outcome.source)
                for warning in outcome.warnings:
                    click.echo(f"warning: {outcome.source}: {warning}", err=True)
                if outcome.error is not None:
                    if not keep_going:
                        progress.close()
                        click.echo(f"error: {outcome.error}", err=True)
                        raise SystemExit(EXIT_INPUT)
                    failed.append(outcome)
                    rows.append(error_row(outcome.source))
                    if lines_output:
                        write_line(json.dumps({"source": outcome.source, "error": outcome.error}, ensure_ascii=False))
                    continue
                rows.append(outcome.row)
                if lines_output:
                    assert outcome.text is not None
                    source = json.dumps(outcome.source, ensure_ascii=False)
                    write_line(f'{{"source": {source}, "{payload_key}": {outcome.text}}}')
                elif staging is not None and outcome.text is not None:
                    name = Path(outcome.source).stem + EXTENSION_OF_FORMAT[fmt]
                    (staging / name).write_text(outcome.text, encoding="utf-8", newline="\n")
                if on_record is not None:
                    on_record(outcome)
        progress.close()
        if staging is not None:
            assert output is not None
            for written in sorted(staging.iterdir()):
                os.replace(written, output / written.name)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    if to_directory:
        click.echo(table(header, rows), nl=False)
    elif not lines_output:
        write_output(table(header, rows), output)
    for outcome in failed:
        click.echo(f"error: {outcome.error}", err=True)
    if failed:
        names = ", ".join(o.source for o in failed)
        click.echo(f"error: {len(failed)} of {len(files)} files failed: {names} (the others were written).", err=True)
        raise SystemExit(1)


def _check_unique_names(files: list[Path], fmt: str) -> None:
    seen: dict[str, Path] = {}
    for path in files:
        name = path.stem + EXTENSION_OF_FORMAT[fmt]
        if name in seen:
            raise click.UsageError(
                f"{seen[name]} and {path} would both be written as {name}; evaluate them in separate runs "
                "or write JSON Lines (-o FILE.jsonl)."
            )
        seen[name] = path


class _lines_sink:  # noqa: N801 (used as a context manager, like open)
    """Where JSON Lines go: standard output, or a file written atomically (renamed only on success)."""

    def __init__(self, output: Path | None, active: bool) -> None:
        self.output, self.active = output, active
        self._context = None

    def __enter__(self) -> Callable[[str], None]:
        if not self.active:
            return lambda line: None
        if self.output is None:
            stdout = click.get_text_stream("stdout")
            return lambda line: stdout.write(line + "\n")
        self._context = atomic_output(self.output)
        handle = self._context.__enter__()
        return lambda line: handle.write(line + "\n")

    def __exit__(self, *exc_info) -> None:
        if self._context is not None:
            self._context.__exit__(*exc_info)
        elif self.active and self.output is None:
            sys.stdout.flush()


def batch_options(
    keep_going_help: str = "With several files: go on after a file fails, list the failed files at the end and exit 1.",
    jobs_help: str = "With several files: how many worker processes evaluate them (results keep the files' order).",
):
    """--keep-going and --jobs, as every command that works through many facts files offers them."""

    def decorate(command):
        command = click.option("--keep-going", is_flag=True, help=keep_going_help)(command)
        return click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help=jobs_help)(
            command
        )

    return decorate
