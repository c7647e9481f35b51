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


def slugify(text: str, limit: int = 48) -> str:
    """A lowercase ASCII file name part; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or "organization"
