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
    return turtle_text(provenance_triples(ev.justification.graph, engine_version))


def to_jsonld(ev: Evaluation, engine_version: str) -> str:
    return jsonld_text(provenance_triples(ev.justification.graph, engine_version))


# A site publishes thousands of these documents: rdflib's general serializers take
# 10-15 ms each, so the two formats are written here directly.  The graphs are
# simple (IRIs and literals, no blank nodes), the output is sorted (the same graph
# gives the same bytes in every process) and the tests parse both back with rdflib.

_PN_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SAFE_IRI = re.compile(r'^[^\x00-\x20<>"{}|^`\\]*$')
_BARE = {XSD.integer, XSD.boolean}


def _compact(iri: str) -> str | None:
    for prefix, namespace in CONTEXT.items():
        if iri.startswith(namespace) and _PN_LOCAL.match(iri[len(namespace) :]):
            return f"{prefix}:{iri[len(namespace) :]}"
    return None


_NOT_IN_IRI = re.compile(r'[<>"{}|\\^`\s]')  # what an IRI may not contain (RFC 3987)


def is_iri(value: object) -> bool:
    """Whether a recorded value can be stated as an IRI (what a justification node's id, subject and
    property must be for the PROV twins to exist)."""
    return isinstance(value, str) and bool(value) and not _NOT_IN_IRI.search(value)


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
            return value
    return {"@value": str(term), "@type": _compact(str(term.datatype)) or str(term.datatype)}


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
