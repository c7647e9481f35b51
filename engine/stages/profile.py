"""Stage 3 — profile: one plain record of facts per workload.

Organization facts are inherited by every workload; a workload's own value of
a property replaces the organization's.  An organization without workloads is
evaluated as one implicit workload.  Every value remembers the triples it came
from, so each conclusion can be traced back to the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from rdflib import RDF, XSD, BNode, Literal, URIRef
from rdflib.term import Node

from infra_policy.engine.errors import FactsError
from infra_policy.engine.policy.rules_ast import Scalar, Value
from infra_policy.engine.stages.load import FactsDocument, Triple
from infra_policy.engine.vocabulary import HAS_WORKLOAD, IP, NAME, ORGANIZATION, WORKLOAD, Vocabulary, local_name


@dataclass(frozen=True)
class StatedFact:
    """A property's value on a workload, with the triples that state it."""

    property: str
    value: Value
    subject: str  # IRI of the node the triples are about
    triples: tuple[Triple, ...]
    inherited: bool  # stated on the organization, not the workload


@dataclass(frozen=True)
class WorkloadProfile:
    id: str
    name: str
    implicit: bool
    declaration: Triple  # the triple that makes this a workload (or the organization)
    facts: dict[str, StatedFact] = field(default_factory=dict)
    # the organization's facts that this workload's own values replace (where the two differ): a
    # workload's list of safeguards or regimes replaces the organization's list, it does not add to it
    replaced: dict[str, StatedFact] = field(default_factory=dict)

    def values(self) -> dict[str, Value]:
        return {name: fact.value for name, fact in self.facts.items()}


@dataclass(frozen=True)
class OrganizationProfile:
    id: str
    name: str
    declaration: Triple
    workloads: tuple[WorkloadProfile, ...]


_BARE_DATATYPES = {XSD.integer, XSD.decimal, XSD.double, XSD.boolean, XSD.float}


def python_value(term: Node) -> Scalar:
    """The plain value the rules see for an RDF term."""
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, (bool, int, float, str)):
            return value
        return str(term)
    return local_name(term)


def display(doc: FactsDocument, term: Node) -> str:
    """A short, readable form of a term (prefixed name where possible)."""
    if isinstance(term, URIRef):
        try:
            return doc.graph.namespace_manager.normalizeUri(term)
        except Exception:
            return f"<{term}>"
    if isinstance(term, BNode):
        return "a blank node"
    if isinstance(term, Literal) and term.ill_typed:
        # Show what was written: the parsed value of "maybe"^^xsd:boolean is false.
        return f'"{term}"^^{display(doc, term.datatype)}' if term.datatype else f'"{term}"'
    if isinstance(term, Literal) and term.datatype is not None and term.datatype in _BARE_DATATYPES:
        return str(term)
    if isinstance(term, Literal):
        return f'"{term}"' + (f"@{term.language}" if term.language else "")
    return str(term)


def _name(doc: FactsDocument, subject: Node) -> str:
    value = doc.graph.value(subject, NAME)
    if value is not None:
        return str(value)
    text = str(subject)
    return text.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or text


def _collect(doc: FactsDocument, subject: Node, vocabulary: Vocabulary, inherited: bool) -> dict[str, StatedFact]:
    grouped: dict[str, list[Triple]] = {}
    for p, o in doc.graph.predicate_objects(subject):
        name = local_name(p)
        if p in (NAME, HAS_WORKLOAD) or name not in vocabulary.properties or vocabulary.properties[name].computed:
            continue
        grouped.setdefault(name, []).append((subject, p, o))
    facts = {}
    for name, triples in sorted(grouped.items()):
        triples.sort(key=lambda t: (str(type(t[2])), str(t[2])))
        prop = vocabulary.properties[name]
        if prop.single:
            value: Value = python_value(triples[0][2])
        else:
            value = tuple(sorted({python_value(t[2]) for t in triples}, key=str))
        facts[name] = StatedFact(name, value, str(subject), tuple(triples), inherited)
    return facts


def _first_line(doc: FactsDocument, subject: Node, triple: Triple | None = None) -> int:
    """The line of ``triple``, else of the subject's first statement (0: unknown)."""
    if triple is not None and doc.line_of(triple):
        return doc.line_of(triple) or 0
    return min((line for (s, _, _), line in doc.lines.items() if s == subject), default=0)


