"""Deciding a recorded decision again: its stated facts back as a facts document.

A decision document (``decision@1``, alone or inside a record) lists each workload's stated facts with
the subject that states them, inherited ones included: all the rule stages read. `impact --records` and
`coverage --records` both decide records again through :func:`replay_document`, so both see the same
facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from infra_policy.engine.errors import InputError
from infra_policy.engine.stages.inputs import Limits
from infra_policy.engine.stages.load import FactsDocument, load_facts_from
from infra_policy.engine.vocabulary import IP, Vocabulary


def replay_document(decision: Mapping, source: object, vocabulary: Vocabulary, limits: Limits) -> FactsDocument:
    """The stated facts of ``decision`` as a facts document, checked like a facts file; an
    :class:`InputError` naming ``source`` when they cannot be read back."""
    try:
        graph = facts_from_decision(decision, vocabulary)
    except (KeyError, TypeError, ValueError, ArithmeticError, AssertionError) as exc:
        raise InputError(
            f"{source}: the decision's stated facts cannot be read back (missing or malformed {exc})."
        ) from exc
    return load_facts_from(graph, None, limits)


def facts_from_decision(decision: Mapping, vocabulary: Vocabulary) -> Graph:
    """The stated facts of a decision document (or a record's) as a facts graph.

    Each workload lists its stated facts with the subject that states them (the organization for an
    inherited one), so the organization, its workloads and every stated fact come back; what a facts
    file says outside the vocabulary (comments, other namespaces) is not in a decision and does not
    come back, so the facts digest may differ from the recorded one while the decision does not.
    """
    graph = Graph()
    org = decision["organization"]
    org_iri = URIRef(org["id"])
    graph.add((org_iri, RDF.type, IP.Organization))
    graph.add((org_iri, IP.name, Literal(org["name"])))
    for w in decision["workloads"]:
        if not w.get("implicit"):
            iri = URIRef(w["id"])
            graph.add((iri, RDF.type, IP.Workload))
            graph.add((org_iri, IP.hasWorkload, iri))
        for fact in w.get("facts", []):
            prop = vocabulary.properties.get(fact["property"])
            if prop is None:
                continue
            values = fact["value"] if isinstance(fact["value"], list) else [fact["value"]]
            for value in values:
                graph.add((URIRef(fact["subject"]), prop.iri, _term(value, prop.kind)))
            if "replaces" in fact:  # the organization's value, which this workload's own replaces
                replaced = fact["replaces"] if isinstance(fact["replaces"], list) else [fact["replaces"]]
                for value in replaced:
                    graph.add((org_iri, prop.iri, _term(value, prop.kind)))
    return graph


def _term(value: object, kind: str) -> URIRef | Literal:
    if kind in ("enum", "iri"):
        text = str(value)
        return URIRef(text) if "://" in text else IP[text]
    if kind == "boolean":
        return Literal(bool(value))
    if kind == "integer":
        return Literal(int(value), datatype=XSD.integer)
    if kind == "number":
        return Literal(Decimal(str(value)), datatype=XSD.decimal)
    return Literal(str(value))
