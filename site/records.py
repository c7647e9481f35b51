"""Decisions as the site reads them: the JSON decision document (decision@1).

Evaluated and recorded decisions take the same path through the site: an
evaluation is first turned into the JSON document `evaluate --format json`
prints, a recorded decision is read back from such a document.  The
justification graph is rebuilt from its ``{nodes, edges}`` form, so the SVG and
the trail never depend on where a decision came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from infra_policy.engine.errors import InputError
from infra_policy.engine.export import FORMAT


@dataclass(frozen=True)
class SiteDecision:
    """One decision to publish."""

    data: dict  # the decision@1 document
    twin: bytes  # the JSON data twin offered for download, byte for byte
    source: str  # a short name of where it came from (file name, never a full path)
    origin: str  # "evaluated" or "recorded"
    facts_text: str | None = None  # the facts file as given, when the site has it


class RecordError(InputError):
    """A recorded decision cannot be published."""


def _require(condition: bool, path: Path, what: str) -> None:
    if not condition:
        raise RecordError(
            f"{path}: not a decision document ({what}). --records reads the JSON that "
            f"`infra-policy evaluate --format json` writes (format {FORMAT!r}), one decision per *.json file."
        )


def read_record(path: Path) -> SiteDecision:
    """Read one recorded decision; raise :class:`RecordError` naming the file and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read the recorded decision ({exc.strerror}).") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(
            f"{path}: not valid UTF-8 JSON ({exc}); a recorded decision must be a JSON document."
        ) from exc
    _require(isinstance(data, dict), path, "the top level is not a JSON object")
    _require(data.get("format") == FORMAT, path, f"its format is {data.get('format')!r}")
    org = data.get("organization")
    _require(isinstance(org, dict) and isinstance(org.get("name"), str), path, "no organization with a name")
    _require(isinstance(data.get("workloads"), list) and data["workloads"], path, "no workloads")
    for w in data["workloads"]:
        _require(isinstance(w, dict) and isinstance(w.get("name"), str), path, "a workload without a name")
    just = data.get("justification")
    _require(
        isinstance(just, dict) and isinstance(just.get("nodes"), list) and isinstance(just.get("edges"), list),
        path,
        "no justification graph with nodes and edges",
    )
    ids = {n.get("id") for n in just["nodes"] if isinstance(n, dict)}
    for e in just["edges"]:
        _require(
            isinstance(e, dict) and e.get("from") in ids and e.get("to") in ids,
            path,
            "a justification edge points to a node the graph does not have",
        )
    return SiteDecision(data=data, twin=raw, source=path.name, origin="recorded")


def read_records(directory: Path) -> list[SiteDecision]:
    """Every ``*.json`` decision in ``directory``, in file-name order."""
    if not directory.is_dir():
        raise RecordError(f"{directory}: --records must name a directory of decision documents (*.json).")
    return [read_record(path) for path in sorted(directory.glob("*.json"))]


def evaluated(data: dict, source: str, facts_text: str | None) -> SiteDecision:
    """A decision the engine just produced, with its JSON twin as `evaluate --format json` prints it."""
    twin = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return SiteDecision(data=data, twin=twin, source=source, origin="evaluated", facts_text=facts_text)


def justification_graph(data: dict) -> nx.DiGraph:
    """The justification graph of a decision document, as the engine built it."""
    graph = nx.DiGraph()
    for node in data["justification"]["nodes"]:
        attrs = {k: v for k, v in node.items() if k != "id"}
        attrs.setdefault("kind", "node")
        attrs.setdefault("label", node["id"])
        graph.add_node(node["id"], **attrs)
    for edge in data["justification"]["edges"]:
        graph.add_edge(edge["from"], edge["to"], relation=edge.get("relation", ""))
    return graph
