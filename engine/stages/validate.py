"""Stage 2 — validate: pySHACL against kb/shapes.ttl, one sentence per problem.

Each violation names the subject (and its line when known), the property, the
bad value and what is allowed; an unknown infra-policy term also gets the
closest known one.  What is allowed is read from the knowledge base, so the
messages cannot drift from the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from infra_policy.engine.errors import FactsError
from infra_policy.engine.knowledge import KnowledgeBase
from infra_policy.engine.stages.inputs import COMPARABLE_NUMBERS, usable_number
from infra_policy.engine.stages.load import FactsDocument
from infra_policy.engine.stages.nearmiss import split_iri
from infra_policy.engine.stages.profile import display, located, python_value, structure_problems
from infra_policy.engine.stages.shapecheck import QuickCheck, quick_check
from infra_policy.engine.vocabulary import HAS_WORKLOAD, IP, local_name


@dataclass(frozen=True, order=True)
class Violation:
    line: int  # 0 when unknown
    subject: str
    property: str
    message: str

    def __str__(self) -> str:
        return self.message


def _component(name: str) -> URIRef:
    return SH[name + "ConstraintComponent"]


def _sentence(
    doc: FactsDocument,
    kb: KnowledgeBase,
    focus: Node,
    path: Node | None,
    value: Node | None,
    component: Node | None,
    fallback: str,
) -> str:
    vocab = kb.vocabulary
    subject = display(doc, focus)
    name = doc.graph.value(focus, IP.name)
    if name is not None:
        subject += f' ("{name}")'
    prop_text = display(doc, path) if path is not None else "a property"
    value_text = display(doc, value) if value is not None else None
    prop = vocab.get(local_name(path)) if isinstance(path, URIRef) else None

    if path == HAS_WORKLOAD and component in (_component("Closed"), _component("MaxCount")):
        return f"{subject}: only the organization may have workloads (ip:hasWorkload); a workload cannot."
    if component == _component("Closed") and prop is not None and prop.computed:
        return (
            f"{subject}: {prop_text} is computed by infra-policy's cost model and cannot be stated in a facts "
            'file; state the cost inputs it is computed from instead (see the README, "Cost model").'
        )
    if component == _component("Closed"):
        hint = vocab.closest(local_name(path), include_computed=False) if isinstance(path, URIRef) else None
        suggestion = f" Did you mean ip:{hint}?" if hint else ""
        return (
            f"{subject}: {prop_text} is not a facts property of the infra-policy vocabulary.{suggestion} "
            "The known properties are listed in kb/ontology.ttl and the README."
        )
    if component is None or component not in _KNOWN_COMPONENTS:
        return f"{subject}: {prop_text}: {fallback}"

    allowed = prop.describe_allowed() if prop is not None else "what kb/shapes.ttl allows"
    if component == _component("MaxCount"):
        objects = list(doc.graph.objects(focus, path))
        stated = sorted((doc.line_of((focus, path, o)) or 0, display(doc, o)) for o in objects)
        values = ", ".join(text + (f" on line {line}" if line else "") for line, text in stated)
        # 4 and 4.0 are two RDF values; say so rather than call them different
        same = isinstance(objects[0], Literal) and len({_same_value_key(o) for o in objects}) == 1
        how = "the same value written in different ways" if same else "different values"
        return (
            f"{subject}: {prop_text} is stated {len(stated)} times with {how} ({values}), "
            "but it takes a single value; keep one."
        )
    if component == _component("Class"):
        return (
            f"{subject}: {prop_text} points to {value_text}, which is not declared as an ip:Workload; "
            f"add '{value_text} a ip:Workload .'."
        )
    if component == _component("In") and prop is not None and isinstance(value, URIRef):
        hint = vocab.closest_value(prop, split_iri(str(value))[1])
        suggestion = f" Did you mean ip:{hint}?" if hint else ""
        return (
            f"{subject}: {prop_text} has the value {value_text}, which is not allowed.{suggestion} Allowed: {allowed}."
        )
    if isinstance(value, BNode) and component in (_component("NodeKind"), _component("Class")):
        return (
            f"{subject}: {prop_text} points to a blank node ([ … ]); give it an IRI (for example ex:chat) so "
            "decisions and their justification can name it."
        )
    if component == _component("NodeKind") and isinstance(value, Literal):
        return f"{subject}: {prop_text} has the literal {value_text}, but it takes an IRI: {allowed}."
    return f"{subject}: {prop_text} has the value {value_text}, which is not allowed; expected {allowed}."


_KNOWN_COMPONENTS = {
    _component(n)
    for n in (
        "MaxCount",
        "Class",
        "In",
        "NodeKind",
        "Datatype",
        "Or",
        "MinInclusive",
        "MinExclusive",
        "MaxInclusive",
        "MaxExclusive",
        "MinCount",
        "Pattern",
    )
}


def vocabulary_view(graph: Graph) -> Graph:
    """The triples the shapes speak about: rdf:type and the ip: namespace.

    The node shapes are closed, so any other ip: predicate is reported as
    unknown, while the user's own annotations in other vocabularies pass.
    """
    view = Graph()
    for triple in graph:
        predicate = triple[1]
        if predicate == RDF.type or str(predicate).startswith(str(IP)):
            view.add(triple)
    return view


def _line(doc: FactsDocument, focus: Node, path: Node | None, value: Node | None) -> int:
    """The line of the offending triple, else of the subject's first statement (0: unknown, or assumed)."""
    if path is not None and doc.assumed_keys and (focus, path) in doc.assumed_keys:
        return 0  # assumed with `--set`: on no line of the file (the message says so)
    if path is not None:
        objects = [value] if value is not None else list(doc.graph.objects(focus, path))
        lines = [doc.line_of((focus, path, o)) for o in objects]
        if any(lines):
            return min(line for line in lines if line)
    lines = [line for (s, _, _), line in doc.lines.items() if s == focus]
    return min(lines, default=0)


