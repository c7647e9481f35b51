"""A content-addressed cache of what a site build computes: evaluations and rendered decision pages.

An entry is found by a key that is the SHA-256 of everything its content
depends on: the bytes of the facts file (or record), the digests of the
knowledge base and the rules, the settings that change an evaluation (strict,
input format, limits), the infra-policy version and a digest of its own code
(so a changed engine or template never meets an old entry, even before the
version number moves).  A rebuild after one facts file changed evaluates that
file only; a decision whose page would come out the same is not rendered again.

An entry is one file: a JSON header line, then named sections of bytes.  The
header gives each section's length and SHA-256.  An entry is used only if it
is a regular file owned by the user running the build, not writable by
others, its header names the format and the key it was looked up under, and
every section it is asked for matches its digest; anything else (truncated,
edited, planted, from another version) is ignored and recomputed, and the
fresh result replaces it.  Entries are written to a temporary file and renamed
into place, so a killed build never leaves half an entry.

The files of the site are kept once each, named by the SHA-256 of their bytes
(``files/``); a page entry lists the files of one decision's pages, and an
evaluation entry names its JSON and PROV-O twins there too (they are the files
its page publishes).  A file is checked against its name before it is used.

What the cache does not defend against: anyone who can write entries as the
user who builds can change what the next build publishes for a facts file —
as they could by editing the facts, the output folder or the installed code.
That is why the cache folder must be private: it is created with mode 0700,
and a cache folder that is a symbolic link, is not owned by the user, or is
writable by the group or others is refused (`--no-cache` or another `--cache`).
Pages from the cache are still only ever written inside the site folder, and
decisions read from it go through the same checks as records before they are
rendered (every text is escaped when it is rendered).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from infra_policy.engine.errors import InputError
from infra_policy.engine.files import StagedFile, umask_mode
from infra_policy.site import UNUSED_DAYS

FORMAT = "infra-policy/site-cache@1"
# After a build, entries and files no build has used for UNUSED_DAYS are removed: a cache that only grew
# would keep every facts file, policy and version ever published. Using an entry renews its time.
DEFAULT_NAME = ".infra-policy-cache"  # beside the site folder, shared by the sites of one parent
_HEADER_LIMIT = 64 * 1024  # a header is a few hundred bytes; a longer first line is not an entry
_DIGEST = re.compile(r"[0-9a-f]{64}")


class CacheError(InputError):
    """The cache folder cannot be used safely."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_digest() -> str:
    """A digest of the code and templates that make an evaluation and a page (engine/ and site/)."""
    digest = hashlib.sha256()
    for package in ("infra_policy.engine", "infra_policy.site"):
        root = Path(str(resources.files(package)))
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".html", ".css", ".js") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def salt(parts: Mapping[str, object]) -> str:
    """What every key of one build shares: the format, versions, digests and settings, as one digest."""
    return sha256_hex(json.dumps({"format": FORMAT, **parts}, sort_keys=True).encode("utf-8"))


def key_of(build_salt: str, kind: str, content: bytes, *extra: str) -> str:
    """The key of an entry: the build's salt, the kind, the content's digest and anything else it depends on."""
    return sha256_hex("\0".join((build_salt, kind, sha256_hex(content), *extra)).encode("utf-8"))


def _check_private(directory: Path) -> None:
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a folder"
        raise CacheError(f"{directory}: the site cache is {what}; --cache must name a folder of its own.")
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "is owned by another user" if info.st_uid != os.getuid() else "can be written by other users"
        raise CacheError(
            f"{directory}: the site cache {who}, so its entries could have been planted; a build trusts its "
            "cache like its own output. Make it private (chmod 700, owned by you), name another folder with "
            "--cache DIR, or build without it (--no-cache)."
        )


