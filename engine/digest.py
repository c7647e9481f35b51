"""Content digests of the inputs: formatting and blank-node labels do not count.

A graph digest is the sha256 of its sorted N-Triples with blank nodes given
canonical labels.  Blank nodes written with Turtle's ``[ ]`` and ``( )`` syntax
form trees (each is the object of at most one triple, no cycles); those are
labelled by a hash of their content, which is fast and exact.  Any other use
of blank nodes falls back to rdflib's general canonicalization.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

from rdflib import BNode, Graph
from rdflib.term import Node


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _tree_labels(graph: Graph) -> dict[BNode, str] | None:
    """Content-hash labels for tree-shaped blank nodes, or None if not a forest."""
    outgoing: dict[BNode, list[tuple[Node, Node]]] = defaultdict(list)
    parents: Counter[BNode] = Counter()
    for s, p, o in graph:
        if isinstance(s, BNode):
            outgoing[s].append((p, o))
        if isinstance(o, BNode):
            parents[o] += 1
    if any(count > 1 for count in parents.values()):
        return None
    labels: dict[BNode, str] = {}
    visiting: set[BNode] = set()

    def label(node: BNode) -> str | None:
        if node in labels:
            return labels[node]
        if node in visiting:
            return None  # a cycle
        visiting.add(node)
        parts = []
        for p, o in outgoing.get(node, ()):
            if isinstance(o, BNode):
                child = label(o)
                if child is None:
                    return None
                parts.append(f"{p.n3()} _:{child}")
            else:
                parts.append(f"{p.n3()} {o.n3()}")
        visiting.discard(node)
        labels[node] = "t" + _sha("\n".join(sorted(parts)))[:32]
        return labels[node]

    nodes = set(outgoing) | set(parents)
    for node in nodes:
        if label(node) is None:
            return None
    return labels


def _line(triple, labels: dict[BNode, str]) -> str:
    return " ".join(f"_:{labels[t]}" if isinstance(t, BNode) else t.n3() for t in triple) + " ."


def graph_digest(graph: Graph) -> str:
    """sha256 of the canonical N-Triples of ``graph`` (as a multiset, sorted)."""
    labels = _tree_labels(graph)
    if labels is None:
        from rdflib.compare import to_canonical_graph

        canonical = to_canonical_graph(graph)
        lines = [line for line in canonical.serialize(format="nt").splitlines() if line.strip()]
    else:
        lines = [_line(triple, labels) for triple in graph]
    return "sha256:" + _sha("\n".join(sorted(lines)))


def text_digest(text: str) -> str:
    return "sha256:" + _sha(text)
