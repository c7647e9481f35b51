"""Where each node of a justification graph goes in its SVG drawing.

networkx gives the order for the layering (longest path back from the
conclusions, so premises sit beside the conclusion they support), and two
sweeps of the barycenter heuristic order each layer so that edges cross less.  The
result is plain numbers and strings for the SVG template: the drawing is made
at build time, no diagram library runs in the browser.  Conclusions are drawn
on the left, where a reader starts, and what they rest on to their right.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .anchors import node_anchor

NODE_WIDTH = 196
NODE_HEIGHT = 26
COLUMN_GAP = 56
ROW_GAP = 8
MARGIN = 12
LABEL_CHARS = 29


@dataclass(frozen=True)
class PlacedNode:
    id: str
    anchor: str
    kind: str
    label: str
    short: str
    x: int
    y: int


@dataclass(frozen=True)
class PlacedEdge:
    path: str
    relation: str


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    layers: int


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def layers_of(graph: nx.DiGraph) -> dict[str, int]:
    """Layer of every node, premises first: counted back from the conclusions.

    A node sits one layer before the farthest thing it supports (the longest
    path to a final conclusion), so the workloads' stances share a column and a
    premise sits right beside the first conclusion that uses it.  A node that
    supports no stance (a cost figure computed but tested by no rule) sits one
    layer after its premises instead of beside the stances, which it does not
    explain; a premise of such nodes only sits in the first layer.
    """
    order = list(nx.topological_sort(graph))
    sinks = [n for n in graph if graph.out_degree(n) == 0]
    conclusions = {n for n in sinks if graph.nodes[n].get("kind") == "stance"} or set(sinks)
    useful = set(conclusions)
    for node in conclusions:
        useful |= nx.ancestors(graph, node)
    depth: dict[str, int] = {}
    for node in reversed(order):
        if node in useful:
            depth[node] = 1 + max((depth[s] for s in graph.successors(node) if s in useful), default=-1)
    deepest = max(depth.values(), default=0)
    layers = {node: deepest - d for node, d in depth.items()}
    for node in order:
        if node not in useful:
            layers[node] = 1 + max((layers[p] for p in graph.predecessors(node)), default=-1)
    return layers


PREMISE_COLUMNS = ("fact", "claim", "rule")  # premises of a crowded layer, split by kind to keep columns short
CROWDED = 12


def _columns(graph: nx.DiGraph, labels: dict[str, str]) -> list[list[str]]:
    """Nodes by column: each layer, its premises first (one column per kind), then its conclusions."""
    layer = layers_of(graph)
    premises: dict[int, int] = {}
    for node in graph:
        if graph.in_degree(node) == 0:
            premises[layer[node]] = premises.get(layer[node], 0) + 1
    keyed: dict[tuple[int, int], list[str]] = {}
    for node in graph:
        kind = graph.nodes[node].get("kind", "")
        split = graph.in_degree(node) == 0 and kind in PREMISE_COLUMNS and premises[layer[node]] > CROWDED
        sub = PREMISE_COLUMNS.index(kind) if split else len(PREMISE_COLUMNS)
        keyed.setdefault((layer[node], sub), []).append(node)
    return [sorted(keyed[k], key=lambda n: (labels[n], n)) for k in sorted(keyed)]


def _order(graph: nx.DiGraph, columns: list[list[str]], labels: dict[str, str]) -> None:
    """Barycenter sweeps: each column sorted by the mean rank of its neighbours."""
    position = {n: i for col in columns for i, n in enumerate(col)}

    def sweep(indices: range, neighbours) -> None:
        for i in indices:

            def key(node: str) -> tuple:
                near = [position[m] for m in neighbours(node)]
                return (sum(near) / len(near) if near else position[node], labels[node], node)

            columns[i].sort(key=key)
            for rank, node in enumerate(columns[i]):
                position[node] = rank

    # Right to left first: the organization's stance anchors the picture.
    sweep(range(len(columns) - 2, -1, -1), graph.successors)
    sweep(range(1, len(columns)), graph.predecessors)


def _place(column: list[str], desired: dict[str, float], pitch: int) -> dict[str, int]:
    """Put each node at or below where its neighbours are, keeping the order and no overlap."""
    ys: dict[str, int] = {}
    last = None
    for node in column:
        y = round(desired[node])
        if last is not None and y < last + pitch:
            y = last + pitch
        ys[node] = last = y
    return ys


def draw(graph: nx.DiGraph) -> Drawing:
    """Positions and edge paths for ``graph`` (a DAG with ``kind``/``label`` node attributes)."""
    labels = {n: str(graph.nodes[n].get("label", n)) for n in graph}
    columns = _columns(graph, labels)
    _order(graph, columns, labels)
    pitch = NODE_HEIGHT + ROW_GAP
    y: dict[str, float] = {n: rank * pitch for col in columns for rank, n in enumerate(col)}
    # The organization's stance sits at the top left; everything else is placed
    # next to what it supports, column by column towards the premises.
    for column in reversed(columns):
        desired = {
            n: sum(y[s] for s in graph.successors(n)) / graph.out_degree(n) if graph.out_degree(n) else y[n]
            for n in column
        }
        y.update(_place(column, desired, pitch))
    top = min(y.values(), default=0)
    xy: dict[str, tuple[int, int]] = {}
    nodes = []
    for i, column in enumerate(columns):
        x = MARGIN + (len(columns) - 1 - i) * (NODE_WIDTH + COLUMN_GAP)
        for node in column:
            xy[node] = (x, int(y[node] - top) + MARGIN)
            nodes.append(
                PlacedNode(
                    id=node,
                    anchor=node_anchor(node),
                    kind=str(graph.nodes[node].get("kind", "node")),
                    label=labels[node],
                    # Stances are set in bold, which takes more room per letter.
                    short=shorten(
                        labels[node], LABEL_CHARS - 4 if graph.nodes[node].get("kind") == "stance" else LABEL_CHARS
                    ),
                    x=x,
                    y=xy[node][1],
                )
            )
    edges = []
    for u, v, data in sorted(graph.edges(data=True)):
        (x1, y1), (x2, y2) = xy[u], xy[v]
        # From the left side of a premise to the right side of what it supports.
        sx, sy = x1, y1 + NODE_HEIGHT // 2
        tx, ty = x2 + NODE_WIDTH, y2 + NODE_HEIGHT // 2
        bend = max((sx - tx) // 2, 16)
        edges.append(
            PlacedEdge(
                path=f"M{sx},{sy} C{sx - bend},{sy} {tx + bend},{ty} {tx},{ty}",
                relation=str(data.get("relation", "")),
            )
        )
    width = 2 * MARGIN + max(len(columns) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP, 0)
    height = 2 * MARGIN + max((y for _, y in xy.values()), default=0) + NODE_HEIGHT
    return Drawing(width=width, height=height, nodes=tuple(nodes), edges=tuple(edges), layers=len(columns))
