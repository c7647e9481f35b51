"""Content digests of the inputs: formatting and blank-node labels do not count."""

from __future__ import annotations

import hashlib

from rdflib import Graph


def graph_digest(graph: Graph) -> str:
    """sha256 of the sorted canonical N-Triples of ``graph``."""
    from rdflib.compare import to_canonical_graph

    canonical = to_canonical_graph(graph)
    lines = sorted(line for line in canonical.serialize(format="nt").splitlines() if line.strip())
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def text_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
