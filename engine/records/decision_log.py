"""Appending to the decision log: one entry, all or nothing.

The chain itself (entries, digests, verification) is in :mod:`record`; this
module is the file side.  An append takes an exclusive lock (concurrent runs
take turns), reads only the last line (the new entry needs its digest and
sequence number, not the whole history), refuses a log whose last line is not
a complete entry (gluing a new entry onto a broken line would break the chain
for good), writes the entry with a single ``write`` and, if that fails or is
short (a full disk), cuts the file back to where it was.  The head file is
written beside the log only after the entry is on disk.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from infra_policy.engine.files import OutputError, StagedFile, kind_of
from infra_policy.engine.records.record import LOG_FORMAT, line_digest, log_entry

# One entry names every workload of a decision; this bounds how far back the
# last line's start is looked for (a line longer than this is not ours).
MAX_LOG_LINE_BYTES = 64_000_000
_CHUNK = 1 << 16


def head_path(log: Path) -> Path:
    return log.with_name(log.name + ".head")


def signature_path(path: Path) -> Path:
    """Where the signature of a record or log head is kept: beside it, with ``.sig`` added."""
    return path.with_name(path.name + ".sig")


def _broken(log: Path, why: str) -> OutputError:
    return OutputError(
        f"{log}: {why}, so nothing was appended (a new entry would be glued onto it and break the chain). "
        f"Run `infra-policy audit --log {log}` to see what is wrong; then repair the log or start a new one."
    )


def _last_line(fd: int, size: int, log: Path) -> bytes:
    """The last line of the file (without its newline), read backwards from the end."""
    end = size - 1  # the final newline
    data = b""
    position = end
    while position > 0:
        start = max(0, position - _CHUNK)
        os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, position - start) + data
        position = start
        if b"\n" in data:
            return data[data.rindex(b"\n") + 1 :]
        if len(data) > MAX_LOG_LINE_BYTES:
            raise _broken(log, f"its last line is longer than {MAX_LOG_LINE_BYTES:,} bytes and is not a log entry")
    return data


def _last_entry(fd: int, size: int, log: Path) -> tuple[str, int]:
    """(last line, its sequence number) of a non-empty log, or an error naming `audit --log`."""
    os.lseek(fd, size - 1, os.SEEK_SET)
    if os.read(fd, 1) != b"\n":
        raise _broken(log, "the last line of the decision log is incomplete (a write was interrupted)")
    raw = _last_line(fd, size, log)
    try:
        line = raw.decode("utf-8")
        entry = json.loads(line)
    except ValueError:
        entry = None
    seq = entry.get("seq") if isinstance(entry, dict) and entry.get("format") == LOG_FORMAT else None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise _broken(log, f"the last line is not a decision log entry ({LOG_FORMAT})")
    return line, seq


def append_entry(record: dict, log: Path, logged_at: str, sign: Callable[[str], bytes] | None = None) -> str:
    """Append the entry of ``record`` to the decision log ``log``; return the line written (no newline).

    ``sign`` (text → signature file content), if given, signs the new head: ``LOG.head.sig``.
    """
    log = Path(log)
    if log.is_dir():
        raise OutputError(
            f"{log}: is a directory; --log names the decision log file (for example decisions.jsonl), "
            "one JSON line per decision."
        )
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a link is refused, not followed; O_NONBLOCK: a FIFO cannot hang the open
        fd = os.open(log, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if log.is_symlink():
            raise OutputError(
                f"cannot append to the decision log {log}: it is a symbolic link; give the path of the log file itself."
            ) from None
        raise OutputError(f"cannot append to the decision log {log}: {exc.strerror}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OutputError(f"cannot append to the decision log {log}: it is {kind_of(mode)}, not a regular file.")
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size  # after the lock: another run may just have appended
        previous, seq = _last_entry(fd, size, log) if size else (None, 0)
        line = log_entry(previous, seq + 1, record, logged_at)
        head_text = json.dumps({"entries": seq + 1, "last": line_digest(line)}, sort_keys=True)
        head = StagedFile(head_path(log), (head_text + "\n").encode())
        signature = StagedFile(signature_path(head_path(log)), sign(head_text)) if sign else None
        data = (line + "\n").encode("utf-8")
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, f"only {written} of {len(data)} bytes could be written")
            os.fsync(fd)
        except OSError as exc:
            head.discard()
            if signature is not None:
                signature.discard()
            try:
                os.ftruncate(fd, size)
                state = "the log is unchanged"
            except OSError:
                state = f"the log may now end in a partial line; check it with `infra-policy audit --log {log}`"
            raise OutputError(f"cannot append to the decision log {log}: {exc.strerror or exc}; {state}.") from None
        head.commit()
        if signature is not None:
            signature.commit()
        return line
    finally:
        os.close(fd)  # releases the lock
