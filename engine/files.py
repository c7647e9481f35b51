"""Every file infra-policy reads or writes goes through here.

Reading: :func:`read_bounded` opens without following the file's promise of
a size — it counts the bytes it actually reads and stops one past the limit,
so ``/dev/zero`` or a growing file cannot exhaust memory — and opens
non-blocking, refusing anything but a regular file, so a FIFO with no writer
cannot hang a run.

Writing: :class:`StagedFile` writes the whole content to a temporary file
beside the target and renames it over the target only on :meth:`commit`, so a
run that fails later (a record or log that cannot be written) leaves every
target as it was.  Only regular files are ever replaced: a symbolic link, a
device, a FIFO or a socket at the target is refused, never turned into a
file.  Files get the permissions the umask allows (0644 with the usual 022),
like any file a program creates.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from infra_policy.engine.errors import InputError


class OutputError(InputError):
    """An output file or folder cannot be written (exit 2, naming the path)."""


_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
)


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a FIFO (named pipe)", "a regular file")."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


# --------------------------------------------------------------------------- reading

_CHUNK = 1 << 16


def read_bounded(
    path: Path,
    max_bytes: int,
    error: type[InputError],
    what: str,
    flag: str | None = None,
    shown: object = None,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them, or ``error`` saying why not.

    The limit is checked against the bytes read, not the size the file
    reports (0 for ``/dev/zero`` and pipes).  ``what`` names the kind of file
    in messages ("facts file", "rule file"), ``flag`` the option that raises
    the limit, if there is one; ``shown`` is how messages name the file
    (default: ``path``).
    """
    name = path if shown is None else shown
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(f"{name}: no such file.") from None
    except IsADirectoryError:
        raise error(f"{name}: is a directory; give the path of a {what}.") from None
    except OSError as exc:
        raise error(f"{name}: cannot be read ({exc.strerror}).") from None
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{name}: is a directory; give the path of a {what}.")
        if stat.S_ISREG(mode) and info.st_size > max_bytes:
            raise_limit = f"; if it is right, raise the limit ({flag})" if flag else ""
            raise error(
                f"{name}: the file is {info.st_size:,} bytes, more than the limit of {max_bytes:,} bytes "
                f"for a {what}{raise_limit}."
            )
        if not stat.S_ISREG(mode):
            raise error(
                f"{name}: is {kind_of(mode)}, not a regular file; infra-policy reads a {what} only from a "
                "regular file (a pipe or device could block or never end). Save the content to a file first."
            )
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(f"{name}: cannot be read ({exc.strerror}).") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise_limit = f"; if it is right, raise the limit ({flag})" if flag else ""
        raise error(f"{name}: the {what} is more than the limit of {max_bytes:,} bytes{raise_limit}.")
    return b"".join(chunks)


def content_signature(path: Path, max_bytes: int) -> tuple[str, ...]:
    """What identifies a file's content for a cache key, reading at most ``max_bytes`` of it.

    A regular file within the limit: the digest of its bytes.  Anything else (a
    file over the limit, a FIFO, a device, a dangling or looping link) gets its
    kind, size and modification time instead: it is never read here, and the
    loader that needs it refuses it with its own message.
    """
    import hashlib

    try:
        info = path.stat()
    except (OSError, RuntimeError) as exc:  # a dangling link, a link loop
        return (path.name, "unreadable", type(exc).__name__)
    if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
        return (path.name, kind_of(info.st_mode), str(info.st_size), str(info.st_mtime_ns))
    try:
        data = read_bounded(path, max_bytes, InputError, "file")
    except InputError:
        return (path.name, "unreadable", str(info.st_size), str(info.st_mtime_ns))
    return (path.name, hashlib.sha256(data).hexdigest())


def absolute(path: Path) -> Path:
    """``path`` made absolute, its links resolved where they can be (a link loop stays as it is)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a link loop
        return Path(os.path.abspath(path))


# --------------------------------------------------------------------------- writing


def umask_mode(base: int = 0o666) -> int:
    """``base`` with the bits of the process's umask taken away (0644 for files under the usual 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def check_target(path: Path) -> None:
    """Refuse a target that is not a regular file, or whose folder does not exist, before any work."""
    path = Path(path)
    directory = path.parent
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}.") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory; give a file name.")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(
            f"cannot write {path}: it is {kind_of(info.st_mode)}. infra-policy replaces only regular files, "
            "so that an output can never turn a device, pipe or link (and what it points to) into a file; "
            "give the path of a regular file or of one that does not exist yet."
        )
    if not directory.is_dir():
        raise OutputError(f"cannot write {path}: the directory {directory} does not exist.")


class StagedFile:
    """A file written in full beside its target, put in place by :meth:`commit` (or dropped by :meth:`discard`)."""

    def __init__(
        self,
        path: Path,
        data: bytes | Callable[[Callable[[str], object]], None],
        mode: int | None = None,
        durable: bool = True,
    ) -> None:
        """``data``: the bytes, or a function that writes the text (UTF-8) piece by piece through the ``write``
        it is given, so a large document is never one string in memory. ``durable=False`` skips the
        fsyncs, for files that only save time (a cache) and are checked when read back."""
        self.durable = durable
        self.path = Path(path)
        check_target(self.path)
        directory = self.path.parent
        try:
            fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror} (in {directory}).") from None
        self._temporary: Path | None = Path(temporary)
        try:
            with os.fdopen(fd, "wb") as handle:
                if callable(data):
                    text = io.TextIOWrapper(handle, encoding="utf-8", newline="\n")
                    data(text.write)
                    text.flush()
                    text.detach()  # the handle stays open for the fsync below
                else:
                    handle.write(data)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            # mkstemp makes the file private (0600); an output is the user's to share as their umask says
            os.chmod(temporary, umask_mode() if mode is None else mode)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {exc.strerror}.") from None
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Rename the written file over the target (checked again: it may have changed meanwhile)."""
        if self._temporary is None:
            return
        try:
            check_target(self.path)
            os.replace(self._temporary, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {exc.strerror}.") from None
        except BaseException:
            self.discard()
            raise
        self._temporary = None
        if self.durable:
            _sync_directory(self.path.parent)

    def discard(self) -> None:
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None


def _sync_directory(directory: Path) -> None:
    # the rename is durable only once the folder itself is on disk
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :class:`StagedFile`)."""
    StagedFile(path, data).commit()


def commit_all(staged: list[StagedFile]) -> None:
    """Put every staged file in place; if one cannot be, drop the rest."""
    try:
        for file in staged:
            file.commit()
    finally:
        for file in staged:
            file.discard()


# --------------------------------------------------------------------------- JSON documents


def parse_json(raw: bytes, name: object, error: type[InputError], what: str) -> object:
    """Parse JSON read from ``name``, or ``error`` naming the file and what is wrong (never Python's words)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{name}: is not a {what}: not valid UTF-8 (byte {exc.start}).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{name}: is not a {what}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    except RecursionError:
        raise error(f"{name}: is not a {what}: its JSON is nested too deeply to read.") from None
    except ValueError:
        # Python refuses to convert integers of more than 4,300 digits
        raise error(f"{name}: is not a {what}: it has a number too long to read (more than 4,300 digits).") from None


def read_json(path: Path, max_bytes: int, error: type[InputError], what: str) -> object:
    """A JSON file, read with :func:`read_bounded` and :func:`parse_json`."""
    return parse_json(read_bounded(path, max_bytes, error, what), path, error, what)