def structure_problems(doc: FactsDocument) -> list[tuple[int, str]]:
    """What keeps the facts from describing one organization and its workloads.

    Each problem is ``(line, sentence)`` (line 0 when unknown), so validation
    can report them together with the shape violations.  A file with several
    organizations is refused rather than evaluated per organization: a
    decision, its record and its digest are about one organization, and
    splitting the file keeps each of those unambiguous.
    """
    graph = doc.graph
    problems: list[tuple[int, str]] = []
    organizations = sorted(set(graph.subjects(RDF.type, ORGANIZATION)), key=str)
    declared = sorted(set(graph.subjects(RDF.type, WORKLOAD)), key=str)
    if not organizations:
        problems.append(
            (
                0,
                "no organization found. Declare exactly one, for example "
                "'ex:acme a ip:Organization ; ip:name \"Acme\" .', and link its workloads with ip:hasWorkload.",
            )
        )
    if len(organizations) > 1:
        where = [(_first_line(doc, o, (o, RDF.type, ORGANIZATION)), display(doc, o)) for o in organizations]
        names = ", ".join(name + (f" on line {line}" if line else "") for line, name in sorted(where))
        problems.append(
            (
                sorted(where)[1][0],
                f"{len(organizations)} organizations found ({names}); a facts file describes exactly "
                "one organization. Put each organization in its own file and evaluate them one by one.",
            )
        )
    for organization in organizations:
        if isinstance(organization, BNode):
            # A blank node has no name that survives a reading: the decision, its record id and
            # every justification node would differ from one run to the next.
            problems.append(
                (
                    _first_line(doc, organization, (organization, RDF.type, ORGANIZATION)),
                    "the organization is a blank node ([ … ] or _:label); give it an IRI (for example "
                    "ex:acme a ip:Organization) so that decisions, records and their justification can name it.",
                )
            )
    linked = {w for o in organizations for w in graph.objects(o, HAS_WORKLOAD)}
    for workload in declared:
        if workload in linked or not organizations:
            continue
        org = display(doc, organizations[0])
        if isinstance(workload, BNode) or isinstance(organizations[0], BNode):
            advice = "give it an IRI and link it from the organization with ip:hasWorkload"
        else:
            advice = f"add '{org} ip:hasWorkload {display(doc, workload)} .'"
        target = f"the organization {org}" if len(organizations) == 1 else "any organization"
        problems.append(
            (
                _first_line(doc, workload, (workload, RDF.type, WORKLOAD)),
                f"workload {display(doc, workload)} is not linked to {target}; {advice} (or remove the workload).",
            )
        )
    known = {*organizations, *declared}
    strays = sorted(
        {s for s, p, _ in graph if str(p).startswith(str(IP)) and p != RDF.type and s not in known}, key=str
    )
    for stray in strays:
        problems.append(
            (
                _first_line(doc, stray),
                f"{display(doc, stray)} uses infra-policy properties but is neither an ip:Organization nor an "
                "ip:Workload; declare its type (for example 'a ip:Workload') and link it with ip:hasWorkload.",
            )
        )
    return sorted(problems)


def located(line: int, message: str) -> str:
    return f"line {line}: {message}" if line else message


def build_profile(doc: FactsDocument, vocabulary: Vocabulary) -> OrganizationProfile:
    """Turn validated facts into the organization and its workload records."""
    graph = doc.graph
    problems = structure_problems(doc)
    if problems:
        raise FactsError.listing(doc.path, [located(line, message) for line, message in problems])
    (org,) = set(graph.subjects(RDF.type, ORGANIZATION))
    linked = sorted(set(graph.objects(org, HAS_WORKLOAD)), key=str)

    org_declaration = (org, RDF.type, ORGANIZATION)
    org_facts = _collect(doc, org, vocabulary, inherited=True)
    workloads = []
    for workload in linked:
        own = _collect(doc, workload, vocabulary, inherited=False)
        merged = {**org_facts, **own}
        replaced = {
            name: org_facts[name]
            for name in sorted(own)
            if name in org_facts and name != "name" and org_facts[name].value != own[name].value
        }
        workloads.append(
            WorkloadProfile(
                id=str(workload),
                name=_name(doc, workload),
                implicit=False,
                declaration=(workload, RDF.type, WORKLOAD),
                facts=dict(sorted(merged.items())),
                replaced=replaced,
            )
        )
    if not workloads:
        own_facts = {
            name: StatedFact(f.property, f.value, f.subject, f.triples, False) for name, f in org_facts.items()
        }
        workloads.append(
            WorkloadProfile(
                id=str(org), name=_name(doc, org), implicit=True, declaration=org_declaration, facts=own_facts
            )
        )
    return OrganizationProfile(
        id=str(org), name=_name(doc, org), declaration=org_declaration, workloads=tuple(workloads)
    )
