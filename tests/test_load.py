from __future__ import annotations

import pytest
from rdflib import URIRef

from infra_policy.engine.errors import FactsError
from infra_policy.engine.stages.load import load_facts

IP = "https://w3id.org/infra-policy#"


def test_turtle_triples_remember_their_line(facts_file):
    path = facts_file("""\
        ex:acme a ip:Organization ;
          ip:name "Acme" ;
          ip:itStaffFTE 4 .
    """)
    doc = load_facts(path)
    assert len(doc.graph) == 3
    lines = {str(p).removeprefix(IP): line for (s, p, o), line in doc.lines.items()}
    # four prefix lines come first (three @prefix + the dedented body starts on line 4)
    assert lines["name"] == 5
    assert lines["itStaffFTE"] == 6


def test_syntax_error_names_line_column_and_shows_the_line(facts_file):
    path = facts_file("""\
        ex:acme a ip:Organization ;
          ip:name "Acme" ;;
          ip:itStaffFTE 4 x .
    """)
    with pytest.raises(FactsError) as err:
        load_facts(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 6" in message
    assert "ip:itStaffFTE 4 x ." in message
    assert "Traceback" not in message


def test_undeclared_prefix_is_a_syntax_error_with_its_line(facts_file):
    path = facts_file("ex:acme a ip:Organization ; foo:bar 1 .\n")
    with pytest.raises(FactsError, match=r"line 4.*\n.*foo:bar"):
        load_facts(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"   \n# only a comment\n", "contains no RDF statements"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"\xff\xfe\xfa not utf8", "not valid UTF-8"),
    ],
)
def test_unusable_files_get_a_specific_message(tmp_path, content, expected):
    path = tmp_path / "facts.ttl"
    path.write_bytes(content)
    with pytest.raises(FactsError, match=expected):
        load_facts(path)


def test_a_directory_or_missing_file_or_unknown_extension_is_refused(tmp_path):
    with pytest.raises(FactsError, match="is a directory"):
        load_facts(tmp_path)
    with pytest.raises(FactsError, match="no such file"):
        load_facts(tmp_path / "missing.ttl")
    other = tmp_path / "facts.txt"
    other.write_text("<x/>")
    with pytest.raises(FactsError, match=r"Allowed extensions: .*\.ttl"):
        load_facts(other)


def test_ntriples_and_jsonld_load_too(tmp_path):
    nt = tmp_path / "facts.nt"
    nt.write_text(f'<https://example.com/a> <{IP}name> "A" .\n', encoding="utf-8")
    assert len(load_facts(nt).graph) == 1
    jsonld = tmp_path / "facts.jsonld"
    jsonld.write_text(f'{{"@context": {{"ip": "{IP}"}}, "@id": "https://example.com/a", "ip:name": "A"}}')
    graph = load_facts(jsonld).graph
    assert (URIRef("https://example.com/a"), URIRef(IP + "name"), None) in graph


def test_ntriples_facts_keep_their_lines(tmp_path):
    nt = tmp_path / "facts.nt"
    nt.write_text(
        "# two facts, a blank line and a blank node\n"
        f'<https://example.com/a> <{IP}name> "A" .\n'
        "\n"
        f"<https://example.com/a> <{IP}hasWorkload> _:w .\n"
        f'_:w <{IP}name> "W" .\n',
        encoding="utf-8",
    )
    doc = load_facts(nt)
    assert sorted(doc.line_of(t) for t in doc.graph) == [2, 4, 5]
    # still read as N-Triples: what Turtle alone allows is refused, in N-Triples' words
    nt.write_text(f'@prefix ip: <{IP}> .\n<https://example.com/a> ip:name "A" .\n', encoding="utf-8")
    with pytest.raises(FactsError, match="not valid N-Triples"):
        load_facts(nt)


def test_trig_facts_keep_their_lines_in_named_graphs_too(tmp_path):
    trig = tmp_path / "facts.trig"
    trig.write_text(
        f"@prefix ip: <{IP}> .\n"
        "@prefix ex: <https://example.com/> .\n"
        'ex:a ip:name "A" .\n'
        "ex:site {\n"
        '  ex:a ip:hasWorkload [ ip:name "W" ] .\n'
        "}\n",
        encoding="utf-8",
    )
    doc = load_facts(trig)
    assert sorted(doc.line_of(t) for t in doc.graph) == [3, 5, 5]


def test_jsonld_with_a_remote_context_is_refused_without_fetching(tmp_path):
    path = tmp_path / "facts.jsonld"
    path.write_text('{"@context": "https://example.com/context.jsonld", "@id": "https://example.com/a"}')
    with pytest.raises(FactsError, match="never fetches anything"):
        load_facts(path)
