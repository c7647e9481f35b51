"""The decision and its derivations as W3C PROV-O (Turtle or JSON-LD).

Every firing is a ``prov:Activity`` that ``prov:used`` its premises and has its
rule as plan (``prov:qualifiedAssociation`` / ``prov:hadPlan``); every
assessment, constraint, intermediate conclusion, tally and stance is a
``prov:Entity`` ``prov:wasGeneratedBy`` its firing and ``prov:wasDerivedFrom``
its premises.  Node IRIs are those of the justification graph, so the RDF and
the networkx graph name the same things.  JSON-LD is written with an inline
context: reading it back never fetches anything.
"""

from __future__ import annotations

import functools
import json
import re

import networkx as nx
from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV
from rdflib.util import from_n3

from infra_policy.engine.pipeline import Evaluation
from infra_policy.engine.vocabulary import IP

ENGINE = URIRef("https://w3id.org/infra-policy/engine")
DECISION = Namespace("urn:infra-policy:")

CONTEXT = {
    "prov": str(PROV),
    "ip": str(IP),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}

_ENTITY_KINDS = {"assessment", "constraint", "derived", "computed", "tally", "stance", "plan"}
_CLASS = {
    "fact": IP.Fact,
    "claim": IP.Claim,
    "assessment": IP.Assessment,
    "constraint": IP.Constraint,
    "derived": IP.Conclusion,
    "computed": IP.Computation,
    "parameter": IP.PolicyParameter,
    "tally": IP.Tally,
    "stance": IP.Stance,
    "plan": IP.HybridPlan,
}


_ATTRIBUTES = {
    "stance": IP.stance,
    "plan": IP.plan,
    "rule": IP.rule,
    "subject": IP.subject,
    "cloud_weight": IP.cloudWeight,
    "in_house_weight": IP.inHouseWeight,
}


def provenance_graph(ev: Evaluation, engine_version: str) -> Graph:
    """The PROV-O graph of one evaluation."""
    return provenance_of(ev.justification.graph, engine_version)


def provenance_of(jg: nx.DiGraph, engine_version: str) -> Graph:
    """The PROV-O graph of a justification graph: nodes with the attributes the engine gives them.

    Works as well on the graph read back from a decision's JSON (``justification``
    nodes and edges), so a recorded decision has the same provenance as a fresh one.
    """
    g = Graph()
    for prefix, namespace in CONTEXT.items():
        g.bind(prefix, namespace)
    for triple in provenance_triples(jg, engine_version):
        g.add(triple)
    return g


class _Triples(set):
    """A set of triples with Graph's ``add`` (building an rdflib Graph costs more than we need)."""

    def add(self, triple) -> None:
        super().add(triple)


def provenance_triples(jg: nx.DiGraph, engine_version: str) -> frozenset:
    """The triples of :func:`provenance_of`, without building an rdflib Graph."""
    g = _Triples()
    g.add((ENGINE, RDF.type, PROV.SoftwareAgent))
    g.add((ENGINE, RDFS.label, Literal("infra-policy")))
    g.add((ENGINE, IP.version, Literal(engine_version)))

    for node, data in sorted(jg.nodes(data=True)):
        iri = URIRef(node)
        kind = data["kind"]
        g.add((iri, RDFS.label, Literal(data["label"])))
        if kind == "rule":
            g.add((iri, RDF.type, PROV.Plan))
            continue
        if kind == "parameter":
            g.add((iri, RDF.type, PROV.Entity))
            g.add((iri, RDF.type, _CLASS[kind]))
            continue
        if kind == "firing":
            g.add((iri, RDF.type, PROV.Activity))
            g.add((iri, PROV.wasAssociatedWith, ENGINE))
            association = URIRef(f"{node}:association")
            g.add((iri, PROV.qualifiedAssociation, association))
            g.add((association, RDF.type, PROV.Association))
            g.add((association, PROV.agent, ENGINE))
            for premise in sorted(jg.predecessors(node)):
                relation = jg.edges[premise, node]["relation"]
                g.add(
                    (
                        association if relation == "plan" else iri,
                        PROV.hadPlan if relation == "plan" else PROV.used,
                        URIRef(premise),
                    )
                )
            continue
        g.add((iri, RDF.type, PROV.Entity))
        g.add((iri, RDF.type, _CLASS[kind]))
        if kind == "fact":
            g.add((iri, RDF.type, RDF.Statement))
            g.add((iri, RDF.subject, URIRef(data["subject"])))
            g.add((iri, RDF.predicate, URIRef(data["property"])))
            g.add((iri, RDF.object, from_n3(data["object"])))
            if "line" in data:
                g.add((iri, IP.line, Literal(data["line"])))
            if data.get("assumed"):  # `--set`: assumed, not stated in the facts file
                g.add((iri, IP.assumed, Literal(True)))
            continue
        for key, predicate in _ATTRIBUTES.items():
            if key in data:
                g.add((iri, predicate, Literal(data[key])))
        if kind in _ENTITY_KINDS:
            for premise in sorted(jg.predecessors(node)):
                pdata = jg.nodes[premise]
                if pdata["kind"] == "firing":
                    g.add((iri, PROV.wasGeneratedBy, URIRef(premise)))
                    for used in sorted(jg.predecessors(premise)):
                        if jg.nodes[used]["kind"] not in ("rule",):
                            g.add((iri, PROV.wasDerivedFrom, URIRef(used)))
                else:
                    g.add((iri, PROV.wasDerivedFrom, URIRef(premise)))
    return frozenset(g)


