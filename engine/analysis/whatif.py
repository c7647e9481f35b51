"""What-if: the same facts with some of them changed, decided again and compared.

A change is ``property=value`` (the organization) or ``WORKLOAD.property=value``
(one workload, by its name or the last part of its IRI). The value is written
as in a facts file without the prefix: an individual's name (``Restricted``), a
number, ``true``/``false``. The changed graph goes through the whole pipeline,
validation included, so a bad value gets the same message as in a facts file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from infra_policy.engine.errors import FactsError
from infra_policy.engine.model import Decision
from infra_policy.engine.outputs.wording import fact_words, value_words
from infra_policy.engine.stages.load import Assumption, FactsDocument
from infra_policy.engine.vocabulary import IP, Vocabulary

Change = Assumption  # one assumed fact: on which subject, which property, which value (as written)


def _subjects(graph: Graph) -> tuple[URIRef | None, dict[str, URIRef]]:
    organization = next(iter(graph.subjects(RDF.type, IP.Organization)), None)
    workloads: dict[str, URIRef] = {}
    for w in graph.subjects(RDF.type, IP.Workload):
        for name in graph.objects(w, IP.name):
            workloads[str(name).lower()] = w
        workloads[str(w).rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower()] = w
    return organization, workloads


def _literal(text: str, kind: str) -> Literal | URIRef:
    if kind in ("enum", "iri"):
        return IP[text.removeprefix("ip:")]
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            return Literal(text)  # validation names what is allowed
        return Literal(text.lower() == "true")
    if kind == "integer":
        try:
            return Literal(int(text), datatype=XSD.integer)
        except ValueError:
            return Literal(text)
    if kind == "number":
        try:
            return Literal(Decimal(text), datatype=XSD.decimal)
        except InvalidOperation:
            return Literal(text)
    return Literal(text)


def parse_changes(document: FactsDocument, texts: Iterable[str], vocabulary: Vocabulary) -> tuple[Change, ...]:
    """The changes ``--set`` asks for, checked for an unknown workload or property."""
    organization, workloads = _subjects(document.graph)
    changes = []
    for text in texts:
        target, equals, value = text.partition("=")
        if not equals or not target.strip() or not value.strip():
            raise FactsError(
                f"--set {text!r}: write property=value (the organization) or WORKLOAD.property=value, "
                "for example --set itStaffFTE=2 or --set 'Claims triage.dataSensitivity=Restricted'."
            )
        workload, dot, name = target.strip().rpartition(".")
        name = name.strip().removeprefix("ip:")
        prop = vocabulary.get(name)
        if prop is None or prop.computed or name == "name":
            close = vocabulary.closest(name, include_computed=False)
            hint = f" Did you mean {close}?" if close else ""
            raise FactsError(
                f"--set {text!r}: {name!r} is not a property of the facts vocabulary that a facts file may "
                f'state.{hint} The properties are listed in the README, "The facts vocabulary".'
            )
        if dot:
            subject = workloads.get(workload.strip().lower())
            if subject is None:
                names = ", ".join(
                    sorted({str(n) for w in workloads.values() for n in document.graph.objects(w, IP.name)})
                )
                raise FactsError(
                    f"--set {text!r}: there is no workload {workload.strip()!r} in {document.path}; "
                    f"the workloads are: {names or 'none (set the property on the organization)'}."
                )
            label = next((str(n) for n in document.graph.objects(subject, IP.name)), str(subject))
        else:
            if organization is None:
                raise FactsError(f"--set {text!r}: {document.path} has no ip:Organization to change.")
            subject = organization
            label = next((str(n) for n in document.graph.objects(subject, IP.name)), str(subject))
        changes.append(Change(str(subject), label, name, value.strip(), _stated(document.graph, subject, prop.iri)))
    return tuple(changes)


def _stated(graph: Graph, subject: URIRef, predicate: URIRef) -> tuple[str, ...]:
    """What the facts state for a property on a subject, as written after ``=`` (sorted; empty: nothing)."""
    found = []
    for value in graph.objects(subject, predicate):
        if isinstance(value, URIRef) and str(value).startswith(str(IP)):
            found.append(str(value)[len(str(IP)) :])
        else:
            found.append(str(value))
    return tuple(sorted(found))


def recorded_changes(
    entries: Iterable[dict], document: FactsDocument, vocabulary: Vocabulary
) -> tuple[tuple[Change, ...], list[str]]:
    """The assumptions a decision record lists, as changes to ``document`` — and what cannot be applied.

    What each assumption replaced is worked out again from ``document``, so a record that claims a
    stated fact was assumed (or the reverse) differs from the decision made again.
    """
    organization, workloads = _subjects(document.graph)
    subjects = {str(s) for s in (organization, *workloads.values()) if s is not None}
    changes, problems = [], []
    for entry in entries:
        subject, name, value = entry.get("subject"), entry.get("property"), entry.get("value")
        prop = vocabulary.get(name) if isinstance(name, str) else None
        if prop is None or prop.computed or name == "name" or not isinstance(value, str):
            problems.append(f"the record assumes {name!r} = {value!r}, which no facts file may state")
        elif subject not in subjects:
            problems.append(f"the record assumes {name} on {subject}, which the facts given do not describe")
        else:
            node = URIRef(subject)
            label = next((str(n) for n in document.graph.objects(node, IP.name)), subject)
            changes.append(Change(subject, label, name, value, _stated(document.graph, node, prop.iri)))
    return tuple(changes), problems


def changed_document(document: FactsDocument, changes: Iterable[Change], vocabulary: Vocabulary) -> FactsDocument:
    """A copy of the facts with each change in place of what the subject stated for that property."""
    graph = Graph()
    for prefix, namespace in document.graph.namespaces():
        graph.bind(prefix, namespace)
    for triple in document.graph:
        graph.add(triple)
    changes = (*document.assumptions, *changes)
    keys = set()
    for change in changes:
        prop = vocabulary.properties[change.property]
        subject = URIRef(change.subject)
        graph.remove((subject, prop.iri, None))
        for item in change.value.split(",") if not prop.single else (change.value,):
            graph.add((subject, prop.iri, _literal(item.strip(), prop.kind)))
        keys.add((subject, prop.iri))
    # an assumed fact has no line in the file, even when its value happens to be the one stated there
    lines = {t: n for t, n in document.lines.items() if (t[0], t[1]) not in keys}
    stated = document.stated_graph if document.stated_graph is not None else document.graph
    return FactsDocument(document.path, graph, lines, document.text, tuple(changes), frozenset(keys), stated)


def assumed_lines(changes: Iterable[Change], vocabulary: Vocabulary) -> list[str]:
    """The assumed facts for people: "Acme Insurance: IT staff (FTE) 0.5 (instead of 4)", one per line."""
    out = []
    for c in changes:
        prop = vocabulary.properties[c.property]
        items = [v.strip() for v in c.value.split(",")] if not prop.single else [c.value]
        value = value_words([_shown(v, prop.kind) for v in items], vocabulary)
        was = f" (instead of {value_words([_shown(v, prop.kind) for v in c.replaces], vocabulary)})"
        out.append(
            f"{c.subject_name}: {fact_words(c.property, vocabulary).removeprefix('the ')} {value}"
            + (was if c.replaces else "")
        )
    return out


def _shown(text: str, kind: str) -> object:
    """A value as written after ``=``, typed as the vocabulary says (for its words)."""
    typed = _literal(text, kind)
    if isinstance(typed, URIRef):
        return str(typed).rsplit("#", 1)[-1]
    value = typed.toPython()
    return float(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class StanceChange:
    subject: str
    name: str
    before: str
    after: str


def stance_changes(before: Decision, after: Decision) -> tuple[StanceChange, ...]:
    """The organization's and each workload's stance, before and after (all of them, changed or not)."""
    found = [StanceChange(before.organization.id, before.organization.name, before.stance, after.stance)]
    after_by_id = {w.id: w for w in after.workloads}
    for w in before.workloads:
        other = after_by_id.get(w.id)
        move = StanceChange(w.id, w.profile.name, w.stance, other.stance if other else "(gone)")
        if w.profile.implicit and (move.subject, move.before, move.after) == (
            found[0].subject,
            found[0].before,
            found[0].after,
        ):
            continue  # the organization evaluated as its own workload: its line already says it
        found.append(move)
    return tuple(found)


def render_what_if(changes: tuple[Change, ...], moves: tuple[StanceChange, ...], vocabulary: Vocabulary) -> str:
    out = ["Assumed (not stated in the facts):"]
    out.extend(f"  • {line}" for line in assumed_lines(changes, vocabulary))
    out.append("")
    changed = [m for m in moves if m.before != m.after]
    out.append("What changes:" if changed else "No stance changes.")
    for m in changed:
        out.append(f"  {m.name}: {m.before} → {m.after}")
    same = [m for m in moves if m.before == m.after]
    if same:
        out.append("Unchanged: " + "; ".join(f"{m.name} stays {m.before}" for m in same))
    return "\n".join(out) + "\n"