class Cache:
    """Entries in a private folder; ``directory=None`` keeps them in a temporary folder for one build."""

    def __init__(self, directory: Path | None) -> None:
        self.temporary = directory is None
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="infra-policy-site-"))
        else:
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheError(f"{directory}: cannot create the site cache ({exc.strerror}).") from None
            _check_private(directory)
        self.directory = directory
        self.uid = os.getuid()

    def close(self) -> None:
        if self.temporary:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _path(self, key: str, kind: str) -> Path:
        return self.directory / key[:2] / f"{key}.{kind}"

    def _read_own(self, path: Path) -> bytes | None:
        """The bytes of a regular file (not a link) that is ours and that nobody else can write, else None."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            shared = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != self.uid or shared:
                return None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                return handle.read()
        except OSError:
            return None
        finally:
            os.close(fd)

    def load(self, key: str, kind: str, names: Iterable[str]) -> dict[str, bytes] | None:
        """The sections ``names`` of an entry, each checked against its digest; None if any is not right."""
        data = self._read_own(self._path(key, kind))
        if data is None:
            return None
        end = data.find(b"\n", 0, _HEADER_LIMIT)
        if end < 0:
            return None
        try:
            header = json.loads(data[:end])
            sections = {str(name): (int(length), str(digest)) for name, length, digest in header["sections"]}
            if header.get("format") != FORMAT or header.get("key") != key or header.get("kind") != kind:
                return None
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        offsets: dict[str, tuple[int, int, str]] = {}
        position = end + 1
        for name, (length, digest) in sections.items():
            if length < 0:
                return None
            offsets[name] = (position, position + length, digest)
            position += length
        if position != len(data):
            return None
        found = {}
        for name in names:
            if name not in offsets:
                return None
            start, stop, digest = offsets[name]
            value = data[start:stop]
            if sha256_hex(value) != digest:
                return None
            found[name] = value
        _renew(self._path(key, kind))
        return found

    # -- files of the site, stored once by content and linked into each build

    def _blob(self, digest: str) -> Path:
        return self.directory / "files" / digest[:2] / digest

    def put_file(self, data: bytes, replace: bool = False) -> str:
        """Keep a file of the site by its content; return its digest (failures only cost time)."""
        digest = sha256_hex(data)
        target = self._blob(digest)
        if target.is_file() and not replace:
            return digest
        # readable as the umask allows: the site's own file is this very file when it is linked
        _write_quietly(target, data, umask_mode(0o666))
        return digest

    def get_file(self, digest: str) -> bytes | None:
        """The bytes of the file kept with this digest, checked against it; None if the cache does not
        have it intact."""
        if not _DIGEST.fullmatch(digest):
            return None
        data = self._read_own(self._blob(digest))
        if data is None or sha256_hex(data) != digest:
            return None
        _renew(self._blob(digest))
        return data

    def link_file(self, digest: str, target: Path) -> bool:
        """Put the file with this digest at ``target`` — a hard link when it can, else a copy — after checking
        its content still has that digest; False if the cache does not have it intact."""
        data = self.get_file(digest)  # checked, and marked as used
        if data is None:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self._blob(digest), target)
        except OSError:
            target.write_bytes(data)  # another file system, or links not allowed: a copy
        return True

    def store(self, key: str, kind: str, sections: Mapping[str, bytes]) -> None:
        """Write an entry; a cache that cannot be written only costs time, so failures are ignored."""
        header = {
            "format": FORMAT,
            "key": key,
            "kind": kind,
            "sections": [[name, len(value), sha256_hex(value)] for name, value in sections.items()],
        }
        head = json.dumps(header, sort_keys=True).encode("utf-8") + b"\n"
        _write_quietly(self._path(key, kind), b"".join((head, *sections.values())), 0o600)

    def prune(self, unused_days: float = UNUSED_DAYS, now: float | None = None) -> int:
        """Remove the entries and files no build has used for ``unused_days``; return how many went.

        Only this cache's own regular files are removed (never through a link), and empty folders after
        them; a file that cannot be removed is left (it costs space, not correctness).
        """
        if self.temporary:
            return 0
        cutoff = (time.time() if now is None else now) - unused_days * 86400
        removed = 0
        for folder, _, names in os.walk(self.directory, topdown=False, followlinks=False):
            for name in names:
                path = Path(folder, name)
                try:
                    info = os.lstat(path)
                    if stat.S_ISREG(info.st_mode) and info.st_uid == self.uid and info.st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError:
                    continue
            if Path(folder) != self.directory:
                with contextlib.suppress(OSError):
                    Path(folder).rmdir()  # only when empty
        return removed


def _renew(path: Path) -> None:
    """Mark an entry as used now, so that pruning keeps it (a failure only means it may be pruned)."""
    with contextlib.suppress(OSError):
        os.utime(path, follow_symlinks=False)


def _write_quietly(target: Path, data: bytes, mode: int) -> None:
    """Write a cache file in place atomically; a cache that cannot be written only costs time."""
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        StagedFile(target, data, mode=mode, durable=False).commit()
    except (OSError, InputError):
        pass
