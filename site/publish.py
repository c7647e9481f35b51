"""Put a built site in place atomically: a failed build leaves the old site.

The pages are written into a fresh folder beside the target, then swapped in
with one atomic exchange of the two folders (Linux ``renameat2``), so at no
moment is there no site; the previous site is removed only after the new one
is in place.  Where the exchange is not available, two renames are used, and
a build killed between them is repaired by the next one (it puts the previous
site back before doing anything else).  Builds into one parent folder take
turns (a lock on the folder), so that repair never touches a build in progress.
A folder that was not built by us is never replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from infra_policy.engine.files import OutputError, umask_mode

from .render import MARKER

__all__ = ["OutputError", "Staging", "check_target", "publish", "write_site_file"]


def check_target(out: Path) -> None:
    """Refuse a target that is a file, a non-empty folder without our marker, or a folder that cannot be renamed."""
    if out.is_symlink():
        # the swap replaces the folder as a whole: a link would be replaced, not followed
        raise OutputError(
            f"{out}: is a symbolic link; -o must name the site's folder itself, since publishing replaces that "
            "folder as a whole (the link would be replaced, not followed). Give the folder the link points to."
        )
    here = out.name in ("", ".", "..") or (out.exists() and out.resolve() == Path.cwd().resolve())
    if here or (out.exists() and os.path.ismount(out)):
        what = "the current folder or one above it" if here else "a mount point"
        raise OutputError(
            f"{out}: is {what}, which cannot be replaced as a whole; -o names the folder the site is published "
            f"in, for example {out / 'site'}."
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; -o must name a folder for the site.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(
            f"{out}: the folder is not empty and was not built by `infra-policy site` (no {MARKER} file); "
            "refusing to replace it. Choose an empty or new folder."
        )
    for ancestor in out.parents:
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputError(f"{out}: {ancestor} is a file, so the site cannot be written under it.")


_SAFE_PART = re.compile(r"\.?[A-Za-z0-9][A-Za-z0-9._-]*")


def site_path(staging: Path, relative: str) -> Path:
    """Where a site file goes: ``relative`` made of plain names only, checked to stay inside ``staging``.

    Every file the site writes passes here, so no id from a knowledge base,
    rule set or record can make a page land outside the folder being built.
    """
    parts = relative.split("/")
    if not all(_SAFE_PART.fullmatch(part) and ".." not in part for part in parts):
        raise OutputError(
            f"refusing to write the site file {relative!r}: a site path is made of plain names "
            "(letters, digits, '.', '_' and '-', no '..'), so it always stays inside the site folder."
        )
    target = staging.joinpath(*parts)
    if not target.resolve().is_relative_to(staging.resolve()):
        raise OutputError(f"refusing to write the site file {relative!r}: it would land outside the site folder.")
    return target


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders atomically (renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    import ctypes
    import errno

    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if function(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _repair(out: Path, parent: Path) -> None:
    """Undo what a build killed mid-swap left: put the previous site back, remove unfinished folders."""
    for retired in sorted(parent.glob(f".{out.name}.previous-*")):
        kept = retired / "site"
        if not out.exists() and (kept / MARKER).is_file():
            os.replace(kept, out)
        shutil.rmtree(retired, ignore_errors=True)
    for unfinished in parent.glob(f".{out.name}.building-*"):
        shutil.rmtree(unfinished, ignore_errors=True)


def _swap(staging: Path, out: Path, parent: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
    elif _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous site
    else:
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=parent))
        os.replace(out, retired / "site")
        try:
            os.replace(staging, out)
        except BaseException:
            os.replace(retired / "site", out)
            raise
        shutil.rmtree(retired, ignore_errors=True)


def publish(files: Iterable[tuple[str, bytes]], out: Path) -> int:
    """Write ``files`` (relative path, bytes) as the site in ``out``; return how many were written."""
    with Staging(out) as staging:
        for relative, data in files:
            staging.write(relative, data)
        return staging.commit()


def write_site_file(staging: Path, relative: str, data: bytes) -> None:
    """Write one file of a site being built (also from a worker process: it needs only the folder)."""
    target = site_path(staging, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


class Staging:
    """A site being built: a fresh folder beside ``out``, swapped in by :meth:`commit`.

    Builds into one parent folder take turns from the moment the staging folder
    is made (a lock on the parent) until the swap; leaving the ``with`` block
    without a commit removes the folder and leaves the previous site.
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        check_target(self.out)
        self.parent = self.out.parent if str(self.out.parent) else Path(".")
        self.written: set[str] = set()
        self.lock: int | None = None
        self.folder: Path | None = None

    def __enter__(self) -> Staging:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self.lock = os.open(self.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise OutputError(f"cannot publish the site in {self.out}: {exc.strerror} ({self.parent}).") from None
        with self._io_errors():
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            _repair(self.out, self.parent)
            self.folder = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.building-", dir=self.parent))
        return self

    def __exit__(self, *exc_info) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.lock is not None:
            os.close(self.lock)

    @contextlib.contextmanager
    def _io_errors(self) -> Iterator[None]:
        try:
            yield
        except OutputError:
            raise
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise OutputError(f"cannot publish the site in {self.out}: {exc.strerror or exc}{where}.") from None

    def claim(self, relative: str) -> None:
        """Note that ``relative`` is written (by this process or a worker); refuse a name written twice."""
        if relative in self.written:
            raise OutputError(f"refusing to write the site file {relative!r} twice: two pages share a name.")
        self.written.add(relative)

    def write(self, relative: str, data: bytes) -> None:
        assert self.folder is not None
        self.claim(relative)
        with self._io_errors():
            write_site_file(self.folder, relative, data)

    def commit(self) -> int:
        """Swap the built site into place; return how many files it has."""
        assert self.folder is not None
        with self._io_errors():
            self.folder.chmod(umask_mode(0o777))  # mkdtemp makes it private; a site is as readable as the umask says
            _swap(self.folder, self.out, self.parent)
        self.folder = None
        return len(self.written)
