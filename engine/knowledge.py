"""The knowledge base: ontology, factors, claims of the source article, shapes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Namespace, URIRef

from infra_policy.engine.errors import KnowledgeBaseError
from infra_policy.engine.paths import PACKAGED_KB
from infra_policy.engine.stages.load import load_kb_graph
from infra_policy.engine.vocabulary import IP, Vocabulary, build_vocabulary

FACTOR = Namespace("https://w3id.org/infra-policy/factor/")
CLAIM = Namespace("https://w3id.org/infra-policy/claim/")

KB_FILES = ("ontology.ttl", "factors.ttl", "claims.ttl", "provenance.ttl")
SHAPES_FILE = "shapes.ttl"

_SIDES = {IP.Cloud: "cloud", IP.InHouse: "in-house"}


@dataclass(frozen=True)
class Factor:
    id: str  # e.g. "privacy"
    iri: str
    label: str
    description: str
    order: int


@dataclass(frozen=True)
class Claim:
    id: str  # e.g. "claim:inhouse-pro-data-privacy"
    iri: str
    label: str
    text: str
    factor: str | None
    favors: str | None  # "cloud" | "in-house" | None for framing claims
    section: str


@dataclass(frozen=True)
class KnowledgeBase:
    directory: Path
    graph: Graph  # ontology + factors + claims (what rules and facts refer to)
    ontology: Graph  # the vocabulary alone (mixed into facts for validation)
    shapes: Graph
    vocabulary: Vocabulary
    factors: dict[str, Factor]
    claims: dict[str, Claim]


def claim_id(iri: URIRef | str) -> str:
    return "claim:" + str(iri)[len(str(CLAIM)) :]


def _str(graph: Graph, subject, predicate) -> str:
    value = graph.value(subject, predicate)
    return str(value) if value is not None else ""


def load_knowledge_base(directory: Path | None = None) -> KnowledgeBase:
    """Load the packaged knowledge base, or the one in ``directory``."""
    directory = Path(directory) if directory is not None else PACKAGED_KB
    if not directory.is_dir():
        raise KnowledgeBaseError(f"{directory}: the knowledge base directory does not exist.")
    ontology = load_kb_graph(directory, KB_FILES[:1])
    graph = ontology + load_kb_graph(directory, KB_FILES[1:])
    shapes = load_kb_graph(directory, (SHAPES_FILE,))
    try:
        vocabulary = build_vocabulary(graph, shapes)
    except KnowledgeBaseError as exc:
        raise KnowledgeBaseError(f"{directory / KB_FILES[0]}: {str(exc).removeprefix('ontology: ')}") from exc

    factors = {}
    for iri in graph.subjects(RDF.type, IP.Factor):
        fid = str(iri)[len(str(FACTOR)) :]
        order = graph.value(iri, IP.order)
        factors[fid] = Factor(
            id=fid,
            iri=str(iri),
            label=_str(graph, iri, RDFS.label) or fid,
            description=_str(graph, iri, RDFS.comment),
            order=int(order) if order is not None else 0,
        )
    claims = {}
    for iri in graph.subjects(RDF.type, IP.Claim):
        factor = graph.value(iri, IP.aboutFactor)
        section = graph.value(iri, IP.fromSection)
        cid = claim_id(iri)
        claims[cid] = Claim(
            id=cid,
            iri=str(iri),
            label=_str(graph, iri, RDFS.label) or cid,
            text=_str(graph, iri, RDFS.comment),
            factor=str(factor)[len(str(FACTOR)) :] if factor is not None else None,
            favors=_SIDES.get(graph.value(iri, IP.favors)),
            section=_str(graph, section, IP.sectionPath) if section is not None else "",
        )
    if not factors or not claims:
        raise KnowledgeBaseError(f"{directory}: the knowledge base defines no factors or no claims.")
    return KnowledgeBase(
        directory=directory,
        graph=graph,
        ontology=ontology,
        shapes=shapes,
        vocabulary=vocabulary,
        factors=dict(sorted(factors.items(), key=lambda kv: (kv[1].order, kv[0]))),
        claims=dict(sorted(claims.items())),
    )


__all__ = ["Claim", "Factor", "KnowledgeBase", "load_knowledge_base"]
