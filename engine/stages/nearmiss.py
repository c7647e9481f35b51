"""Namespace near-misses: terms that look like infra-policy's but are not, so they would be ignored.

Triples in other vocabularies are allowed and ignored (a user's own ``rdfs:comment`` or
``dcterms:…``). That tolerance hides two easy mistakes, which this module reports as warnings
(errors with ``--strict``), each with "did you mean":

* a property or class whose local name is a term of the vocabulary but which sits in another
  namespace (``ex:dataSensitivity ip:Confidential``), and such a value of a property that allows any
  IRI (``ip:regulatedBy ex:GDPR``; a property with a closed list of values is checked by the shapes);
* a namespace one edit away from ``https://w3id.org/infra-policy#`` (``…/infra-policy/`` with a
  slash, ``http:`` for ``https:``, a typo), which makes every term written with it unknown.

The terms are read from the knowledge base's vocabulary, never listed here.
"""

from __future__ import annotations

from functools import lru_cache

from rdflib import RDF, Graph, URIRef
from rdflib.term import Node

from infra_policy.engine.stages.load import FactsDocument
from infra_policy.engine.stages.profile import display, located
from infra_policy.engine.vocabulary import IP, ORGANIZATION, WORKLOAD, Vocabulary, local_name

_NAMESPACE = str(IP)
# Terms of well-known vocabularies (schema:name, foaf:name, …) are the user's own business.
_WELL_KNOWN = frozenset(str(ns) for _, ns in Graph(bind_namespaces="rdflib").namespaces())


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between ``a`` and ``b``, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def split_iri(iri: str) -> tuple[str, str]:
    """An IRI's namespace (up to its last ``#`` or ``/``) and local name."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1], iri[cut + 1 :]


@lru_cache(maxsize=1024)  # a file uses few namespaces; each is compared once, not once per term
def _near_namespace(namespace: str) -> bool:
    return namespace != _NAMESPACE and edit_distance(namespace, _NAMESPACE, 1) == 1


def near_misses(doc: FactsDocument, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Every near-miss in the facts, one sentence each, in file order."""
    properties = {name.lower(): name for name, prop in vocabulary.properties.items() if not prop.computed}
    properties[local_name(IP.hasWorkload).lower()] = local_name(IP.hasWorkload)
    values = {name.lower(): name for name in vocabulary.individuals}
    classes = {local_name(c).lower(): local_name(c) for c in (ORGANIZATION, WORKLOAD)}
    found: dict[str, tuple[int, str]] = {}

    def add(key: str, line: int, message: str) -> None:
        if key not in found or (line and (not found[key][0] or line < found[key][0])):
            found[key] = (line, message)

    # a file of 10,000 workloads has 100,000 triples but few distinct terms: each is split once
    parts: dict[URIRef, tuple[str, str]] = {}

    def split(term: URIRef) -> tuple[str, str]:
        found = parts.get(term)
        if found is None:
            found = parts[term] = split_iri(str(term))
        return found

    def wrong_namespace(term: URIRef, known: dict[str, str], what: str, subject: Node, line: int) -> None:
        namespace, name = split(term)
        if namespace in (_NAMESPACE, *_WELL_KNOWN) or name.lower() not in known or _near_namespace(namespace):
            return
        subject_text = display(doc, subject)  # only for a term worth a message: naming a subject costs
        consequence = "no rule recognises it" if what == "value" else "it is ignored"
        add(
            f"term {term} {subject_text}",
            line,
            located(
                line,
                f"{subject_text}: {display(doc, term)} is not an infra-policy {what} — it is in the namespace "
                f"<{namespace}>, not <{_NAMESPACE}> — so {consequence}. Did you mean ip:{known[name.lower()]}?",
            ),
        )

    for s, p, o in sorted(doc.graph, key=lambda t: (doc.line_of(t) or 0, str(t))):
        line = doc.line_of((s, p, o)) or 0
        if isinstance(p, URIRef):
            if p == RDF.type and isinstance(o, URIRef):
                wrong_namespace(o, classes, "class", s, line)
            elif p != RDF.type:
                wrong_namespace(p, properties, "property", s, line)
            prop = vocabulary.get(local_name(p)) if str(p).startswith(_NAMESPACE) else None
            if isinstance(o, URIRef) and prop is not None and prop.open_values:
                # a closed list of values is enforced by the shapes, which name the right one already
                wrong_namespace(o, values, "value", s, line)
        for term in (s, p, o):
            if isinstance(term, URIRef):
                namespace, _ = split(term)
                if _near_namespace(namespace):
                    prefixes = [f"{prefix}:" for prefix, ns in doc.graph.namespaces() if str(ns) == namespace]
                    bound = f"the prefix {prefixes[0]} is bound to" if prefixes else "the namespace"
                    add(
                        f"namespace {namespace}",
                        line,
                        located(
                            line,
                            f"{bound} <{namespace}>, one character away from the infra-policy namespace "
                            f"<{_NAMESPACE}>, so every term written with it is ignored. Did you mean "
                            f"<{_NAMESPACE}>?",
                        ),
                    )
    return tuple(message for _, message in sorted(found.values(), key=lambda item: (item[0] or 0, item[1])))


__all__ = ["edit_distance", "near_misses", "split_iri"]
