"""The facts vocabulary, read from the knowledge base (never restated in code).

A :class:`Vocabulary` answers what the rule loader, the profile and the
explanations need to know about a facts property: its local name, label, kind
of value, allowed values, numeric bounds, whether it is single-valued and
whether it is *computed* (typed ``ip:ComputedProperty``: derived by the engine,
e.g. the cost model's results, tested by rules but never stated in facts).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from rdflib import OWL, RDF, RDFS, XSD, Graph, Namespace, URIRef
from rdflib.namespace import SH

from infra_policy.engine.errors import KnowledgeBaseError

IP = Namespace("https://w3id.org/infra-policy#")

ORGANIZATION = IP.Organization
WORKLOAD = IP.Workload
COMPUTED_PROPERTY = IP.ComputedProperty
HAS_WORKLOAD = IP.hasWorkload
NAME = IP.name

_SIDE_NAMES = {IP.Cloud: "cloud", IP.InHouse: "in-house"}

_LITERAL_KINDS = {
    XSD.decimal: "number",
    XSD.integer: "integer",
    XSD.boolean: "boolean",
    XSD.string: "string",
}


@dataclass(frozen=True)
class Property:
    """One facts property of the vocabulary contract."""

    name: str  # local name, e.g. "dataSensitivity"
    iri: URIRef
    label: str
    comment: str
    kind: str  # "enum" | "iri" | "number" | "integer" | "boolean" | "string"
    single: bool
    values: tuple[str, ...] = ()  # allowed individuals (local names) for kind "enum"/"iri"
    open_values: bool = False  # other IRIs allowed besides `values`
    minimum: float | None = None
    minimum_exclusive: bool = False
    domain: str = ""  # "Organization" | "Workload" | ""
    computed: bool = False  # derived by the engine; rules may test it, facts may not state it
    # the side that raising the value favors ("cloud" | "in-house"; None when not declared):
    # a larger number, true over false, the next value by rank, one more value of a multi-valued property
    pushes: str | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "integer")

    def describe_allowed(self) -> str:
        """What a value must be, in words (for error messages)."""
        if self.kind in ("enum", "iri"):
            listed = ", ".join(f"ip:{v}" for v in self.values)
            if self.open_values:
                return f"an IRI, for example one of {listed}"
            return f"one of {listed}"
        if self.numeric:
            what = "an integer" if self.kind == "integer" else "a number"
            if self.minimum is not None:
                bound = ">" if self.minimum_exclusive else "≥"
                what += f" {bound} {_plain(self.minimum)}"
            return what
        if self.kind == "boolean":
            return "true or false"
        return "a text string"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class Vocabulary:
    properties: dict[str, Property]
    individuals: dict[str, str]  # local name → label, every value individual

    def get(self, name: str) -> Property | None:
        return self.properties.get(name)

    @cached_property
    def computed(self) -> frozenset[str]:
        """Names of the properties the engine computes (not stated in facts)."""
        return frozenset(name for name, prop in self.properties.items() if prop.computed)

    def closest(self, name: str, include_computed: bool = True) -> str | None:
        """The known property name nearest to a misspelt one, if any is close."""
        lowered = {p.lower(): p for p, prop in self.properties.items() if include_computed or not prop.computed}
        match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        return lowered[match[0]] if match else None

    def closest_value(self, prop: Property, value: str) -> str | None:
        candidates = {v.lower(): v for v in prop.values}
        match = difflib.get_close_matches(value.lower(), list(candidates), n=1, cutoff=0.6)
        return candidates[match[0]] if match else None


def local_name(iri: URIRef | str) -> str:
    text = str(iri)
    if text.startswith(str(IP)):
        return text[len(str(IP)) :]
    return text


def _text(graph: Graph, subject: URIRef, predicate: URIRef) -> str:
    value = graph.value(subject, predicate)
    return str(value) if value is not None else ""


def _numeric_bounds(shapes: Graph, path: URIRef) -> tuple[float | None, bool]:
    for shape in shapes.subjects(SH.path, path):
        for predicate, exclusive in ((SH.minExclusive, True), (SH.minInclusive, False)):
            bound = shapes.value(shape, predicate)
            if bound is not None:
                value = bound.toPython()
                return (float(value) if isinstance(value, (int, float, Decimal)) else None), exclusive
    return None, False


def _allowed_values(shapes: Graph, path: URIRef) -> tuple[tuple[str, ...], bool]:
    from rdflib.collection import Collection

    for shape in shapes.subjects(SH.path, path):
        listed = shapes.value(shape, SH["in"])
        if listed is not None:
            return tuple(local_name(v) for v in Collection(shapes, listed)), False
    return (), True


def build_vocabulary(ontology: Graph, shapes: Graph) -> Vocabulary:
    """Read every facts property (domain Organization or Workload) from the KB."""
    properties: dict[str, Property] = {}
    facts_domains = {ORGANIZATION: "Organization", WORKLOAD: "Workload"}
    candidates = set(ontology.subjects(RDF.type, OWL.DatatypeProperty)) | set(
        ontology.subjects(RDF.type, OWL.ObjectProperty)
    )
    for iri in sorted(candidates):
        if not str(iri).startswith(str(IP)) or iri == HAS_WORKLOAD:
            continue
        domain = ontology.value(iri, RDFS.domain)
        if iri != NAME and domain not in facts_domains:
            continue
        rng = ontology.value(iri, RDFS.range)
        single = (iri, RDF.type, OWL.FunctionalProperty) in ontology
        minimum, exclusive = _numeric_bounds(shapes, iri)
        values: tuple[str, ...] = ()
        open_values = False
        if rng in _LITERAL_KINDS:
            kind = _LITERAL_KINDS[rng]
        elif rng is not None:
            members = sorted(
                ontology.subjects(RDF.type, rng),
                key=lambda v: (_rank(ontology, v), str(v)),
            )
            values = tuple(local_name(v) for v in members)
            _, open_values = _allowed_values(shapes, iri)
            kind = "iri" if open_values else "enum"
        else:
            raise KnowledgeBaseError(f"ontology: property {iri} has no rdfs:range.")
        name = local_name(iri)
        properties[name] = Property(
            name=name,
            iri=iri,
            label=_text(ontology, iri, RDFS.label) or name,
            comment=_text(ontology, iri, RDFS.comment),
            kind=kind,
            single=single,
            values=values,
            open_values=open_values,
            minimum=minimum,
            minimum_exclusive=exclusive,
            domain=facts_domains.get(domain, ""),
            computed=(iri, RDF.type, COMPUTED_PROPERTY) in ontology,
            pushes=_SIDE_NAMES.get(ontology.value(iri, IP.raisingPushesToward)),
        )
    if not properties:
        raise KnowledgeBaseError("ontology: no facts properties found (domain ip:Organization or ip:Workload).")
    individuals = {}
    for prop in properties.values():
        for value in prop.values:
            individuals[value] = _text(ontology, IP[value], RDFS.label) or value
    return Vocabulary(properties=properties, individuals=individuals)


def _rank(graph: Graph, individual: URIRef) -> int:
    rank = graph.value(individual, IP.rank)
    return int(rank) if rank is not None else 0