def _number_problems(doc: FactsDocument, kb: KnowledgeBase, reported: set) -> set[Violation]:
    found = set()
    for s, p, o in doc.graph:
        prop = kb.vocabulary.get(local_name(p)) if isinstance(p, URIRef) and str(p).startswith(str(IP)) else None
        if prop is None or not prop.numeric or not isinstance(o, Literal) or o.ill_typed or (s, p) in reported:
            continue
        if usable_number(python_value(o)):
            continue
        line = doc.line_of((s, p, o)) or 0
        message = (
            f"{display(doc, s)}: {display(doc, p)} has the value {display(doc, o)}, which infra-policy cannot "
            f"compare: {COMPARABLE_NUMBERS}. Expected {prop.describe_allowed()}."
        )
        found.add(Violation(line, str(s), str(p), located(line, message)))
    return found


# The shapes of each knowledge base, parsed into pySHACL's shape objects once (by identity of the
# shapes graph; the last few are kept). Building them took about a third of validating a small file.
_SHAPES: dict[int, tuple[Graph, object]] = {}
_SHAPES_KEPT = 4


def _shapes_of(kb: KnowledgeBase):
    from pyshacl.shapes_graph import ShapesGraph

    cached = _SHAPES.get(id(kb.shapes))
    if cached is None or cached[0] is not kb.shapes:
        shapes = Graph()
        shapes += kb.shapes  # pySHACL adds triples to the shapes graph it is given; keep the KB as loaded
        cached = (kb.shapes, ShapesGraph(shapes))
        while len(_SHAPES) >= _SHAPES_KEPT:
            del _SHAPES[next(iter(_SHAPES))]
        _SHAPES[id(kb.shapes)] = cached
    return cached[1]


def _run_shacl(view: Graph, kb: KnowledgeBase, focus: frozenset | None = None) -> tuple[bool, Graph]:
    """What ``pyshacl.validate(view, shacl_graph=shapes, inference="none", inplace=True)`` returns
    (conforms and the results graph), with the shapes parsed once per knowledge base instead of per call."""
    from pyshacl.errors import ValidationFailure
    from pyshacl.graph_abstraction import DataGraph
    from pyshacl.monkey import apply_patches
    from pyshacl.validator import Validator, assign_baked_in

    apply_patches()
    assign_baked_in()
    shapes = _shapes_of(kb)
    options = {"inference": "none", "inplace": True, "allow_warnings": False, "allow_infos": False}
    if focus is not None:  # only these subjects; the others are in the graph for their types only
        options["focus_nodes"] = sorted(focus, key=str)
    validator = Validator(DataGraph.from_rdflib(view), shacl_graph=shapes.graph, options=options)
    validator.shacl_graph = shapes  # the parsed shapes, instead of parsing them again
    try:
        conforms, results, _ = validator.run()
    except ValidationFailure as exc:  # as pyshacl.validate reports it
        return False, exc  # type: ignore[return-value]
    finally:
        _forget_stringified_nodes()
    return conforms, results


def find_violations(doc: FactsDocument, kb: KnowledgeBase) -> list[Violation]:
    """Every problem of the facts, as sentences, in file order.

    The SHACL violations and the structural problems (no organization, a
    workload not linked, ...) are reported together, so one run shows all.
    """
    violations = {Violation(line, "", "", located(line, message)) for line, message in structure_problems(doc)}
    view = vocabulary_view(doc.graph)
    quick = _quick_check_of(kb)
    # only the subjects the quick check cannot vouch for go through pySHACL, which words the messages
    doubtful = quick.doubtful(view) if quick is not None else None
    for chunk in _chunks(view, doubtful):
        conforms, results = _run_shacl(chunk.graph, kb, chunk.subjects if chunk.graph is not view else None)
        if not conforms:
            violations |= _shacl_violations(doc, kb, results, chunk.subjects)
    reported = {(URIRef(v.subject), URIRef(v.property)) for v in violations if v.subject}
    return sorted(violations | _number_problems(doc, kb, reported))


