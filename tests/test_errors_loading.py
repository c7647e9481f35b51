"""Safe loading: formats, limits, no file or network access from input, quiet libraries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import EXAMPLES
from rdflib import Graph

from infra_policy.engine.errors import FactsError
from infra_policy.engine.stages.inputs import DEFAULT_LIMITS, EXTENSIONS, INPUT_FORMATS, Limits
from infra_policy.engine.stages.load import load_facts

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"
IP = "https://w3id.org/infra-policy#"


# --- what the process touches: an audit hook sees every open and every socket ---

_AUDIT = threading.local()


def _audit(event: str, args: tuple) -> None:
    seen = getattr(_AUDIT, "events", None)
    if seen is not None and (event.startswith(("socket.", "urllib.")) or event == "open"):
        seen.append((event, args))


sys.addaudithook(_audit)


class Watch:
    """Records the files opened and the network calls made while active (this thread)."""

    def __enter__(self) -> Watch:
        _AUDIT.events = []
        return self

    def __exit__(self, *exc) -> None:
        self.events = _AUDIT.events
        _AUDIT.events = None

    def network(self) -> list:
        return [e for e in self.events if e[0] != "open"]

    def opened(self, path: Path) -> bool:
        target = str(path)
        return any(e[0] == "open" and str(e[1][0]) == target for e in self.events)


# --- formats ---------------------------------------------------------------------


def test_the_cli_offers_exactly_the_engine_formats(run):
    help_text = run("evaluate", "--help").output
    for name in INPUT_FORMATS:
        assert name in help_text
    assert set(EXTENSIONS.values()) == set(INPUT_FORMATS)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's serializers, used to make the inputs
@pytest.mark.parametrize("fmt", ["xml", "nt", "nquads", "trig", "json-ld"])
def test_every_format_gives_the_same_decision_as_turtle(run, tmp_path, fmt):
    suffix = {"xml": ".rdf", "nt": ".nt", "nquads": ".nq", "trig": ".trig", "json-ld": ".jsonld"}[fmt]
    graph = Graph().parse(MIXED, format="turtle")
    converted = tmp_path / f"facts{suffix}"
    if fmt in ("nquads", "trig"):
        from rdflib import Dataset

        dataset = Dataset()
        dataset.default_graph += graph  # facts live in the default graph
        converted.write_text(dataset.serialize(format=fmt), encoding="utf-8")
    else:
        converted.write_text(graph.serialize(format=fmt), encoding="utf-8")
    expected = json.loads(run("evaluate", MIXED, "--format", "json").output)
    result = run("evaluate", converted, "--format", "json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert got["organization"]["stance"] == expected["organization"]["stance"]
    assert got["inputs"]["facts"] == expected["inputs"]["facts"]  # the same graph, whatever the syntax
    assert [w["stance"] for w in got["workloads"]] == [w["stance"] for w in expected["workloads"]]


NAMED_GRAPHS = {
    ".trig": """\
