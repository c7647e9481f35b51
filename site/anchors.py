"""Stable names for pages and anchors: same inputs, same links."""

from __future__ import annotations

import hashlib
import re
import unicodedata


def _key(text: str, length: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def node_anchor(node_id: str) -> str:
    """The permalink anchor of a justification node (its IRI is too long for a fragment)."""
    return "n-" + _key(node_id)


def workload_anchor(workload_id: str) -> str:
    return "w-" + _key(workload_id, 10)


def rule_anchor(rule_id: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9._-]", "-", rule_id)


def claim_anchor(claim_id: str) -> str:
    return "claim-" + re.sub(r"[^A-Za-z0-9._-]", "-", claim_id.removeprefix("claim:"))


_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def file_part(identifier: str) -> str:
    """A file name part for an id from the knowledge base or rules: the id itself when it is a plain
    lowercase name, else its slug and a digest of the id (so ``../x`` or ``a/b`` never becomes a path,
    and two ids never share a page)."""
    if _PLAIN_NAME.fullmatch(identifier):
        return identifier
    return f"{slugify(identifier, 32)}-{_key(identifier, 10)}"


def factor_page(factor_id: str) -> str:
    """The page of a factor, relative to the site root."""
    return f"factors/{file_part(factor_id)}.html"


def slugify(text: str, limit: int = 48) -> str:
    """A lowercase ASCII file name part; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or "organization"
