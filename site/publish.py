"""Put a built site in place atomically: a failed build leaves the old site.

The pages are written into a fresh folder beside the target, then swapped in
with renames on the same file system; the previous site is removed only after
the new one is in place.  A folder that was not built by us is never replaced.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from infra_policy.engine.files import OutputError, umask_mode

from .render import MARKER

__all__ = ["OutputError", "check_target", "publish"]


def check_target(out: Path) -> None:
    """Refuse a target that is a file or a non-empty folder without our marker."""
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


def publish(files: Iterable[tuple[str, bytes]], out: Path) -> int:
    """Write ``files`` (relative path, bytes) as the site in ``out``; return how many were written."""
    out = Path(out)
    check_target(out)
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=parent))
    count = 0
    try:
        made: set[Path] = set()
        written: set[str] = set()
        for relative, data in files:
            target = site_path(staging, relative)
            if relative in written:
                raise OutputError(f"refusing to write the site file {relative!r} twice: two pages share a name.")
            written.add(relative)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(data)
            count += 1
        staging.chmod(umask_mode(0o777))  # mkdtemp makes it private; a site is as readable as the umask says
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=parent))
            os.replace(out, retired / "site")
            try:
                os.replace(staging, out)
            except BaseException:
                os.replace(retired / "site", out)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return count