@prefix ip: <https://w3id.org/infra-policy#> .
@prefix ex: <https://example.com/acme/> .
ex:acme a ip:Organization ; ip:name "Acme" .
ex:site { ex:acme ip:connectivity ip:AirGapped . }
""",
    ".nq": "<https://example.com/acme/acme> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    f"<{IP}Organization> <https://example.com/g> .\n"
    f"<https://example.com/acme/acme> <{IP}connectivity> <{IP}AirGapped> <https://example.com/g> .\n",
    ".jsonld": json.dumps(
        {
            "@context": {"ip": IP},
            "@id": "https://example.com/g",
            "@graph": [
                {
                    "@id": "https://example.com/acme/acme",
                    "@type": "ip:Organization",
                    "ip:connectivity": {"@id": "ip:AirGapped"},
                }
            ],
        }
    ),
}


@pytest.mark.parametrize("suffix", sorted(NAMED_GRAPHS))
def test_statements_in_named_graphs_are_facts_not_silently_dropped(run, tmp_path, suffix):
    path = tmp_path / f"facts{suffix}"
    path.write_text(NAMED_GRAPHS[suffix], encoding="utf-8")
    result = run("evaluate", path, "--format", "json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    # An air-gapped site requires in-house: the fact in the named graph was read.
    assert decision["organization"]["stance"] == "in-house"


def test_input_format_overrides_the_extension_on_evaluate_and_validate(run, tmp_path):
    hidden = tmp_path / "facts.data"
    shutil.copy(MIXED, hidden)
    assert run("evaluate", hidden).exit_code == 2
    assert run("evaluate", hidden, "--input-format", "turtle").exit_code == 0
    ok = run("validate", hidden, "--input-format", "turtle")
    assert ok.exit_code == 0 and "valid" in ok.output
    wrong = run("validate", MIXED, "--input-format", "json-ld")
    assert wrong.exit_code == 2 and "not valid JSON" in wrong.output


def test_a_byte_order_mark_and_windows_line_endings_are_accepted(run, tmp_path):
    for suffix in (".ttl", ".jsonld"):
        source = MIXED if suffix == ".ttl" else None
        path = tmp_path / f"facts{suffix}"
        if source is not None:
            text = source.read_text(encoding="utf-8").replace("\n", "\r\n")
        else:
            text = Graph().parse(MIXED).serialize(format="json-ld")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        result = run("validate", path)
        assert result.exit_code == 0, result.output


# --- nothing outside the file is read or fetched -------------------------------------------


def test_an_xxe_payload_does_not_read_a_local_file(run, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a", encoding="utf-8")
    payload = tmp_path / "facts.rdf"
    payload.write_text(
        f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "{secret.as_uri()}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ip="{IP}">
  <ip:Organization rdf:about="https://example.com/a"><ip:name>&xxe;</ip:name></ip:Organization>
</rdf:RDF>
""",
        encoding="utf-8",
    )
    for args in (("evaluate", payload), ("validate", payload), ("evaluate", payload, "--input-format", "rdf-xml")):
        with Watch() as watch:
            result = run(*args)
        assert result.exit_code == 2
        assert "refuses DTDs and entities" in result.output
        assert "TOP-SECRET" not in result.output
        assert not watch.opened(secret)
        assert watch.network() == []


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/evil.dtd">',
        '<!DOCTYPE rdf:RDF [ <!ENTITY % remote SYSTEM "http://127.0.0.1:9/x"> %remote; ]>',
        '<!DOCTYPE rdf:RDF [ <!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"> ]>',  # entity expansion
        "<!doctype rdf:RDF>",
    ],
)
def test_rdfxml_with_any_document_type_declaration_is_refused_before_parsing(tmp_path, doctype):
    path = tmp_path / "facts.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n{doctype}\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
    )
    with Watch() as watch, pytest.raises(FactsError, match="refuses DTDs and entities"):
        load_facts(path)
    assert watch.network() == []


@pytest.mark.parametrize(
    "document",
    [
        {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "https://example.com/a"},
        {"@context": [{"ip": IP}, "http://127.0.0.1:9/c"], "@id": "https://example.com/a"},
        {"@context": {"@import": "http://127.0.0.1:9/c"}, "@id": "https://example.com/a"},
        {"@graph": [{"@context": "http://127.0.0.1:9/nested", "@id": "https://example.com/a"}]},
    ],
)
def test_jsonld_never_fetches_a_context(tmp_path, document):
    path = tmp_path / "facts.jsonld"
    path.write_text(json.dumps(document))
    with Watch() as watch, pytest.raises(FactsError, match="never fetches anything"):
        load_facts(path)
    assert watch.network() == []


def test_no_example_in_any_format_touches_the_network(run, tmp_path):
    graph = Graph().parse(MIXED, format="turtle")
    files = [MIXED]
    for fmt, suffix in (("xml", ".rdf"), ("json-ld", ".jsonld"), ("nt", ".nt")):
        path = tmp_path / f"facts{suffix}"
        path.write_text(graph.serialize(format=fmt), encoding="utf-8")
        files.append(path)
    with Watch() as watch:
        for path in files:
            assert run("evaluate", path, "--format", "json").exit_code == 0
    assert watch.network() == []


# --- limits ---------------------------------------------------------------------------------


def test_limits_have_sensible_defaults():
    assert DEFAULT_LIMITS.max_bytes >= 1_000_000
    assert DEFAULT_LIMITS.max_triples >= 10_000
    biggest_example = max(len(Graph().parse(p, format="turtle")) for p in EXAMPLES.glob("*.ttl"))
    assert biggest_example * 100 < DEFAULT_LIMITS.max_triples


def test_the_readme_states_the_real_default_limits():
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    stated = (
        f"at most {DEFAULT_LIMITS.max_bytes:,} bytes, {DEFAULT_LIMITS.max_triples:,} triples and "
        f"{DEFAULT_LIMITS.max_workloads:,} workloads"
    )
    assert stated in " ".join(readme.split())


def _many_workloads(count: int) -> str:
    lines = ["@prefix ip: <https://w3id.org/infra-policy#> .", "@prefix ex: <https://example.com/big/> ."]
    lines.append('ex:org a ip:Organization ; ip:name "Big" .')
    for i in range(count):
        lines.append(f"ex:org ip:hasWorkload ex:w{i} . ex:w{i} a ip:Workload ; ip:dataSensitivity ip:Public .")
    return "\n".join(lines) + "\n"


