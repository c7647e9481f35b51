"""A quick, conservative reading of the SHACL shapes: the focus nodes that surely conform.

pySHACL takes a few milliseconds per workload, which made validation most of the time of a large
organization. This check reads the same shapes graph (nothing about the vocabulary is restated here)
and, for each focus node, answers "conforms" or "cannot tell"; only the nodes it cannot vouch for go
through pySHACL, whose report gives every message, so messages and line numbers never change.

It is sound by construction: every constraint is checked at least as strictly as pySHACL checks it
(exact datatypes, exact classes, numbers compared only when both sides are plain numbers), and a
shapes graph using anything this module does not understand (another target, a SPARQL constraint, a
severity, a path expression, ...) gets no quick check at all: then every node goes through pySHACL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

# The sh: predicates a shapes graph may use for the quick check to apply. The prefix declarations
# only serve SPARQL, which would bring predicates of its own (sh:select, sh:sparql) and disable it.
_UNDERSTOOD = frozenset(
    SH[name]
    for name in (
        "targetClass",
        "closed",
        "ignoredProperties",
        "property",
        "path",
        "name",
        "description",
        "order",
        "maxCount",
        "minCount",
        "datatype",
        "nodeKind",
        "in",
        "class",
        "or",
        "minInclusive",
        "minExclusive",
        "maxInclusive",
        "maxExclusive",
        "declare",
        "prefix",
        "namespace",
    )
)
_NODE_SHAPE_PARAMETERS = frozenset(SH[n] for n in ("targetClass", "closed", "ignoredProperties", "property"))
_RANGE = {
    SH.minInclusive: lambda value, bound: value >= bound,
    SH.minExclusive: lambda value, bound: value > bound,
    SH.maxInclusive: lambda value, bound: value <= bound,
    SH.maxExclusive: lambda value, bound: value < bound,
}
_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (URIRef,),
    SH.Literal: (Literal,),
    SH.BlankNode: (BNode,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}
# The Python value pySHACL requires of a literal of each datatype (value_constraints.py); a datatype
# not listed here is left to pySHACL.
_PYTHON_TYPE = {XSD.integer: int, XSD.decimal: Decimal, XSD.double: float, XSD.float: float, XSD.boolean: bool}
_NUMBERS = (int, float, Decimal)

ValueCheck = Callable[[Node, Graph], bool]


def _datatype_check(datatype: Node) -> ValueCheck | None:
    if datatype == XSD.string:
        return lambda v, _: (
            isinstance(v, Literal)
            and v.language is None
            and (v.datatype is None or v.datatype == XSD.string)
            and isinstance(v.value, str)
        )
    if datatype == RDF.langString:
        return lambda v, _: isinstance(v, Literal) and bool(v.language) and isinstance(v.value, str)
    kind = _PYTHON_TYPE.get(datatype)  # type: ignore[call-overload]
    if kind is None:
        return None

    def check(v: Node, _: Graph) -> bool:
        if not isinstance(v, Literal) or v.datatype != datatype or v.ill_typed is not False:
            return False
        value = v.value
        # bool is an int in Python; pySHACL's isinstance would accept it, a boolean never has these types
        return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))

    return check


def _number(node: Node) -> float | int | Decimal | None:
    if not isinstance(node, Literal) or node.ill_typed is not False:
        return None
    value = node.value
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return value


@dataclass(frozen=True)
class _PropertyShape:
    path: URIRef
    min_count: int
    max_count: int | None
    checks: tuple[ValueCheck, ...]

    def conforms(self, values: list[Node], data: Graph) -> bool:
        if len(values) < self.min_count or (self.max_count is not None and len(values) > self.max_count):
            return False
        return all(check(v, data) for v in values for check in self.checks)


@dataclass(frozen=True)
class _NodeShape:
    target: URIRef
    closed: bool
    allowed: frozenset  # paths of its property shapes and the ignored properties
    properties: tuple[_PropertyShape, ...]


class _UnsupportedShapeError(Exception):
    pass


class QuickCheck:
    """The node shapes of a shapes graph, compiled to plain checks (see :func:`quick_check`)."""

    def __init__(self, shapes: tuple[_NodeShape, ...]) -> None:
        self.shapes = shapes

    def doubtful(self, data: Graph) -> set[Node]:
        """The focus nodes of ``data`` that may violate a shape (pySHACL must look at them)."""
        if (None, RDFS.subClassOf, None) in data:
            # targets then reach instances of subclasses: leave the whole graph to pySHACL
            return {s for shape in self.shapes for s in data.subjects(RDF.type, shape.target)} | {
                s for s in data.subjects(RDFS.subClassOf, None)
            }
        found: set[Node] = set()
        for shape in self.shapes:
            for focus in data.subjects(RDF.type, shape.target):
                if focus not in found and not self._conforms(focus, shape, data):
                    found.add(focus)
        return found

    @staticmethod
    def _conforms(focus: Node, shape: _NodeShape, data: Graph) -> bool:
        by_path: dict[Node, list[Node]] = {}
        for p, o in data.predicate_objects(focus):
            by_path.setdefault(p, []).append(o)
        if shape.closed and any(p not in shape.allowed for p in by_path):
            return False
        return all(prop.conforms(by_path.get(prop.path, []), data) for prop in shape.properties)


def quick_check(shapes: Graph) -> QuickCheck | None:
    """The quick check of ``shapes``, or None when they use something it does not understand."""
    try:
        return QuickCheck(_compile(shapes))
    except _UnsupportedShapeError:
        return None


def _compile(shapes: Graph) -> tuple[_NodeShape, ...]:
    for p in set(shapes.predicates()):
        if str(p).startswith(str(SH)) and p not in _UNDERSTOOD:
            raise _UnsupportedShapeError(p)
    for kind in (RDFS.Class, URIRef("http://www.w3.org/2002/07/owl#Class")):
        if any((s, RDF.type, SH.NodeShape) in shapes for s in shapes.subjects(RDF.type, kind)):
            raise _UnsupportedShapeError("implicit class target")
    node_shapes = []
    for shape in sorted(set(shapes.subjects(SH.targetClass, None)), key=str):
        if (shape, SH.path, None) in shapes:
            raise _UnsupportedShapeError("a property shape with a target")
        targets = list(shapes.objects(shape, SH.targetClass))
        closed = list(shapes.objects(shape, SH.closed))
        if len(targets) != 1 or not isinstance(targets[0], URIRef) or len(closed) > 1:
            raise _UnsupportedShapeError(shape)
        is_closed = bool(closed) and closed[0].eq(Literal(True))
        if closed and not is_closed and not closed[0].eq(Literal(False)):
            raise _UnsupportedShapeError(shape)
        ignored: set = set()
        for head in shapes.objects(shape, SH.ignoredProperties):
            ignored.update(Collection(shapes, head))
        properties = tuple(_property(shapes, p) for p in shapes.objects(shape, SH.property))
        allowed = frozenset(ignored | {prop.path for prop in properties})
        node_shapes.append(_NodeShape(targets[0], is_closed, allowed, properties))
    # a shape with node-shape parameters but no target would be used through something refused above
    for shape in set(shapes.subjects()):
        if (
            any((shape, p, None) in shapes for p in _NODE_SHAPE_PARAMETERS)
            and (shape, SH.targetClass, None) not in shapes
        ):
            raise _UnsupportedShapeError(shape)
    return tuple(node_shapes)


def _single(shapes: Graph, subject: Node, predicate: URIRef) -> Node | None:
    found = list(shapes.objects(subject, predicate))
    if len(found) > 1:
        raise _UnsupportedShapeError((subject, predicate))
    return found[0] if found else None


def _count(shapes: Graph, subject: Node, predicate: URIRef) -> int | None:
    node = _single(shapes, subject, predicate)
    if node is None:
        return None
    if not isinstance(node, Literal) or not isinstance(node.value, int) or isinstance(node.value, bool):
        raise _UnsupportedShapeError((subject, predicate))
    return node.value


def _property(shapes: Graph, shape: Node) -> _PropertyShape:
    path = _single(shapes, shape, SH.path)
    if not isinstance(path, URIRef):  # a path expression (inverse, sequence, ...)
        raise _UnsupportedShapeError(shape)
    if any((shape, p, None) in shapes for p in _NODE_SHAPE_PARAMETERS):
        raise _UnsupportedShapeError(shape)
    checks: list[ValueCheck] = []
    datatype = _single(shapes, shape, SH.datatype)
    if datatype is not None:
        check = _datatype_check(datatype)
        if check is None:
            raise _UnsupportedShapeError(datatype)
        checks.append(check)
    kind = _single(shapes, shape, SH.nodeKind)
    if kind is not None:
        if kind not in _NODE_KINDS:
            raise _UnsupportedShapeError(kind)
        types = _NODE_KINDS[kind]
        checks.append(lambda v, _, types=types: isinstance(v, types))
    allowed_in = _single(shapes, shape, SH["in"])
    if allowed_in is not None:
        members = frozenset(Collection(shapes, allowed_in))
        checks.append(lambda v, _, members=members: v in members)
    cls = _single(shapes, shape, SH["class"])
    if cls is not None:
        checks.append(lambda v, data, cls=cls: not isinstance(v, Literal) and (v, RDF.type, cls) in data)
    alternatives = _single(shapes, shape, SH["or"])
    if alternatives is not None:
        options = []
        for member in Collection(shapes, alternatives):
            own = {p for p, _ in shapes.predicate_objects(member)}
            if own != {SH.datatype}:
                raise _UnsupportedShapeError(member)
            check = _datatype_check(_single(shapes, member, SH.datatype))  # type: ignore[arg-type]
            if check is None:
                raise _UnsupportedShapeError(member)
            options.append(check)
        checks.append(lambda v, data, options=tuple(options): any(o(v, data) for o in options))
    for predicate, holds in _RANGE.items():
        bound_node = _single(shapes, shape, predicate)
        if bound_node is None:
            continue
        bound = _number(bound_node)
        if bound is None:
            raise _UnsupportedShapeError(bound_node)

        def in_range(v: Node, _: Graph, bound=bound, holds=holds) -> bool:
            value = _number(v)
            return value is not None and holds(value, bound)

        checks.append(in_range)
    min_count = _count(shapes, shape, SH.minCount) or 0
    return _PropertyShape(path, min_count, _count(shapes, shape, SH.maxCount), tuple(checks))


__all__ = ["QuickCheck", "quick_check"]
