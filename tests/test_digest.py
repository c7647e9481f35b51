"""Graph digests ignore formatting and blank-node labels, and nothing else."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef

from infra_policy.engine.records.digest import graph_digest

EX = "https://example.com/"


def parse(text: str) -> Graph:
    return Graph().parse(data="@prefix ex: <https://example.com/> .\n" + text, format="turtle")


def test_formatting_order_and_prefixes_do_not_count():
    a = parse("ex:a ex:p 1 ; ex:q [ ex:r ( 1 2 ) ] .")
    b = Graph().parse(
        data=f"""@prefix z: <{EX}> .
        # the same graph, written differently
        z:a z:q [ z:r ( 1 2 ) ] .
        z:a z:p 1 .""",
        format="turtle",
    )
    assert graph_digest(a) == graph_digest(b)


def test_real_changes_count():
    base = graph_digest(parse("ex:a ex:p 1 ; ex:q [ ex:r ( 1 2 ) ] ."))
    for changed in (
        "ex:a ex:p 2 ; ex:q [ ex:r ( 1 2 ) ] .",
        "ex:a ex:p 1 ; ex:q [ ex:r ( 2 1 ) ] .",
        "ex:a ex:p 1 ; ex:q [ ex:r ( 1 2 ) ], [ ex:r ( 1 2 ) ] .",
        "ex:a ex:p 1 .",
    ):
        assert graph_digest(parse(changed)) != base, changed


def test_shared_and_cyclic_blank_nodes_use_full_canonicalization():
    def shared(label_a: str, label_b: str) -> Graph:
        g = Graph()
        x, y = BNode(label_a), BNode(label_b)
        for s, o in ((URIRef(EX + "a"), x), (URIRef(EX + "b"), x), (x, y), (y, x)):
            g.add((s, URIRef(EX + "p"), o))
        g.add((y, URIRef(EX + "v"), Literal(1)))
        return g

    assert graph_digest(shared("n1", "n2")) == graph_digest(shared("other", "names"))
    changed = shared("n1", "n2")
    changed.add((URIRef(EX + "c"), URIRef(EX + "p"), Literal(2)))
    assert graph_digest(changed) != graph_digest(shared("n1", "n2"))
