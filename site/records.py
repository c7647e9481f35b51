"""Decisions as the site reads them: the JSON decision document (decision@1).

Evaluated and recorded decisions take the same path through the site: an
evaluation is first turned into the JSON document `evaluate --format json`
prints, a recorded decision is read back from such a document or from the
``decision`` of a decision record (record@1, `evaluate --record DIR`).  The
justification graph is rebuilt from its ``{nodes, edges}`` form, so the SVG and
the trail never depend on where a decision came from.

Two things need the evaluation itself and are computed where it exists: the
why-not answers (they test the rules against the facts) and, for speed, the
PROV-O twins.  A recorded decision's PROV-O twins are built from its recorded
justification graph, which gives the same bytes the engine would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from jinja2.exceptions import UndefinedError

from infra_policy.engine.errors import InputError
from infra_policy.engine.files import parse_json, read_bounded
from infra_policy.engine.outputs import jsonstream
from infra_policy.engine.outputs.explain import why_not_dict, why_not_each
from infra_policy.engine.outputs.export import FORMAT, decision_dict
from infra_policy.engine.outputs.prov import is_iri, provenance_texts
from infra_policy.engine.pipeline import Evaluation
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.tally import STANCES
from infra_policy.engine.records.record import MAX_RECORD_BYTES, RECORD_FORMAT, record_id_of

UNKNOWN_VERSION = "unknown"  # a bare decision@1 document does not say which engine made it
# The stances a decision page asks "why not?" about; nobody aims for a conflict.
ASKED = tuple(s for s in STANCES if s != "conflict")


@dataclass(frozen=True)
class SiteDecision:
    """One decision to publish."""

    data: dict  # the decision@1 document
    twin: bytes  # the JSON data twin offered for download, byte for byte
    source: str  # a short name of where it came from (file name, never a full path)
    origin: str  # "evaluated" or "recorded"
    facts_text: str | None = None  # the facts file as given, when the site has it
    engine_version: str = UNKNOWN_VERSION  # the infra-policy version that made the decision
    record_id: str | None = None  # the id of the decision record it was read from
    # Computed beside the evaluation (None for recorded decisions, which have no facts):
    # the why-not answers per stance asked (engine.explain.why_not_dict) and the PROV-O twins.
    why_not: dict[str, list[dict]] | None = None
    turtle: bytes | None = None
    jsonld: bytes | None = None
    # per workload id, with `site --explain`: the facts that decide it and the smallest changes (explanations())
    explanations: dict[str, dict] | None = None

    def rdf_twins(self) -> tuple[bytes, bytes]:
        """The PROV-O derivation as Turtle and JSON-LD."""
        if self.turtle is not None and self.jsonld is not None:
            return self.turtle, self.jsonld
        turtle, jsonld = provenance_texts(justification_graph(self.data), self.engine_version)
        return turtle.encode("utf-8"), jsonld.encode("utf-8")


class RecordError(InputError):
    """A recorded decision cannot be published."""


def _require(condition: bool, path: Path, what: str) -> None:
    if not condition:
        raise RecordError(
            f"{path}: not a decision document ({what}). --records reads decision records "
            f"(`infra-policy evaluate --record DIR`, format {RECORD_FORMAT!r}) and the JSON that "
            f"`infra-policy evaluate --format json` writes (format {FORMAT!r}), one decision per *.json file."
        )


def read_record(path: Path) -> SiteDecision:
    """Read one recorded decision; raise :class:`RecordError` naming the file and the problem."""
    return record_from_bytes(read_bounded(path, MAX_RECORD_BYTES, RecordError, "recorded decision"), path)


def record_from_bytes(raw: bytes, path: Path) -> SiteDecision:
    """A recorded decision from the bytes of its file, checked as :func:`read_record` checks it."""
    try:
        return _record_from_bytes(raw, path)
    except _MALFORMED as exc:
        raise _malformed(path, exc) from exc


def _record_from_bytes(raw: bytes, path: Path) -> SiteDecision:
    data = parse_json(raw, path, RecordError, "recorded decision (a JSON document)")
    _require(isinstance(data, dict), path, "the top level is not a JSON object")
    record_id, version = None, UNKNOWN_VERSION
    if data.get("format") == RECORD_FORMAT:
        record_id = data.get("id")
        if record_id != record_id_of(data):
            raise RecordError(
                f"{path}: the record's id {record_id!r} does not match its content, so it was altered "
                "after it was written; run `infra-policy audit` on it, and publish only intact records."
            )
        versions = data.get("versions")
        if isinstance(versions, dict) and isinstance(versions.get("infra-policy"), str):
            version = versions["infra-policy"]
        data = data.get("decision")
        _require(isinstance(data, dict), path, "the record has no decision object")
    check_document(data, path)
    return SiteDecision(
        data=data, twin=raw, source=path.name, origin="recorded", engine_version=version, record_id=record_id
    )


def check_document(data: dict, path: Path) -> None:
    """Refuse a decision document without what every page needs (raise :class:`RecordError`)."""
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
    for node in just["nodes"]:
        _require(isinstance(node, dict) and is_iri(node.get("id")), path, "a justification node without an IRI id")
        for name in ("subject", "property"):  # the PROV twins state them as IRIs
            _require(name not in node or is_iri(node[name]), path, f"a justification node whose {name} is not an IRI")
    ids = {n.get("id") for n in just["nodes"] if isinstance(n, dict)}
    for e in just["edges"]:
        _require(
            isinstance(e, dict) and e.get("from") in ids and e.get("to") in ids,
            path,
            "a justification edge points to a node the graph does not have",
        )


def read_records(directory: Path) -> list[SiteDecision]:
    """Every ``*.json`` decision or decision record in ``directory``, in file-name order."""
    if not directory.is_dir():
        raise RecordError(
            f"{directory}: --records must name a directory of decision records or decision documents (*.json)."
        )
    return [_read_checked(path) for path in sorted(directory.glob("*.json"))]


# what reading or rendering a malformed document raises: rdflib checks the terms it is given with
# assert, and a template reaching into a field that is null or missing raises jinja's UndefinedError
_MALFORMED = (KeyError, TypeError, AttributeError, ValueError, IndexError, AssertionError, UndefinedError)


MALFORMED = _MALFORMED


def _read_checked(path: Path) -> SiteDecision:
    try:
        return read_record(path)
    except _MALFORMED as exc:
        raise _malformed(path, exc) from exc


def _malformed(path: Path, exc: Exception) -> RecordError:
    return RecordError(
        f"{path}: not a decision document that can be published: a field it needs is missing or has a value "
        "of the wrong kind (its digest may still hold: anyone can re-seal an edited record). Run "
        "`infra-policy audit` on it; publish only records that pass."
    )


def malformed(path: Path, exc: Exception) -> RecordError:
    """The error for a record that is sealed but cannot be rendered."""
    return _malformed(path, exc)


def check_renderable(decisions: list[SiteDecision], directory: Path, kb, policy: Policy) -> None:
    """Render each recorded decision on its own first, so one that is sealed (its digest holds) but
    malformed is refused naming its file, instead of failing the whole site half-way."""
    from .render import render_site

    for decision in decisions:
        try:
            for _ in render_site([decision], kb, policy):
                pass
        except _MALFORMED as exc:
            raise _malformed(directory / decision.source, exc) from exc


@dataclass(frozen=True)
class Evaluated:
    """What the site takes from one evaluation (small and picklable: it crosses from worker processes)."""

    data: dict  # decision@1
    facts_text: str
    engine_version: str
    why_not: dict[str, list[dict]]
    turtle: bytes
    jsonld: bytes
    explanations: dict[str, dict] | None = None


# the stances "what would change it" aims for (a conflict or "undetermined" is nobody's goal)
FLIP_TARGETS = ("cloud", "in-house", "hybrid")
CHANGES_SHOWN = 3


def explanations(ev: Evaluation, policy: Policy, explorer, vocabulary) -> dict[str, dict]:
    """Per workload: a sufficient reason (the stated facts that alone decide its stance) and the smallest
    changes that give each other stance, in the vocabulary's words (engine.analysis.abduce; costly: about
    0.2–1 s per workload, so the site computes them only with --explain)."""
    from infra_policy.engine.analysis import abduce
    from infra_policy.engine.outputs.wording import fact_words, value_words

    def label(fact: str) -> str:
        return fact_words(fact, vocabulary).removeprefix("the ")

    found = {}
    for w in ev.decision.workloads:
        reason = abduce.sufficient_reason(w, policy, explorer, vocabulary)
        flips = []
        for target in FLIP_TARGETS:
            if target == reason.stance:
                continue
            c = abduce.contrast(w, policy, explorer, vocabulary, target)
            flips.append(
                {
                    "target": target,
                    "changes": [
                        "; ".join(abduce.step_words(step, vocabulary) for step in combo)
                        for combo in c.changes[:CHANGES_SHOWN]
                    ],
                    "more": max(0, len(c.changes) - CHANGES_SHOWN),
                    "complete": c.complete,
                    "max_changes": c.max_changes,
                }
            )
        found[reason.workload] = {
            "facts": [f"{label(f)}: {value_words(v, vocabulary)}" for f, v in reason.values],
            "others": [label(f) for f in reason.irrelevant],
            "exhaustive": reason.exhaustive,
            "flips": flips,
        }
    return found


def from_evaluation(ev: Evaluation, policy: Policy, facts_text: str, engine_version: str, vocabulary=None) -> Evaluated:
    """Everything the site needs from one evaluation, computed by the engine.

    With the ``vocabulary``, the why-not answers say in words what would have to change.
    """
    turtle, jsonld = provenance_texts(ev.justification.graph, engine_version)
    return Evaluated(
        data=decision_dict(ev, policy),
        facts_text=facts_text,
        engine_version=engine_version,
        why_not={stance: why_not_dict(found) for stance, found in why_not_each(ev, policy, ASKED, vocabulary).items()},
        turtle=turtle.encode("utf-8"),
        jsonld=jsonld.encode("utf-8"),
    )


def evaluated(result: Evaluated, source: str) -> SiteDecision:
    """A decision the engine just produced, with its JSON twin as `evaluate --format json` prints it."""
    twin = jsonstream.dumps(result.data).encode("utf-8")  # json.dumps(indent=2)'s bytes, through orjson
    return SiteDecision(
        data=result.data,
        twin=twin,
        source=source,
        origin="evaluated",
        facts_text=result.facts_text,
        engine_version=result.engine_version,
        why_not=result.why_not,
        turtle=result.turtle,
        jsonld=result.jsonld,
        explanations=result.explanations,
    )


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