def to_turtle(ev: Evaluation, engine_version: str) -> str:
    return provenance_texts(ev.justification.graph, engine_version)[0]


def to_jsonld(ev: Evaluation, engine_version: str) -> str:
    return provenance_texts(ev.justification.graph, engine_version)[1]


# A site publishes thousands of these documents: rdflib's general serializers take
# 10-15 ms each, so the two formats are written here directly.  The graphs are
# simple (IRIs and literals, no blank nodes), the output is sorted (the same graph
# gives the same bytes in every process) and the tests parse both back with rdflib.

_PN_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SAFE_IRI = re.compile(r'^[^\x00-\x20<>"{}|^`\\]*$')
_BARE = {XSD.integer, XSD.boolean}


@functools.lru_cache(maxsize=1 << 16)
def _compact(iri: str) -> str | None:
    for prefix, namespace in CONTEXT.items():
        if iri.startswith(namespace) and _PN_LOCAL.match(iri[len(namespace) :]):
            return f"{prefix}:{iri[len(namespace) :]}"
    return None


def is_iri(value: object) -> bool:
    """Whether a recorded value can be stated as an IRI (what a justification node's id, subject and
    property must be for the PROV twins to exist)."""
    return isinstance(value, str) and bool(value) and _SAFE_IRI.match(value) is not None


def _turtle_term(term) -> str:
    if isinstance(term, URIRef):
        return _compact(str(term)) or f"<{term}>"
    if isinstance(term, Literal) and term.datatype in _BARE and term.language is None:
        return str(term)
    return term.n3()


def _simple(triples) -> bool:
    return all(
        isinstance(t, Literal) or (isinstance(t, URIRef) and _SAFE_IRI.match(t)) for triple in triples for t in triple
    )


def _as_graph(triples) -> Graph:
    if isinstance(triples, Graph):
        return triples
    g = Graph()
    for prefix, namespace in CONTEXT.items():
        g.bind(prefix, namespace)
    for triple in triples:
        g.add(triple)
    return g


def turtle_text(triples) -> str:
    """Turtle of a Graph or of a collection of triples."""
    g = list(triples)
    if not _simple(g):
        return _as_graph(g).serialize(format="turtle")
    by_subject: dict[str, dict[str, list[str]]] = {}
    for s, p, o in g:
        predicate = "a" if p == RDF.type else _turtle_term(p)
        by_subject.setdefault(_turtle_term(s), {}).setdefault(predicate, []).append(_turtle_term(o))
    lines = [f"@prefix {prefix}: <{namespace}> ." for prefix, namespace in sorted(CONTEXT.items())]
    for subject in sorted(by_subject):
        predicates = by_subject[subject]
        order = sorted(predicates, key=lambda p: (p != "a", p))
        parts = [f"{p} {', '.join(sorted(predicates[p]))}" for p in order]
        lines.append("")
        lines.append(f"{subject} " + " ;\n    ".join(parts) + " .")
    return "\n".join(lines) + "\n"


def _jsonld_value(term):
    if isinstance(term, URIRef):
        return {"@id": _compact(str(term)) or str(term)}
    if term.language is not None:
        return {"@value": str(term), "@language": term.language}
    if term.datatype is None or term.datatype == XSD.string:
        return str(term)
    if term.datatype == XSD.boolean:
        return term.toPython()
    if term.datatype == XSD.integer:
        value = term.toPython()
        if isinstance(value, int):
            return _jsonld_integer(value)
    return {"@value": str(term), "@type": _compact(str(term.datatype)) or str(term.datatype)}


# JSON-LD reads a native number this large as a double: beyond it an integer is written as a typed string
_JSONLD_EXACT = 2**53


def _jsonld_integer(value: int) -> object:
    if -_JSONLD_EXACT < value < _JSONLD_EXACT:
        return value
    return {"@value": int.__repr__(value), "@type": _compact(str(XSD.integer)) or str(XSD.integer)}