def test_the_triple_limit_stops_turtle_and_other_formats_and_a_flag_raises_it(run, tmp_path):
    turtle = tmp_path / "big.ttl"
    turtle.write_text(_many_workloads(40))  # 2 + 3 × 40 = 122 triples
    refused = run("validate", turtle, "--max-triples", "100")
    assert refused.exit_code == 2 and "more than 100 triples" in refused.output and "--max-triples" in refused.output
    assert run("validate", turtle, "--max-triples", "122").exit_code == 0
    ntriples = tmp_path / "big.nt"
    ntriples.write_text(Graph().parse(turtle).serialize(format="nt"))
    with pytest.raises(FactsError, match="more than 100 triples"):
        load_facts(ntriples, limits=Limits(max_triples=100))
    assert len(load_facts(ntriples, limits=Limits(max_triples=122)).graph) == 122


def test_the_byte_limit_is_checked_before_reading_and_a_flag_raises_it(run, tmp_path):
    size = MIXED.stat().st_size
    refused = run("evaluate", MIXED, "--max-bytes", size - 1)
    assert refused.exit_code == 2
    assert f"the file is {size:,} bytes, more than the limit of {size - 1:,} bytes" in refused.output
    assert run("evaluate", MIXED, "--max-bytes", size).exit_code == 0


def test_a_fifo_is_refused_at_once_rather_than_read_or_waited_on(tmp_path):
    # a FIFO has no size and, without a writer, would block the open forever
    fifo = tmp_path / "facts.ttl"
    os.mkfifo(fifo)
    with pytest.raises(FactsError, match="is a FIFO"):
        load_facts(fifo, limits=Limits(max_bytes=1000))


def test_deep_nesting_is_a_message_not_a_crash(run, tmp_path):
    turtle = tmp_path / "deep.ttl"
    turtle.write_text(
        "@prefix ip: <https://w3id.org/infra-policy#> .\n<https://e.com/a> ip:name " + "[ ip:name " * 5000
    )
    jsonld = tmp_path / "deep.jsonld"
    jsonld.write_text("[" * 100_000 + "]" * 100_000)
    for path in (turtle, jsonld):
        result = run("evaluate", path)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and "Traceback" not in result.output


# --- the libraries stay quiet ---------------------------------------------------------------


def _program() -> str:
    found = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert found
    return found


ODD_BUT_VALID = """\
@prefix ip: <https://w3id.org/infra-policy#> .
@prefix ex: <https://example.com/odd/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:org a ip:Organization ; ip:name "Odd" ;
  ex:founded "20x6-13-45"^^xsd:date ;
  ex:headcount "many"^^xsd:integer ;
  ex:ratio "1/3"^^xsd:decimal .
"""

ODD_AND_INVALID = """\
@prefix ip: <https://w3id.org/infra-policy#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.com/a> a ip:Organization ;
  ip:itStaffFTE "abc"^^xsd:decimal ;
  ip:latencyBudgetMs "2020-13-45"^^xsd:date ;
  ip:hasDataCenter "maybe"^^xsd:boolean .
"""


def test_ill_typed_literals_in_other_vocabularies_evaluate_with_nothing_on_stderr(tmp_path):
    path = tmp_path / "odd.ttl"
    path.write_text(ODD_BUT_VALID)
    result = subprocess.run([_program(), "evaluate", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("Odd: ")


def test_invalid_odd_input_prints_only_our_message(tmp_path):
    path = tmp_path / "odd.ttl"
    path.write_text(ODD_AND_INVALID)
    jsonld = tmp_path / "odd.jsonld"
    jsonld.write_text(
        json.dumps(
            {
                "@context": {"ip": IP, "xsd": "http://www.w3.org/2001/XMLSchema#"},
                "@id": "https://example.com/a b",
                "@type": "ip:Organization",
                "ip:itStaffFTE": {"@value": "lots", "@type": "xsd:decimal"},
            }
        )
    )
    for file in (path, jsonld):
        result = subprocess.run([_program(), "evaluate", str(file)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith(f"error: {file}")
        assert result.stderr.count("error: ") == 1
        for leak in ("Traceback", "WARNING", "Warning", "Failed to convert", "rdflib", "does not look like"):
            assert leak not in result.stderr, result.stderr


def test_control_characters_from_a_file_never_reach_the_terminal_raw(run, tmp_path):
    # An escape sequence in a quoted line or value could retitle or clear the terminal.
    path = tmp_path / "facts.ttl"
    for body in (
        '<https://e.com/a> a ip:Organization ; ip:name "\x1b]0;pwned\x07" ; ip:connectivity "\x1b[2J" .\n',
        '<https://e.com/a> a ip:Organization ; ip:name "\x1b]0;pwned\x07" ; ip:connectivity ip:W\x1b[2Jx .\n',
    ):
        path.write_text("@prefix ip: <https://w3id.org/infra-policy#> .\n" + body, encoding="utf-8")
        result = run("validate", path)
        assert result.exit_code == 2
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "\\x1b" in result.output
