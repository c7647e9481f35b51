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

    def finish(node: BNode) -> None:
        parts = []
        for p, o in outgoing.get(node, ()):
            parts.append(f"{p.n3()} _:{labels[o]}" if isinstance(o, BNode) else f"{p.n3()} {o.n3()}")
        labels[node] = "t" + _sha("\n".join(sorted(parts)))[:32]

    # Children are labelled before their parent, with an explicit stack: an RDF
    # list is a chain of blank nodes as long as the list, too deep for recursion.
    for root in set(outgoing) | set(parents):
        if root in labels:
            continue
        stack: list[tuple[BNode, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                visiting.discard(node)
                finish(node)
                continue
            if node in labels:
                continue
            visiting.add(node)
            stack.append((node, True))
            for _, o in outgoing.get(node, ()):
                if isinstance(o, BNode) and o not in labels:
                    if o in visiting:
                        return None  # a cycle
                    stack.append((o, False))
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