def jsonld_text(triples) -> str:
    """JSON-LD (inline context) of a Graph or of a collection of triples."""
    g = list(triples)
    if not _simple(g):
        document = json.loads(_as_graph(g).serialize(format="json-ld", context=CONTEXT))
        return json.dumps(_sorted_lists(document), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    nodes: dict[str, dict] = {}
    for s, p, o in g:
        node = nodes.setdefault(str(s), {"@id": _compact(str(s)) or str(s)})
        if p == RDF.type:
            node.setdefault("@type", []).append(_compact(str(o)) or str(o))
        else:
            node.setdefault(_compact(str(p)) or str(p), []).append(_jsonld_value(o))
    graph = []
    for key in sorted(nodes):
        node = nodes[key]
        graph.append({k: (sorted(v, key=repr) if isinstance(v, list) else v) for k, v in node.items()})
    document = {"@context": dict(sorted(CONTEXT.items())), "@graph": graph}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _sort_key(item) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def _sorted_lists(value):
    if isinstance(value, dict):
        return {key: _sorted_lists(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(item) for item in value]
        return sorted(items, key=_sort_key)
    return value


# -- both documents straight from the justification graph ----------------------------------------
#
# A site writes both twins of every decision: building rdflib terms and then writing them costs more
# than the rest of the site's work on a decision. So the triples of provenance_triples() are made
# here as the texts they are written as: per subject (by IRI), per predicate (by IRI), each object
# as (its Turtle text, its JSON-LD value). Where a graph has something these texts do not cover (an
# IRI that needs escaping, a value that is not a string, an integer or a boolean, an object that is
# not an IRI or a literal), the documents are written from rdflib's terms as before. Either way the
# bytes are those of turtle_text() and jsonld_text() of provenance_triples(); tests hold them equal.


class _UnusualTermError(Exception):
    """The graph has something only the rdflib path writes."""


_TYPE = str(RDF.type)
_PLAIN = {
    "label": str(RDFS.label),
    "type": _TYPE,
    "version": str(IP.version),
    "line": str(IP.line),
    "assumed": str(IP.assumed),
    "subject": str(RDF.subject),
    "predicate": str(RDF.predicate),
    "object": str(RDF.object),
    "used": str(PROV.used),
    "hadPlan": str(PROV.hadPlan),
    "agent": str(PROV.agent),
    "associated": str(PROV.wasAssociatedWith),
    "association": str(PROV.qualifiedAssociation),
    "generated": str(PROV.wasGeneratedBy),
    "derived": str(PROV.wasDerivedFrom),
}
_ATTRIBUTE_IRIS = {key: str(predicate) for key, predicate in _ATTRIBUTES.items()}
_CLASS_IRIS = {kind: str(iri) for kind, iri in _CLASS.items()}
_ENGINE = str(ENGINE)
_ENTITY, _ACTIVITY, _PLAN, _ASSOCIATION, _STATEMENT, _AGENT = (
    str(x) for x in (PROV.Entity, PROV.Activity, PROV.Plan, PROV.Association, RDF.Statement, PROV.SoftwareAgent)
)


@functools.lru_cache(maxsize=1 << 16)
def _iri(iri: str) -> tuple[str, dict]:
    if not _SAFE_IRI.match(iri):
        raise _UnusualTermError(iri)
    compact = _compact(iri)
    return (compact or f"<{iri}>", {"@id": compact or iri})


def _string(text: str) -> tuple[str, str]:
    if "\n" in text:  # rdflib writes these triple-quoted
        return (Literal(text).n3(), text)
    return ('"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") + '"', text)


def _value(value: object) -> tuple[str, object]:
    """The Turtle text and JSON-LD value of ``Literal(value)``."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is bool:
        return ("true" if value else "false", value)
    if kind is int:
        return (int.__repr__(value), _jsonld_integer(value))
    raise _UnusualTermError(kind)


@functools.lru_cache(maxsize=1 << 14)
def _n3_object(text: str) -> tuple[str, object]:
    term = from_n3(text)
    if isinstance(term, URIRef):
        return _iri(str(term))
    if isinstance(term, Literal):
        return (_turtle_term(term), _jsonld_value(term))
    raise _UnusualTermError(type(term))


def _node_id(node: object) -> str:
    if type(node) is not str:
        raise _UnusualTermError(type(node))
    _iri(node)  # an IRI that needs escaping is written by rdflib
    return node


def _plain_triples(jg: nx.DiGraph, engine_version: str) -> dict[str, dict[str, dict[str, object]]]:
    """subject IRI → predicate IRI → {object's Turtle text: its JSON-LD value}: provenance_triples() as texts."""
    subjects: dict[str, dict[str, dict[str, object]]] = {}
    P = _PLAIN  # noqa: N806 (a short local name for a table read in the loop)

    def add(subject: str, predicate: str, term: tuple[str, object]) -> None:
        subjects.setdefault(subject, {}).setdefault(predicate, {})[term[0]] = term[1]

    add(_ENGINE, P["type"], _iri(_AGENT))
    add(_ENGINE, P["label"], _value("infra-policy"))
    add(_ENGINE, P["version"], _value(engine_version))
    nodes = jg.nodes
    for node, data in jg.nodes(data=True):
        _node_id(node)
        kind = data["kind"]
        add(node, P["label"], _value(data["label"]))
        if kind == "rule":
            add(node, P["type"], _iri(_PLAN))
            continue
        if kind == "parameter":
            add(node, P["type"], _iri(_ENTITY))
            add(node, P["type"], _iri(_CLASS_IRIS[kind]))
            continue
        if kind == "firing":
            add(node, P["type"], _iri(_ACTIVITY))
            add(node, P["associated"], _iri(_ENGINE))
            association = f"{node}:association"
            add(node, P["association"], _iri(association))
            add(association, P["type"], _iri(_ASSOCIATION))
            add(association, P["agent"], _iri(_ENGINE))
            for premise in jg.predecessors(node):
                if jg.edges[premise, node]["relation"] == "plan":
                    add(association, P["hadPlan"], _iri(_node_id(premise)))
                else:
                    add(node, P["used"], _iri(_node_id(premise)))
            continue
        add(node, P["type"], _iri(_ENTITY))
        add(node, P["type"], _iri(_CLASS_IRIS[kind]))
        if kind == "fact":
            add(node, P["type"], _iri(_STATEMENT))
            add(node, P["subject"], _iri(_node_id(data["subject"])))
            add(node, P["predicate"], _iri(_node_id(data["property"])))
            add(node, P["object"], _n3_object(data["object"]))
            if "line" in data:
                add(node, P["line"], _value(data["line"]))
            if data.get("assumed"):
                add(node, P["assumed"], _value(True))
            continue
        for key, predicate in _ATTRIBUTE_IRIS.items():
            if key in data:
                add(node, predicate, _value(data[key]))
        if kind in _ENTITY_KINDS:
            for premise in jg.predecessors(node):
                if nodes[premise]["kind"] == "firing":
                    add(node, P["generated"], _iri(_node_id(premise)))
                    for used in jg.predecessors(premise):
                        if nodes[used]["kind"] not in ("rule",):
                            add(node, P["derived"], _iri(_node_id(used)))
                else:
                    add(node, P["derived"], _iri(_node_id(premise)))
    return subjects


def provenance_texts(jg: nx.DiGraph, engine_version: str) -> tuple[str, str]:
    """The PROV-O derivation of a justification graph as Turtle and as JSON-LD: the texts
    ``turtle_text`` and ``jsonld_text`` write for ``provenance_triples(jg, engine_version)``."""
    try:
        subjects = _plain_triples(jg, engine_version)
    except _UnusualTermError:
        triples = provenance_triples(jg, engine_version)
        return turtle_text(triples), jsonld_text(triples)
    from .jsonstream import dumps

    lines = [f"@prefix {prefix}: <{namespace}> ." for prefix, namespace in sorted(CONTEXT.items())]
    by_text = sorted((_iri(subject)[0], subject) for subject in subjects)
    for text, subject in by_text:
        predicates = subjects[subject]
        parts = sorted(
            (("a" if p == _TYPE else _iri(p)[0], ", ".join(sorted(objects))) for p, objects in predicates.items()),
            key=_predicate_order,
        )
        lines.append("")
        lines.append(f"{text} " + " ;\n    ".join(f"{p} {objects}" for p, objects in parts) + " .")
    turtle = "\n".join(lines) + "\n"

    graph = []
    for subject in sorted(subjects):
        node: dict[str, object] = {}
        for predicate, objects in subjects[subject].items():
            if predicate == _TYPE:
                node["@type"] = sorted((value["@id"] for value in objects.values()), key=repr)
            else:
                node[_iri(predicate)[1]["@id"]] = sorted(objects.values(), key=repr)
        node["@id"] = _iri(subject)[1]["@id"]
        graph.append(_sorted_keys(node))
    document = {"@context": dict(sorted(CONTEXT.items())), "@graph": graph}
    return turtle, dumps(document)


def _predicate_order(part: tuple[str, str]) -> tuple[bool, str]:
    return (part[0] != "a", part[0])


def _sorted_keys(value):
    # dumps() keeps the order of keys; json.dumps(sort_keys=True) sorts them at every level
    if isinstance(value, dict):
        if len(value) == 1:  # most values are {"@id": …}: already in order, and never changed afterwards
            (item,) = value.values()
            if not isinstance(item, (dict, list)):
                return value
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) if isinstance(item, (dict, list)) else item for item in value]
    return value