@dataclass(frozen=True)
class _Chunk:
    subjects: frozenset
    graph: Graph


# Subjects validated per pySHACL run. Every constraint of kb/shapes.ttl reads only its focus node's own
# triples and, for sh:class, the rdf:type of the nodes it points to, so a run over some subjects (with
# those types) reports exactly what a run over the whole file reports for them; a large organization is
# then validated at a flat cost per workload.
CHUNK_SUBJECTS = 200


def _chunks(view: Graph, only: set | None = None) -> list[_Chunk]:
    """The pySHACL runs over ``view``: all its subjects, or ``only`` those (None: all)."""
    if only is not None and not only:
        return []
    every = set(view.subjects())
    subjects = sorted(every if only is None else every & only, key=str)
    if len(subjects) <= CHUNK_SUBJECTS and len(every) <= CHUNK_SUBJECTS:
        return [_Chunk(frozenset(every), view)]
    chunks = []
    for start in range(0, len(subjects), CHUNK_SUBJECTS):
        part = frozenset(subjects[start : start + CHUNK_SUBJECTS])
        graph = Graph()
        for subject in part:
            for triple in view.triples((subject, None, None)):
                graph.add(triple)
                target = triple[2]
                if not isinstance(target, Literal) and target not in part:
                    for kind in view.objects(target, RDF.type):
                        graph.add((target, RDF.type, kind))
        chunks.append(_Chunk(part, graph))
    return chunks


# The quick check of each knowledge base's shapes (by identity of the shapes graph, like _SHAPES).
_QUICK: dict[int, tuple[Graph, QuickCheck | None]] = {}


def _quick_check_of(kb: KnowledgeBase) -> QuickCheck | None:
    cached = _QUICK.get(id(kb.shapes))
    if cached is None or cached[0] is not kb.shapes:
        cached = (kb.shapes, quick_check(kb.shapes))
        while len(_QUICK) >= _SHAPES_KEPT:
            del _QUICK[next(iter(_QUICK))]
        _QUICK[id(kb.shapes)] = cached
    return cached[1]


def _shacl_violations(doc: FactsDocument, kb: KnowledgeBase, results: Graph, subjects: frozenset) -> set[Violation]:
    violations = set()
    literal_for_iri = {
        (results.value(r, SH.focusNode), results.value(r, SH.resultPath), results.value(r, SH.value))
        for r in results.subjects(SH.sourceConstraintComponent, _component("NodeKind"))
        if isinstance(results.value(r, SH.value), Literal)
    }
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        if focus not in subjects:
            continue  # a node this chunk only carries for its type; its own chunk reports it
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        component = results.value(result, SH.sourceConstraintComponent)
        fallback = str(results.value(result, SH.resultMessage) or "violates the shapes")
        line = _line(doc, focus, path, value)
        message = located(line, _sentence(doc, kb, focus, path, value, component, fallback))
        if path is not None and doc.assumed_keys and (focus, path) in doc.assumed_keys:
            message = f"assumed with --set: {message}"
        if component == _component("In") and (focus, path, value) in literal_for_iri:
            continue  # already said: "has the literal …, but it takes an IRI"
        violations.add(Violation(line or 0, str(focus), str(path), message))
    return violations


def _forget_stringified_nodes() -> None:
    # pySHACL caches how it wrote blank nodes in a module-level dict keyed by
    # id(graph): it grows with every validation (the graphs are new each time)
    # and, once a graph is freed and its id reused, could even answer for
    # another graph.  Nothing outlives one validation, so empty it after each.
    from pyshacl.rdfutil import stringify

    cache = getattr(stringify.stringify_blank_node, "dict_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def validate_facts(doc: FactsDocument, kb: KnowledgeBase) -> None:
    """Raise :class:`FactsError` listing every violation, if there is any."""
    violations = find_violations(doc, kb)
    if violations:
        raise violations_error(doc, violations)


def violations_error(doc: FactsDocument, violations: list[Violation]) -> FactsError:
    return FactsError.listing(doc.path, [v.message for v in violations])


__all__ = ["Violation", "find_violations", "validate_facts"]


def _same_value_key(node: Node) -> object:
    """What a literal means (4 and 4.0 alike), or the node itself."""
    value = python_value(node) if isinstance(node, Literal) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else node
